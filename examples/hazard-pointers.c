/* SPDX-License-Identifier: MIT */
/*
 * Hazard pointers whose readers pay no fence.
 *
 * The problem: a reader must announce which node it is about to use (its
 * hazard pointer) before the reclaimer decides the node is unused, which
 * classically costs the reader a full fence per access (store, fence,
 * re-load).  With an asymmetric fence pair the reader's fence is umb_light()
 * and the reclaimer, which runs rarely and handles many nodes at once, pays
 * with one umb_heavy() per scan:
 *
 *	reader					reclaimer
 *	p = shared				shared = new node
 *	hazard[me] = p				retire old node
 *	umb_light()				umb_heavy()
 *	if (shared != p) retry			scan every hazard[]
 *	use *p					free retired nodes not in it
 *	hazard[me] = NULL
 *
 * Either the reclaimer's scan sees the reader's hazard, or the reader's
 * re-load sees the new node and retries: umb_heavy() orders the reclaimer's
 * store before its scan on every thread and stands for the reader's fence.
 *
 * The check: a freed node is poisoned before it returns to the pool, and
 * readers verify each node they use is whole (magic and value pair), so a
 * use after free shows as poison.  Nodes are recycled through a pool rather
 * than free(), so the check itself never touches unmapped memory.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umb.h>

#define READERS 2
#define UPDATES 200000
#define RETIRE_BATCH 64
#define POOL (RETIRE_BATCH + READERS + 8)

#define LIVE 0x4c495645u
#define POISON 0xdeadbeefu

struct node {
	_Atomic uint32_t magic;
	_Atomic uint64_t value, check;	/* check == ~value while live */
	struct node *next_free;
};

static struct node pool[POOL], *free_list;
static _Atomic(struct node *) shared;
static _Alignas(64) _Atomic(struct node *) hazard[READERS][8];	/* one line each */
static _Atomic int stop, failed, readers_started;
static _Atomic unsigned long reads;

#define RELAXED memory_order_relaxed

static struct node *node_alloc(uint64_t value)
{
	struct node *n = free_list;

	free_list = n->next_free;
	atomic_store_explicit(&n->value, value, RELAXED);
	atomic_store_explicit(&n->check, ~value, RELAXED);
	atomic_store_explicit(&n->magic, LIVE, RELAXED);
	return n;
}

static void node_free(struct node *n)
{
	atomic_store_explicit(&n->magic, POISON, RELAXED);
	atomic_store_explicit(&n->value, POISON, RELAXED);
	n->next_free = free_list;
	free_list = n;
}

static void *reader(void *arg)
{
	_Atomic(struct node *) *my_hazard = &hazard[(long)arg][0];
	unsigned long n = 0;

	atomic_fetch_add(&readers_started, 1);
	while (!atomic_load_explicit(&stop, RELAXED)) {
		struct node *p = atomic_load_explicit(&shared, memory_order_acquire);

		atomic_store_explicit(my_hazard, p, RELAXED);
		umb_light();	/* pairs with umb_heavy() in reclaim() */
		if (atomic_load_explicit(&shared, memory_order_acquire) != p)
			continue;
		uint32_t magic = atomic_load_explicit(&p->magic, RELAXED);
		uint64_t value = atomic_load_explicit(&p->value, RELAXED);
		uint64_t check = atomic_load_explicit(&p->check, RELAXED);

		if (magic != LIVE || check != ~value) {
			fprintf(stderr, "reader used a freed node: magic %#x value %#llx\n",
				magic, (unsigned long long)value);
			atomic_store(&failed, 1);
		}
		/* Release: the reads above finish before the node may be freed. */
		atomic_store_explicit(my_hazard, NULL, memory_order_release);
		n++;
	}
	atomic_fetch_add(&reads, n);
	return NULL;
}

static int hazardous(const struct node *n)
{
	for (int r = 0; r < READERS; r++)
		if (atomic_load_explicit(&hazard[r][0], memory_order_acquire) == n)
			return 1;
	return 0;
}

/* Free every retired node no reader announced; keep the rest. */
static int reclaim(struct node **retired, int n)
{
	int kept = 0, ret = umb_heavy();	/* pairs with umb_light() in reader() */

	for (int i = 0; i < n; i++) {
		if (hazardous(retired[i]))
			retired[kept++] = retired[i];
		else
			node_free(retired[i]);
	}
	if (ret)
		fprintf(stderr, "umb_heavy: %s\n", strerror(-ret));
	return ret ? -1 : kept;
}

int main(void)
{
	pthread_t threads[READERS];
	struct node *retired[POOL];
	int n_retired = 0;

	for (int i = POOL - 1; i >= 0; i--) {
		pool[i].next_free = free_list;
		free_list = &pool[i];
	}
	atomic_store(&shared, node_alloc(0));
	for (long i = 0; i < READERS; i++)
		pthread_create(&threads[i], NULL, reader, (void *)i);
	while (atomic_load(&readers_started) < READERS)	/* update while they read */
		sched_yield();

	for (uint64_t v = 1; v <= UPDATES && !atomic_load(&failed); v++) {
		struct node *old = atomic_exchange(&shared, node_alloc(v));

		retired[n_retired++] = old;
		if (n_retired >= RETIRE_BATCH) {
			n_retired = reclaim(retired, n_retired);
			if (n_retired < 0) {
				atomic_store(&failed, 1);
				break;
			}
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(threads[i], NULL);
	if (atomic_load(&failed)) {
		fprintf(stderr, "hazard-pointers: FAILED\n");
		return 1;
	}
	printf("hazard-pointers: %d updates, %lu reads through %s, no use after free\n",
	       UPDATES, atomic_load(&reads), umb_backend_name());
	return 0;
}
