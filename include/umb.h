/* SPDX-License-Identifier: MIT */
/*
 * umb: membarrier(2) for user space.
 *
 * umb_membarrier() is the membarrier(2) ABI: the same MEMBARRIER_CMD_* values,
 * flags, cpu_id rules and registration rules, answered by the kernel where it
 * has the command and by a user-space mechanism with the same guarantee where
 * it has not.  It returns >= 0 on success and -errno on failure; no umb
 * function sets errno.
 */
#ifndef UMB_H
#define UMB_H

#include <linux/membarrier.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMB_VERSION_MAJOR 0
#define UMB_VERSION_MINOR 1
#define UMB_VERSION_PATCH 0
#define UMB_VERSION_NUMBER \
	(UMB_VERSION_MAJOR * 10000 + UMB_VERSION_MINOR * 100 + UMB_VERSION_PATCH)

/* Linux 6.3 added GET_REGISTRATIONS; older uapi headers (Debian 12's) lack it. */
#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

/* The membarrier(2) ABI.  Returns >= 0, or -errno. */
int umb_membarrier(int cmd, unsigned int flags, int cpu_id);

/*
 * The asymmetric fence pair.  umb_heavy() is a process-wide memory barrier
 * (MEMBARRIER_CMD_PRIVATE_EXPEDITED, registered by the library for its own
 * use, independent of what the caller registered through umb_membarrier()).
 * umb_light() is what the other side needs to pair with it: a compiler
 * barrier when umb_heavy() interrupts every thread, a full fence when it
 * cannot (then umb_heavy() issues a full fence too and returns its error).
 */
int umb_heavy(void);

/* Nonzero when umb_light() must be a full fence; fixed before main() runs. */
extern int umb_light_needs_fence;

/*
 * ThreadSanitizer sees no barrier in umb_light() (a compiler barrier) and
 * none in umb_heavy() (another thread's interrupt), so code that the pair
 * makes correct would be reported as racing.  umb tells it what the pair
 * orders: umb_light() releases into umb_tsan_light_sync and acquires from
 * umb_tsan_heavy_sync; umb_heavy() releases into the second before its
 * barrier and acquires from the first after it.  Two umb_light() calls
 * never synchronize with each other, as in fact they do not.  TSan orders
 * by real time, so a heavy barrier that lands between a thread's access
 * and its next umb_light() can still be reported: call umb_light() where
 * the algorithm needs the pairing, as it must anyway.
 */
#if defined(__SANITIZE_THREAD__)
#define UMB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UMB_TSAN 1
#endif
#endif
#ifdef UMB_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif
extern char umb_tsan_light_sync, umb_tsan_heavy_sync;

static inline void umb_light(void)
{
#ifdef UMB_TSAN
	__tsan_release(&umb_tsan_light_sync);	/* acquired by umb_heavy() */
#endif
	if (__builtin_expect(umb_light_needs_fence, 0))
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
#ifdef UMB_TSAN
	__tsan_acquire(&umb_tsan_heavy_sync);	/* released by umb_heavy() */
#endif
}

/* PRIVATE_EXPEDITED_SYNC_CORE, registering on first use. */
int umb_sync_core(void);

/* PRIVATE_EXPEDITED_RSEQ on every CPU (cpu < 0) or on one, registering on first use. */
int umb_rseq_fence(int cpu);

/* Name of the mechanism serving PRIVATE_EXPEDITED ("kernel", "mprotect",
 * "signal"), or "none" when UMB_BACKEND names no mechanism or none works. */
const char *umb_backend_name(void);

/* Name of the mechanism serving one barrier command, or NULL if none does. */
const char *umb_command_backend(int cmd);

/* Library version as UMB_VERSION_NUMBER computes it, for run-time checks. */
int umb_version(void);

#ifdef __cplusplus
}
#endif

#endif /* UMB_H */
