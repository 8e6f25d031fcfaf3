/* SPDX-License-Identifier: MIT */
/*
 * The application already handles the signal the mechanism would pick
 * (SIGRTMAX): umb picks another and never touches the application's
 * handler.  With UMB_SIGNAL naming that signal, registration fails with
 * -EBUSY, and the handler is still the application's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); return 1; } } while (0)

static _Atomic int app_calls;

static void app_handler(int sig)
{
	(void)sig;
	app_calls++;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = app_handler }, now;
	int forced = argc > 1;
	pthread_t t;

	if (strcmp(umb_backend_name(), "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	if (!forced && (!getenv("UMB_LAZY") || getenv("UMB_SIGNAL"))) {
		/* The library prepares before main() unless UMB_LAZY=1. */
		setenv("UMB_LAZY", "1", 1);
		unsetenv("UMB_SIGNAL");
		execl("/proc/self/exe", argv[0], (char *)NULL);
		return 1;
	}
	EXPECT(!sigaction(SIGRTMAX, &sa, NULL));
	EXPECT(!pthread_create(&t, NULL, idle, NULL));
	if (forced) {
		EXPECT(umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == -EBUSY);
		EXPECT(umb_heavy() == -EBUSY);
	} else {
		EXPECT(umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0);
		for (int i = 0; i < 50; i++)
			EXPECT(umb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0);
	}
	EXPECT(!sigaction(SIGRTMAX, NULL, &now));
	EXPECT(now.sa_handler == app_handler && app_calls == 0);
	if (!forced) {
		setenv("UMB_SIGNAL", "RTMAX", 1);
		execl("/proc/self/exe", argv[0], "forced", (char *)NULL);
		return 1;
	}
	printf("an application's handler is never taken over\n");
	return 0;
}
