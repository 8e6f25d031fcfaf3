/*
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED: which CPUs may the caller skip?
 *
 *  CPU 0: caller               | CPU 2: TASK_KTHREAD
 * -----------------------------+-------------------------------------------
 *  y = 1                       | kthread_use_mm(mm):
 *  membarrier():               |   tsk->mm = mm
 *    smp_mb()              [A] |   full barrier      (pairs with [A])
 *    for CPU 1, 2:             | x = 1; light(); r1 = y
 *      p = rq->curr            | kthread_unuse_mm(mm):
 *      skip if SKIP_TEST(p)    |   full barrier      (pairs with [B])
 *      else IPI (ipi_mb)       |   tsk->mm = NULL
 *    wait for the IPIs         |
 *    smp_mb()              [B] | CPU 1: TASK_USER switching in and out,
 *  r2 = x                      |        as in kernel_expedited.pml
 *
 * Forbidden, for CPU 1 and CPU 2: r1 == 0 && r2 == 0.
 *
 * SKIP_TEST(p) is !p->mm (the test mainline settled on, with the
 * kthread_use_mm()/unuse_mm() barriers, for v5.11): a kthread is interrupted
 * exactly while it has borrowed an mm, and the kthread_use_mm()/unuse_mm()
 * barriers cover the moments the caller misses.  With
 * -DBROKEN_PF_KTHREAD_SKIP it is p->flags & PF_KTHREAD (the test from
 * 227a4aadc75b that the seed discussion questions):
 * the kthread is never interrupted, so its user accesses are ordered by
 * nothing while it runs with the mm and SB fails whatever barriers
 * kthread_use_mm() has.
 *
 * Every mm here is registered for GLOBAL_EXPEDITED, so the kernel's
 * rq->membarrier_state filter always passes and is not modelled.
 */

#include "kernel.pml"

proctype caller()
{
	byte cpu = 1, p, m;
	byte ipi_mask;

	store(0, LOC_Y, 1);

	/* membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) */
	smp_mb(0);	/* [A] pairs with the switch-in barrier, the
			 * kthread_use_mm() barrier and ipi_mb */
	do
	:: cpu < NCPU ->
		load(0, LOC_RQ_CURR(cpu), p);
#ifdef BROKEN_PF_KTHREAD_SKIP
		if
		:: !PF_KTHREAD_SET(p) -> ipi_mask = ipi_mask | (1 << cpu)
		:: else
		fi;
#else
		load(0, LOC_TASK_MM(p), m);
		if
		:: m != MM_NONE -> ipi_mask = ipi_mask | (1 << cpu)
		:: else
		fi;
#endif
		p = 0; m = 0;
		cpu++
	:: else -> break
	od;
	ipi_many_wait(ipi_mask, cpu);
	smp_mb(0);	/* [B] pairs with smp_mb__after_spinlock() in the switch,
			 * the kthread_unuse_mm() barrier and ipi_mb */

	load(0, LOC_X(TASK_USER), r_heavy[TASK_USER]);
	load(0, LOC_X(TASK_KTHREAD), r_heavy[TASK_KTHREAD]);
	done++
}

init
{
	start_cpus();
	done == 3;
	check_sb(TASK_USER);
	check_sb(TASK_KTHREAD)
}
