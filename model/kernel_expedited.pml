/*
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED against a context-switching user thread
 * and a kthread that borrows the mm.
 *
 *  CPU 0: caller               | CPU 1: TASK_USER, may switch in/out
 *                              | CPU 2: TASK_KTHREAD
 * -----------------------------+-------------------------------------------
 *  y = 1                       | [switch in:  smp_mb__after_spinlock()
 *  membarrier():               |              rq->curr = TASK_USER
 *    smp_mb()              [A] |              switch_mm() full barrier]
 *    for CPU 1, 2:             | x = 1; light(); [preempted and back]
 *      p = rq->curr            | r1 = y
 *      if (p->mm == mm)        | [switch out: smp_mb__after_spinlock()
 *        IPI (ipi_mb:          |              rq->curr = TASK_IDLE ...]
 *             smp_mb)          |---------------------------------------------
 *    wait for the IPIs         | kthread_use_mm(mm):
 *    smp_mb()              [B] |   tsk->mm = mm; full barrier
 *  r2 = x (of CPU 1, CPU 2)    | x' = 1; light(); r1' = y
 *                              | kthread_unuse_mm(mm):
 *                              |   full barrier; tsk->mm = NULL
 *
 * Forbidden, for each of CPU 1 and CPU 2: r1 == 0 && r2 == 0.
 * Where the caller reads rq->curr / p->mm relative to the target's
 * updates decides which pair of fences must forbid it:
 *   target switches in after the read      -> switch-in barrier vs [A]
 *   target switches out before the read    -> smp_mb__after_spinlock vs [B]
 *   kthread_use_mm after the read          -> use_mm barrier vs [A]
 *   kthread_unuse_mm before the read       -> unuse_mm barrier vs [B]
 *   target running mm at the read          -> ipi_mb vs [A] and [B]
 *
 * Extra macro: BROKEN_NO_ENTRY_MB removes [A].  ([B] cannot be refuted
 * here: this memory model never reorders the caller's loads.)
 */

#include "kernel.pml"

proctype caller()
{
	byte cpu = 1, p, m;
	byte ipi_mask;

	store(0, LOC_Y, 1);

	/* membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) */
#ifndef BROKEN_NO_ENTRY_MB
	smp_mb(0);	/* [A] pairs with the switch-in barrier, the
			 * kthread_use_mm() barrier and ipi_mb */
#endif
	do
	:: cpu < NCPU ->
		load(0, LOC_RQ_CURR(cpu), p);
		load(0, LOC_TASK_MM(p), m);
		if
		:: m == MM_PROC -> ipi_mask = ipi_mask | (1 << cpu)
		:: else
		fi;
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
