/* SPDX-License-Identifier: MIT */
/*
 * Fork and exec on the signal mechanism.  A forked child inherits every
 * registration and its barriers work, and it is a GLOBAL_EXPEDITED target
 * as the kernel's would be: while a thread of the child blocks the barrier
 * signal (raw syscall), the parent's GLOBAL_EXPEDITED reports the child's
 * -ETIMEDOUT.  After exec the image is no target any more: the same blocked
 * thread no longer affects GLOBAL_EXPEDITED.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)

#define GE MEMBARRIER_CMD_GLOBAL_EXPEDITED

static void *raw_blocker(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
	write(*(int *)arg, "r", 1);
	for (;;)
		pause();
	return NULL;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* Start a thread that blocks the barrier signal; it says 'r' on fd. */
static void block_in_a_thread(int fd)
{
	static int wfd;
	pthread_t t;

	wfd = fd;
	EXPECT(!pthread_create(&t, NULL, raw_blocker, &wfd));
}

static void child_after_fork(int fd, int regs)
{
	static const int cmds[] = { MEMBARRIER_CMD_PRIVATE_EXPEDITED,
		MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
		MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ };
	pthread_t t;

	EXPECT(umb_membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0) == regs);
	EXPECT(!pthread_create(&t, NULL, idle, NULL));
	for (int i = 0; i < 3; i++)
		for (int n = 0; n < 20; n++)
			EXPECT(umb_membarrier(cmds[i], 0, 0) == 0);
	EXPECT(umb_membarrier(GE, 0, 0) == 0);
	block_in_a_thread(fd);
	for (;;)
		pause();
}

static pid_t start(int *fd, int exec_it)
{
	int p[2];
	char c, arg[16];
	pid_t pid;

	EXPECT(!pipe(p));
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (exec_it) {
			snprintf(arg, sizeof(arg), "%d", p[1]);
			execl("/proc/self/exe", "test-signal-fork-exec", "exec", arg,
			      (char *)NULL);
			_exit(2);
		}
		child_after_fork(p[1],
			umb_membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0));
	}
	close(p[1]);
	EXPECT(read(p[0], &c, 1) == 1);
	*fd = p[0];
	return pid;
}

static void stop(pid_t pid, int fd)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
}

int main(int argc, char **argv)
{
	static const int regs[] = { GE << 1,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ };
	int fd;
	pid_t pid;

	if (strcmp(umb_backend_name(), "signal") ||
	    strcmp(umb_command_backend(GE), "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	if (argc == 3) {	/* the exec'ed image */
		EXPECT(umb_membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0) == 0);
		block_in_a_thread(atoi(argv[2]));
		for (;;)
			pause();
	}
	for (int i = 0; i < 4; i++)
		EXPECT(umb_membarrier(regs[i], 0, 0) == 0);

	pid = start(&fd, 0);
	EXPECT(umb_membarrier(GE, 0, 0) == -ETIMEDOUT);
	stop(pid, fd);
	EXPECT(umb_membarrier(GE, 0, 0) == 0);

	pid = start(&fd, 1);
	EXPECT(umb_membarrier(GE, 0, 0) == 0);
	stop(pid, fd);
	printf("forked child: registered and a GE target; exec'ed image: neither\n");
	return 0;
}
