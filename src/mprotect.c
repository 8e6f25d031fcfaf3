/* SPDX-License-Identifier: MIT */
/*
 * The mprotect mechanism: PRIVATE_EXPEDITED through a TLB shootdown.
 *
 * A barrier dirties a private page and then takes write access away from it
 * (RW -> PROT_NONE), under a lock.  The page's PTE was present, accessed and
 * dirty, so any CPU may cache it and the kernel must invalidate it in every
 * TLB that can hold the process's translations before mprotect() returns.
 * On x86-64 Linux it does that with interrupts: flush_tlb_mm_range() bumps
 * the mm's tlb_gen (a locked RMW: full barrier), then native_flush_tlb_multi()
 * sends an IPI to each CPU of mm_cpumask() whose current mm is ours and
 * waits for each to acknowledge; CPUs in lazy-TLB mode (running idle or a
 * kthread with our mm still loaded) are skipped (tlb_is_not_lazy(), now
 * should_flush_tlb()).  On
 * the target CPU the IPI is a full barrier: it is taken between two
 * instructions of the interrupted thread, the handler
 * (flush_smp_call_function_queue) does a locked xchg (llist_del_all) before it
 * writes the acknowledgement, and the thread resumes through IRET, a
 * serializing instruction.  That is what the kernel's ipi_mb() gives.
 *
 * Scenario A: thread T runs on CPU1 during the barrier.  Store buffering,
 * forbidden outcome r1 == 0 && r2 == 0:
 *
 *   caller, CPU0                          T, CPU1
 *   x = 1                                 y = 1
 *   smp_mb()                  [a]         umb_light() (compiler barrier)
 *   page = RW; *page += 1                 ...
 *   mprotect(page, PROT_NONE):         <- IPI between any two instructions:
 *     inc_mm_tlb_gen (locked RMW)          xchg in the handler        [b]
 *     IPI CPU1, wait for its ack   <---    ack store; IRET (serializing)
 *   smp_mb()                  [c]         r2 = x
 *   r1 = y
 *
 *   [a] pairs with [b]: x = 1 is visible before the IPI is sent, so any load
 *   of T after the interrupt sees it.  [b] pairs with [c]: every store of T
 *   before the interrupt leaves the store buffer before the ack (x86 stores
 *   are seen in order), and the caller reads y only after seeing the ack.
 *   Wherever the interrupt falls in T, r1 or r2 is 1.
 *
 * Scenario B: T is not running (preempted, sleeping): CPU1 gets no IPI, or is
 * lazy and is skipped.  The context switch away from T had the scheduler's
 * full barriers (rq lock, smp_mb__after_spinlock); the switch back to T goes
 * through switch_mm_irqs_off(), which marks CPU1 in mm_cpumask/loaded_mm,
 * executes smp_mb() and reads tlb_gen:
 *
 *   caller, CPU0                          CPU1, switching to T
 *   x = 1; smp_mb()           [a]         loaded_mm = our mm
 *   inc_mm_tlb_gen (locked)   [d]         smp_mb()                   [e]
 *   read loaded_mm of CPU1                read tlb_gen -> flush if stale
 *                                         return to T; r2 = x
 *
 *   [d] pairs with [e]: either the caller sees CPU1 running our mm and
 *   interrupts it (scenario A), or CPU1 sees the new tlb_gen, and T's
 *   loads come after [e], after x = 1.  T's stores before it stopped
 *   running precede the switch-out barrier, before the caller's [c].
 *
 * Scenario C, the page is not resident: the barrier's write under the lock
 * makes the PTE present, accessed and dirty.  If reclaim, migration or KSM
 * takes it away before the downgrade, they cleared it under the PTE lock and
 * flushed (or left a batched flush that change_pte_range() runs through
 * flush_tlb_batched_pending() under the same lock) the same CPUs, after our
 * write and before our mprotect() returns: the IPIs happen all the same.
 * mlock() keeps that path cold but is not needed for correctness, so a
 * refused mlock (RLIMIT_MEMLOCK 0, EPERM in containers: .NET's
 * FlushProcessWriteBuffers treated that as fatal and failed to start under
 * systemd-nspawn) is ignored here.  The write is what matters: without it
 * the PTE may be absent or never accessed, and x86's pte_needs_flush() lets
 * mprotect() skip the flush of such a PTE.
 *
 * Where this is no barrier, so probe() refuses:
 *  - arm64 (and every other architecture here): TLBI ...IS broadcasts the
 *    invalidation in hardware; no other CPU executes anything, no barrier.
 *  - x86-64 CPUs with AMD INVLPGB: Linux 6.15+ gives processes active on
 *    several CPUs a global ASID and flushes with INVLPGB/TLBSYNC, no IPI.
 *    Refused whenever CPUID reports the instruction, whatever the kernel.
 *  - gVisor: the Sentry implements mprotect() on its own address-space
 *    model; it interrupts no application thread.
 * Assumed, not checked: under a hypervisor with paravirtual TLB flush (KVM
 * PV, Hyper-V) a vCPU that is not interrupted is not running and gets the
 * flush at its next VM entry, scenario B with the hypervisor's barriers.
 *
 * What a user must not expect from it: only PRIVATE_EXPEDITED.  No
 * SYNC_CORE (a thread that was not running returns to user mode through
 * SYSRET, which does not serialize the core), no RSEQ (a TLB IPI aborts no
 * rseq critical section), no GLOBAL*, no FLAG_CPU.  Each barrier costs two
 * mprotect() calls, which take the process's mmap lock for writing: page
 * faults and mmap() of other threads wait meanwhile.  umb_heavy() must not
 * be called from a signal handler that interrupted umb_heavy() (the lock).
 */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "backend.h"
