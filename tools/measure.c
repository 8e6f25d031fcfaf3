/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "barrier.h"
#include "measure.h"

const char *const load_kind_name[2] = { "running", "sleeping" };

struct load {
	int n;
	enum load_kind kind;
	const struct load_hooks *hooks;
	_Atomic int started;
	_Atomic int stop;	/* sleeping threads wait on this word */
	pthread_t *threads;
	_Atomic pid_t *tids;
};

struct load_arg {
	struct load *load;
	int index;
};

static void *load_thread(void *p)
{
	struct load_arg *arg = p;
	struct load *l = arg->load;
	int index = arg->index;

	free(arg);
	if (l->hooks && l->hooks->enter)
		l->hooks->enter();
	atomic_store(&l->tids[index], (pid_t)syscall(SYS_gettid));
	atomic_fetch_add(&l->started, 1);
	if (l->kind == LOAD_RUNNING) {
		while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
			if (l->hooks && l->hooks->spin)
				l->hooks->spin();
			else
				cpu_relax();
		}
	} else {
		/* Blocked in the kernel; a signal wakes it with EINTR, so loop. */
		while (!atomic_load(&l->stop))
			syscall(SYS_futex, &l->stop, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	}
	if (l->hooks && l->hooks->leave)
		l->hooks->leave();
	return NULL;
}

struct load *load_start(int n, enum load_kind kind, const struct load_hooks *hooks)
{
	struct load *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->kind = kind;
	l->hooks = hooks;
	l->threads = calloc((size_t)n + 1, sizeof(*l->threads));
	l->tids = calloc((size_t)n + 1, sizeof(*l->tids));
	if (!l->threads || !l->tids)
		goto fail;
	for (; l->n < n; l->n++) {
		struct load_arg *arg = malloc(sizeof(*arg));
		int err;

		if (!arg)
			goto fail;
		arg->load = l;
		arg->index = l->n;
		err = pthread_create(&l->threads[l->n], NULL, load_thread, arg);
		if (err) {
			free(arg);
			errno = err;
			goto fail;
		}
	}
	while (atomic_load(&l->started) < n)
		sched_yield();
	return l;
fail:
	load_stop(l);
	return NULL;
}

int load_threads(const struct load *l)
{
	return l->n;
}

pid_t load_tid(const struct load *l, int i)
{
	return atomic_load(&l->tids[i]);
}

void load_stop(struct load *l)
{
	int saved_errno = errno;

	atomic_store(&l->stop, 1);
	syscall(SYS_futex, &l->stop, FUTEX_WAKE_PRIVATE, l->n, NULL, NULL, 0);
	for (int i = 0; i < l->n; i++)
		pthread_join(l->threads[i], NULL);
	free(l->threads);
	free((void *)l->tids);
	free(l);
	errno = saved_errno;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t percentile(uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	rank = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[rank < n ? rank : n - 1];
}
