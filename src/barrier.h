/* SPDX-License-Identifier: MIT */
/*
 * Kernel names over <stdatomic.h>.  Every ordering-critical line of umb uses
 * these, so the pairing comments read like the kernel's.
 *
 * READ_ONCE/WRITE_ONCE are relaxed atomic accesses: no tearing, no fusing,
 * no invented loads, and visible to the sanitizers as atomics.
 */
#ifndef UMB_BARRIER_H
#define UMB_BARRIER_H

#include <stdatomic.h>

#define barrier()	atomic_signal_fence(memory_order_seq_cst)
#define smp_mb()	atomic_thread_fence(memory_order_seq_cst)
#define smp_rmb()	atomic_thread_fence(memory_order_acquire)
#define smp_wmb()	atomic_thread_fence(memory_order_release)

#define UMB_ATOMIC_PTR(p)	((_Atomic __typeof__(*(p)) *)(p))

#define READ_ONCE(x) \
	atomic_load_explicit(UMB_ATOMIC_PTR(&(x)), memory_order_relaxed)
#define WRITE_ONCE(x, v) \
	atomic_store_explicit(UMB_ATOMIC_PTR(&(x)), (v), memory_order_relaxed)
#define smp_load_acquire(p) \
	atomic_load_explicit(UMB_ATOMIC_PTR(p), memory_order_acquire)
#define smp_store_release(p, v) \
	atomic_store_explicit(UMB_ATOMIC_PTR(p), (v), memory_order_release)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	barrier();
#endif
}

#endif /* UMB_BARRIER_H */
