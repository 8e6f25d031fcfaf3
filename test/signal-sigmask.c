/* SPDX-License-Identifier: MIT */
/*
 * A thread that blocks every signal through pthread_sigmask() or
 * sigprocmask() is still reached by the signal mechanism's barrier: umb's
 * wrappers never block the barrier signal.  (Run with UMB_BACKEND=signal;
 * were the signal blocked, every barrier would fail with -ETIMEDOUT.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); return 1; } } while (0)

static _Atomic int stop, blocked;

static void *blocker(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	if (arg)
		sigprocmask(SIG_BLOCK, &all, NULL);
	else
		pthread_sigmask(SIG_SETMASK, &all, NULL);
	blocked++;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	sigset_t now;

	if (strcmp(umb_backend_name(), "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	EXPECT(!pthread_create(&t[0], NULL, blocker, NULL));
	EXPECT(!pthread_create(&t[1], NULL, blocker, (void *)1));
	while (blocked < 2)
		usleep(1000);
	EXPECT(umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0);
	for (int i = 0; i < 200; i++) {
		EXPECT(umb_heavy() == 0);
		EXPECT(umb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0);
	}
	/* The wrappers still block everything else, and check their input. */
	sigfillset(&now);
	EXPECT(pthread_sigmask(SIG_SETMASK, &now, NULL) == 0);
	EXPECT(pthread_sigmask(SIG_SETMASK, NULL, &now) == 0);
	EXPECT(sigismember(&now, SIGUSR1) && sigismember(&now, SIGRTMIN));
	EXPECT(pthread_sigmask(12345, &now, NULL) == EINVAL);
	errno = 0;
	EXPECT(sigprocmask(12345, &now, NULL) == -1 && errno == EINVAL);
	stop = 1;
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("barriers reach threads that block every signal via the libc calls\n");
	return 0;
}
