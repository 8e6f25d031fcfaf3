/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks share: background threads that either run (spin on a
 * CPU) or sleep (blocked in the kernel), so a barrier's cost can be measured
 * against both, and percentiles of a sample.
 */
#ifndef UMB_TOOLS_MEASURE_H
#define UMB_TOOLS_MEASURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum load_kind { LOAD_RUNNING, LOAD_SLEEPING };

extern const char *const load_kind_name[2];	/* "running", "sleeping" */

/* Optional per-thread hooks, e.g. to register each thread as an RCU reader. */
struct load_hooks {
	void (*enter)(void);	/* once, when the thread starts */
	void (*leave)(void);	/* once, before it exits */
	void (*spin)(void);	/* a running thread's loop body (default: pause) */
};

struct load;

/* Starts n threads of one kind and returns once each has run its enter
 * hook; NULL (errno set) if a thread cannot be created. */
struct load *load_start(int n, enum load_kind kind, const struct load_hooks *hooks);
int load_threads(const struct load *l);
pid_t load_tid(const struct load *l, int i);	/* kernel thread id */
void load_stop(struct load *l);

/* The p-th percentile (0..100, nearest rank) of v[0..n); sorts v. */
uint64_t percentile(uint64_t *v, size_t n, double p);

#endif
