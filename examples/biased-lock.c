/* SPDX-License-Identifier: MIT */
/*
 * A biased lock: one owner thread takes it constantly, other threads rarely.
 *
 * The problem: a lock whose owner pays an atomic read-modify-write or a full
 * fence on every acquisition, although contention almost never happens.
 * With an asymmetric fence pair the owner's side is a plain store, a
 * compiler barrier (umb_light()) and a plain load; the rare contender pays
 * for both sides with umb_heavy(), a barrier on every thread of the process.
 * It is Dekker's algorithm with the owner's fence moved to the contender:
 *
 *	owner					contender
 *	owner_wants = 1				contender_wants = 1
 *	umb_light()				umb_heavy()
 *	if (!contender_wants) enter		wait while owner_wants; enter
 *	else { owner_wants = 0; wait while
 *	       contender_wants; retry }
 *
 * umb_heavy() makes every thread run a full barrier, so either the owner's
 * store is visible to the contender's load, or the contender's store is
 * visible to the owner's load: never both missed.  Contenders first take an
 * ordinary mutex among themselves.
 *
 * The check: the critical section reads and writes a counter and an
 * occupant word with plain (relaxed) accesses and verifies nobody else is
 * inside; at the end the counter equals the number of acquisitions.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <umb.h>

#define OWNER_ROUNDS 2000000
#define CONTENDERS 2

static _Atomic int owner_wants, contender_wants, occupant, stop, failed;
static _Atomic unsigned long counter, contender_rounds;
static pthread_mutex_t contenders = PTHREAD_MUTEX_INITIALIZER;

#define RELAXED memory_order_relaxed

static void critical_section(int me)
{
	if (atomic_load_explicit(&occupant, RELAXED)) {
		atomic_store(&failed, 1);
		return;
	}
	atomic_store_explicit(&occupant, me, RELAXED);
	/* A plain increment: two threads inside lose an update. */
	atomic_store_explicit(&counter, atomic_load_explicit(&counter, RELAXED) + 1,
			      RELAXED);
	if (atomic_load_explicit(&occupant, RELAXED) != me)
		atomic_store(&failed, 1);
	atomic_store_explicit(&occupant, 0, RELAXED);
}

static void owner_lock(void)
{
	for (;;) {
		atomic_store_explicit(&owner_wants, 1, RELAXED);
		umb_light();	/* pairs with umb_heavy() in contender_lock() */
		if (!atomic_load_explicit(&contender_wants, memory_order_acquire))
			return;
		/* Back off until the contender is done. */
		atomic_store_explicit(&owner_wants, 0, memory_order_release);
		while (atomic_load_explicit(&contender_wants, memory_order_acquire))
			;
	}
}

static void owner_unlock(void)
{
	atomic_store_explicit(&owner_wants, 0, memory_order_release);
}

static int contender_lock(void)
{
	int ret;

	pthread_mutex_lock(&contenders);
	atomic_store_explicit(&contender_wants, 1, RELAXED);
	ret = umb_heavy();	/* pairs with umb_light() in owner_lock() */
	while (atomic_load_explicit(&owner_wants, memory_order_acquire))
		;
	return ret;
}

static void contender_unlock(void)
{
	atomic_store_explicit(&contender_wants, 0, memory_order_release);
	pthread_mutex_unlock(&contenders);
}

static void *contender(void *arg)
{
	int me = (int)(long)arg;

	while (!atomic_load(&stop)) {
		int ret = contender_lock();

		if (ret) {
			fprintf(stderr, "umb_heavy: %s\n", strerror(-ret));
			atomic_store(&failed, 1);
		}
		critical_section(me);
		contender_unlock();
		atomic_fetch_add(&contender_rounds, 1);
		nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);	/* rare */
	}
	return NULL;
}

int main(void)
{
	pthread_t threads[CONTENDERS];

	for (long i = 0; i < CONTENDERS; i++)
		pthread_create(&threads[i], NULL, contender, (void *)(i + 2));
	for (int i = 0; i < OWNER_ROUNDS && !atomic_load(&failed); i++) {
		owner_lock();
		critical_section(1);
		owner_unlock();
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < CONTENDERS; i++)
		pthread_join(threads[i], NULL);

	unsigned long expected = OWNER_ROUNDS + atomic_load(&contender_rounds);

	if (atomic_load(&failed) || atomic_load(&counter) != expected) {
		fprintf(stderr, "biased-lock: FAILED: mutual exclusion broken "
			"(counter %lu, acquisitions %lu)\n", atomic_load(&counter), expected);
		return 1;
	}
	printf("biased-lock: %d owner and %lu contender acquisitions through %s, "
	       "mutual exclusion held\n", OWNER_ROUNDS, atomic_load(&contender_rounds),
	       umb_backend_name());
	return 0;
}
