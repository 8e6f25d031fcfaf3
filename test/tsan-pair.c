/* SPDX-License-Identifier: MIT */
/*
 * What ThreadSanitizer is told about the umb_light()/umb_heavy() pair
 * (include/umb.h).  A grace-period pattern (membarrier RCU's): the reader
 * publishes that it is inside with a relaxed store and umb_light(), reads
 * plain data through a pointer, and says it left; the writer swaps the
 * pointer, waits out the readers between two umb_heavy() calls, and then
 * rewrites the old object with plain stores.  Only the asymmetric pair
 * orders the reader's plain loads before the writer's plain stores, so
 * without the annotations TSan reports a race here (and exits non-zero);
 * with them it must not.  In every build the reader checks it never sees
 * an object being rewritten (a != b).
 *
 *   reader                             writer
 *   inside = 1                         new->a = new->b = i
 *   umb_light()                        ptr = new          (release)
 *   p = ptr           (acquire)        umb_heavy()
 *   p->a, p->b        (plain)          wait: !inside or sections moved
 *   umb_light()                        umb_heavy()
 *   sections++; inside = 0             old->a = old->b = -1  (plain)
 */
#include <pthread.h>
#include <stdio.h>

#include <umb.h>

#include "barrier.h"

#define ROUNDS 2000

struct obj {
	long a, b;
};

static struct obj objs[2];
static struct obj *ptr = &objs[0];
static int inside, sections, stop;
static long torn;

static void *reader(void *arg)
{
	(void)arg;
	while (!smp_load_acquire(&stop)) {
		struct obj *p;

		WRITE_ONCE(inside, 1);
		umb_light();	/* pairs with the first umb_heavy() in main() */
		p = smp_load_acquire(&ptr);
		if (p->a != p->b)
			torn++;
		umb_light();	/* pairs with the second umb_heavy() in main() */
		WRITE_ONCE(sections, sections + 1);
		WRITE_ONCE(inside, 0);
	}
	return NULL;
}

int main(void)
{
	pthread_t tid;
	int ret = 0;

	pthread_create(&tid, NULL, reader, NULL);
	while (!READ_ONCE(sections))
		cpu_relax();	/* the reader runs before the first swap */
	for (long i = 1; i <= ROUNDS; i++) {
		struct obj *old = READ_ONCE(ptr), *new = &objs[i & 1];
		int seen;

		new->a = new->b = i;
		smp_store_release(&ptr, new);
		ret |= umb_heavy();	/* readers inside now saw inside = 1 */
		seen = READ_ONCE(sections);
		while (READ_ONCE(inside) && READ_ONCE(sections) == seen)
			cpu_relax();
		ret |= umb_heavy();	/* their loads of *old are done */
		old->a = -1;
		old->b = -2;		/* a reader seeing this is torn */
	}
	smp_store_release(&stop, 1);
	pthread_join(tid, NULL);
	printf("%d rounds, %ld torn reads, umb_heavy() %d (%s)\n", ROUNDS, torn,
	       ret, umb_backend_name());
	return torn || ret;
}