#include "barrier.h"

static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long *flush_page;	/* PROT_NONE between barriers */
static size_t page_size;

#if defined(__x86_64__)
/* CPUID Fn8000_0008 EBX bit 3: the CPU has INVLPGB (broadcast invalidation). */
static int cpu_has_invlpgb(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) || eax < 0x80000008)
		return 0;
	__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx);
	return (ebx >> 3) & 1;
}
#endif

static unsigned int mprotect_probe(const char *why[UMB_NCMDS])
{
	const char *reason = NULL;

#if defined(__x86_64__)
	if (umb_in_gvisor())
		reason = "gVisor: its memory manager runs mprotect, no IPI";
	else if (cpu_has_invlpgb())
		reason = "CPU has INVLPGB: Linux may flush TLBs without IPIs";
#elif defined(__aarch64__)
	reason = "arm64 broadcasts TLB invalidation in hardware, no IPI";
#else
	reason = "x86-64 only: TLB shootdown is no barrier proven here";
#endif
	for (int i = 0; i < UMB_NCMDS; i++)
		if (reason)
			why[i] = reason;
		else if (i != UMB_CMD_PRIVATE_EXPEDITED)
			why[i] = "serves PRIVATE_EXPEDITED only";
	return reason ? 0 : 1u << UMB_CMD_PRIVATE_EXPEDITED;
}

/* A fork while another thread holds the lock must not leave it held. */
static void lock_for_fork(void)
{
	pthread_mutex_lock(&flush_lock);
}

static void unlock_after_fork(void)
{
	pthread_mutex_unlock(&flush_lock);
}

/* Called under umb's registration lock, once (again after fork is harmless). */
static int mprotect_prepare(int cmd)
{
	int saved_errno = errno, ret = 0;
	void *page;

	if (cmd != MEMBARRIER_CMD_PRIVATE_EXPEDITED)
		return -EINVAL;
	if (flush_page)
		return 0;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		ret = -errno;
	} else if ((ret = pthread_atfork(lock_for_fork, unlock_after_fork,
					 unlock_after_fork))) {
		munmap(page, page_size);
		ret = -ret;
	} else {
		*(volatile unsigned long *)page = 1;
		mlock(page, page_size);	/* a hint: see scenario C */
		/* Another hint: VM_WIPEONFORK keeps the VMA from merging with
		 * an RW neighbour, which each barrier would otherwise merge and
		 * split again (14 us per barrier instead of 5 measured here).
		 * A forked child gets the page zeroed; the barrier rewrites it. */
		madvise(page, page_size, MADV_WIPEONFORK);
		if (mprotect(page, page_size, PROT_NONE))
			ret = -errno;
		else
			flush_page = page;
	}
	errno = saved_errno;
	return ret;
}

static int mprotect_barrier(int cmd, int cpu_id)
{
	int saved_errno = errno, ret = 0;

	(void)cmd;	/* PRIVATE_EXPEDITED only; it ignores cpu_id */
	(void)cpu_id;
	/* Order the caller's earlier accesses before any IPI (scenario A,
	 * [a]; pairs with the handler's xchg on each interrupted CPU). */
	smp_mb();
	pthread_mutex_lock(&flush_lock);
	if (mprotect(flush_page, page_size, PROT_READ | PROT_WRITE)) {
		ret = -errno;
	} else {
		/* Present, accessed, dirty: the downgrade must flush (C). */
		WRITE_ONCE(*flush_page, READ_ONCE(*flush_page) + 1);
		if (mprotect(flush_page, page_size, PROT_NONE))
			ret = -errno;
	}
	pthread_mutex_unlock(&flush_lock);
	/* Order the later accesses after every ack (scenario A, [c]; pairs
	 * with the xchg and ack store of each interrupted CPU). */
	smp_mb();
	errno = saved_errno;
	return ret;
}

const struct umb_backend umb_backend_mprotect = {
	.name = "mprotect",
	.probe = mprotect_probe,
	.prepare = mprotect_prepare,
	.run = mprotect_barrier,
};
