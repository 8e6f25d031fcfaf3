/* SPDX-License-Identifier: MIT */
/*
 * GLOBAL_EXPEDITED between processes through the registry.  A registered
 * process answers; once killed with SIGKILL its slot stays behind, and the
 * next callers neither hang nor fail.  A registered process killed while a
 * GLOBAL_EXPEDITED waits for it (its round is stuck on a thread that blocks
 * the signal) counts as ordered: the caller returns 0.
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

	(void)arg;
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
	for (;;)
		pause();
	return NULL;
}

/* A registered process (exec'ed: its own environment); says 'r' on fd. */
static pid_t start_target(int stuck)
{
	int p[2];
	char c, fd[16];
	pid_t pid;

	EXPECT(!pipe(p));
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		snprintf(fd, sizeof(fd), "%d", p[1]);
		/* A long bound: its rounds stay stuck until it is killed. */
		setenv("UMB_SIGNAL_TIMEOUT_MS", "600000", 1);
		execl("/proc/self/exe", "test-signal-ge-kill", "target", fd,
		      stuck ? "stuck" : "ok", (char *)NULL);
		_exit(2);
	}
	close(p[1]);
	EXPECT(read(p[0], &c, 1) == 1);
	close(p[0]);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void *caller(void *arg)
{
	*(int *)arg = umb_membarrier(GE, 0, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	pid_t pid;
	int ret = 1;

	if (strcmp(umb_command_backend(GE) ? umb_command_backend(GE) : "", "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	if (argc == 4) {	/* a target */
		EXPECT(umb_membarrier(GE << 1, 0, 0) == 0);
		if (!strcmp(argv[3], "stuck"))
			EXPECT(!pthread_create(&t, NULL, raw_blocker, NULL));
		EXPECT(write(atoi(argv[2]), "r", 1) == 1);
		for (;;)
			pause();
	}
	alarm(60);
	pid = start_target(0);
	EXPECT(umb_membarrier(GE, 0, 0) == 0);
	kill_and_reap(pid);
	for (int i = 0; i < 3; i++)
		EXPECT(umb_membarrier(GE, 0, 0) == 0);

	pid = start_target(1);
	EXPECT(!pthread_create(&t, NULL, caller, &ret));
	usleep(100 * 1000);
	kill_and_reap(pid);
	pthread_join(t, NULL);
	EXPECT(ret == 0);
	EXPECT(umb_membarrier(GE, 0, 0) == 0);
	printf("GLOBAL_EXPEDITED across processes; killed targets cost nothing\n");
	return 0;
}
