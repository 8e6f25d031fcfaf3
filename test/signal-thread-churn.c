/* SPDX-License-Identifier: MIT */
/*
 * Threads created and exiting in a loop (joinable and detached, and a main
 * thread that leaves through pthread_exit and stays a zombie) while other
 * threads issue barriers: no hang, no crash, every barrier 0.
 * Usage: test-signal-thread-churn [ROUNDS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umb.h>

#define BARRIER_THREADS 2

static long rounds = 300;
static _Atomic int stop, failures;

static void *short_lived(void *arg)
{
	return arg;
}

static void *churn(void *arg)
{
	pthread_attr_t detached;

	(void)arg;
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	while (!stop) {
		pthread_t t[4];

		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], i & 1 ? &detached : NULL,
				       short_lived, NULL);
		for (int i = 0; i < 4; i += 2)
			pthread_join(t[i], NULL);
	}
	pthread_attr_destroy(&detached);
	return NULL;
}

static void *barriers(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		int r = umb_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);

		if (r) {
			fprintf(stderr, "barrier %ld: %d\n", i, r);
			failures++;
		}
	}
	return NULL;
}

static void *driver(void *arg)
{
	pthread_t c[2], b[BARRIER_THREADS];

	(void)arg;
	for (int i = 0; i < 2; i++)
		pthread_create(&c[i], NULL, churn, NULL);
	for (int i = 0; i < BARRIER_THREADS; i++)
		pthread_create(&b[i], NULL, barriers, NULL);
	for (int i = 0; i < BARRIER_THREADS; i++)
		pthread_join(b[i], NULL);
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	printf("%ld barriers x %d threads amid thread churn: %d failures\n",
	       rounds, BARRIER_THREADS, failures);
	exit(failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	pthread_t d;

	if (argc > 1)
		rounds = atol(argv[1]);
	if (umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0)) {
		fprintf(stderr, "REGISTER_PRIVATE_EXPEDITED failed\n");
		return 1;
	}
	pthread_create(&d, NULL, driver, NULL);
	pthread_exit(NULL);	/* the main thread becomes a zombie task */
}
