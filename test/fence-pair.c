/* SPDX-License-Identifier: MIT */
/*
 * The fence pair from many threads at once: PAIRS asymmetric Dekker locks,
 * each with a fast side that uses only umb_light() and a slow side that uses
 * umb_heavy(), all slow sides issuing heavy barriers concurrently.
 *
 *   fast:  fast_wants = 1; umb_light(); if (!slow_wants) enter;
 *   slow:  slow_wants = 1; umb_heavy(); if (!fast_wants) enter;
 *
 * Both entering at once would need both loads to miss the other side's
 * store: the store-buffering outcome umb_heavy() forbids.  Checks every
 * umb_heavy() returns 0 and no critical section is ever shared.  (Whether
 * the harness could see the outcome without the barrier is the litmus
 * tests' business; this one checks concurrency and return values.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <umb.h>

#include "barrier.h"

#define PAIRS 4
#define FAST_ROUNDS 200000
#define SLOW_ROUNDS 2000

struct lock {
	int fast_wants, slow_wants;
	_Atomic int inside;
	_Atomic long entered, shared;
	int heavy_error;
} __attribute__((aligned(128)));

static struct lock locks[PAIRS];

static void critical_section(struct lock *l)
{
	if (atomic_fetch_add(&l->inside, 1))
		atomic_fetch_add(&l->shared, 1);
	atomic_fetch_add(&l->entered, 1);
	atomic_fetch_sub(&l->inside, 1);
}

static void *fast_side(void *arg)
{
	struct lock *l = arg;

	for (int i = 0; i < FAST_ROUNDS; i++) {
		WRITE_ONCE(l->fast_wants, 1);
		umb_light();		/* pairs with umb_heavy() in slow_side() */
		if (!READ_ONCE(l->slow_wants))
			critical_section(l);
		smp_store_release(&l->fast_wants, 0);
	}
	return NULL;
}

static void *slow_side(void *arg)
{
	struct lock *l = arg;

	for (int i = 0; i < SLOW_ROUNDS; i++) {
		int ret;

		WRITE_ONCE(l->slow_wants, 1);
		ret = umb_heavy();	/* pairs with umb_light() in fast_side() */
		if (ret && !l->heavy_error)
			l->heavy_error = ret;
		if (!READ_ONCE(l->fast_wants))
			critical_section(l);
		smp_store_release(&l->slow_wants, 0);
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[2 * PAIRS];
	int failed = 0;

	for (int p = 0; p < PAIRS; p++) {
		pthread_create(&threads[2 * p], NULL, fast_side, &locks[p]);
		pthread_create(&threads[2 * p + 1], NULL, slow_side, &locks[p]);
	}
	for (int t = 0; t < 2 * PAIRS; t++)
		pthread_join(threads[t], NULL);
	for (int p = 0; p < PAIRS; p++) {
		struct lock *l = &locks[p];

		printf("pair %d: %ld entries, %ld shared, umb_heavy() %d (%s)\n", p,
		       atomic_load(&l->entered), atomic_load(&l->shared),
		       l->heavy_error, umb_backend_name());
		failed |= l->heavy_error || atomic_load(&l->shared);
	}
	return failed;
}
