/*
 * Kernel side shared by kernel_expedited.pml and global_skip.pml: tasks,
 * runqueues, the context switch, kthread_use_mm()/kthread_unuse_mm(), the
 * IPI handler and the light (user-space) side of the SB test.
 *
 * CPU 0 runs the caller (defined by the including model), CPU 1 a thread
 * of the caller's process, CPU 2 a kthread.
 *
 * Fences that can be removed, one macro each (see README.md):
 *   BROKEN_NO_SWITCH_OUT_MB  smp_mb__after_spinlock() before rq->curr store
 *   BROKEN_NO_SWITCH_IN_MB   switch_mm()/membarrier barrier after it
 *   BROKEN_NO_USE_MM_MB      full barrier at the end of kthread_use_mm()
 *   BROKEN_NO_UNUSE_MM_MB    full barrier at the start of kthread_unuse_mm()
 *   BROKEN_NO_IPI_MB         smp_mb() in the IPI handler (ipi_mb)
 */

#define NCPU		3
#define SB_SIZE		5	/* CPU 1: x and up to four rq->curr stores */
#define USER_CPU	1
#define KTHREAD_CPU	2

/* Tasks.  The idle task and the kthread have PF_KTHREAD set. */
#define TASK_IDLE	0
#define TASK_USER	1	/* a thread of the caller's process */
#define TASK_KTHREAD	2
#define NTASK		3
#define PF_KTHREAD_SET(p)	((p) != TASK_USER)	/* p->flags & PF_KTHREAD */

/* Values of task->mm. */
#define MM_NONE		0
#define MM_PROC		1	/* the caller's mm */

/* Memory locations. */
#define LOC_Y		0			/* stored by the heavy side */
#define LOC_X(t)	(1 + (t))		/* stored by light task t */
#define LOC_TASK_MM(t)	(1 + NTASK + (t))	/* task->mm */
#define LOC_RQ_CURR(c)	(1 + 2 * NTASK + (c))	/* cpu_rq(c)->curr */
#define NLOC		(1 + 2 * NTASK + NCPU)

#include "store_buffer.pml"

bool ipi_pending[NCPU];	/* IPI sent to the CPU and not yet handled */

/* SB outcome per light task: what it read of y, what the caller read of
 * its x.  r_light == r_heavy == 0 is the forbidden result. */
byte r_light[NTASK];
byte r_heavy[NTASK];
byte done;		/* programs (caller and light CPUs) finished */

/*
 * An interrupt taken between two instructions of whatever CPU c runs: the
 * CPU's program makes no progress during the d_step, so this is exactly
 * the handler running at an instruction boundary.
 */
proctype ipi_handler(byte c)
{
end_idle:
	do
	:: d_step {
		ipi_pending[c] ->
#ifndef BROKEN_NO_IPI_MB
		drain(c);	/* ipi_mb(): pairs with the caller's smp_mb()s [A] and [B] */
#endif
		ipi_pending[c] = false	/* csd unlock: the caller stops waiting */
	}
	od
}

/*
 * __schedule() on CPU c switching to task next.  rq->curr changes between
 * two full barriers so that a membarrier caller that reads the old or the
 * new value of rq->curr is ordered against the user accesses on the other
 * side of the switch.
 */
inline context_switch(c, next)
{
#ifndef BROKEN_NO_SWITCH_OUT_MB
	smp_mb(c);	/* smp_mb__after_spinlock(): prev's user accesses before
			 * the rq->curr store; pairs with the caller's [B] */
#endif
	store(c, LOC_RQ_CURR(c), next);
#ifndef BROKEN_NO_SWITCH_IN_MB
	smp_mb(c)	/* switch_mm() / membarrier_switch_mm(): the rq->curr store
			 * before next's user accesses; pairs with the caller's [A] */
#endif
}

/* Light side of SB, run by task t on CPU c, in two halves so that the
 * task can be preempted between them. */
inline light_store(c, t)
{
	store(c, LOC_X(t), 1)
	/* umb_light() follows: a compiler barrier only */
}

inline light_load(c, t)
{
	load(c, LOC_Y, r_light[t])
}

/*
 * CPU c runs TASK_KTHREAD, which borrows the caller's mm to touch user
 * memory, as io_uring or vhost workers do.
 */
proctype kthread_cpu(byte c)
{
	/* kthread_use_mm(mm) */
	store(c, LOC_TASK_MM(TASK_KTHREAD), MM_PROC);
#ifndef BROKEN_NO_USE_MM_MB
	smp_mb(c);	/* tsk->mm = mm before the user accesses; pairs with the
			 * caller's [A]: a caller that read mm == NONE and skipped
			 * this CPU had already made y visible */
#endif
	light_store(c, TASK_KTHREAD);
	light_load(c, TASK_KTHREAD);

	/* kthread_unuse_mm(mm) */
#ifndef BROKEN_NO_UNUSE_MM_MB
	smp_mb(c);	/* user accesses before tsk->mm = NULL; pairs with the
			 * caller's [B]: a caller that reads mm == NONE and skips
			 * this CPU must then find x */
#endif
	store(c, LOC_TASK_MM(TASK_KTHREAD), MM_NONE);
	done++
}

/*
 * smp_call_function_many(mask, ipi_mb, NULL, wait = true): interrupt the
 * CPUs in mask and wait until each handler has run.  cpu is scratch.
 */
inline ipi_many_wait(mask, cpu)
{
	cpu = 1;
	d_step {
		do
		:: cpu < NCPU ->
			ipi_pending[cpu] = ipi_pending[cpu] || (mask & (1 << cpu));
			cpu++
		:: else -> break
		od;
		cpu = 1
	}
	do
	:: cpu < NCPU -> !ipi_pending[cpu]; cpu++
	:: else -> break
	od;
	cpu = 0
}

/*
 * CPU USER_CPU runs TASK_USER, which may be switched in first, preempted
 * between its two SB halves, and switched out at the end.
 */
proctype user_cpu(bool running)
{
	if
	:: !running -> context_switch(USER_CPU, TASK_USER)
	:: else
	fi;
	light_store(USER_CPU, TASK_USER);
	if
	:: context_switch(USER_CPU, TASK_IDLE);	/* preempted ... */
	   context_switch(USER_CPU, TASK_USER)	/* ... and back */
	:: skip
	fi;
	light_load(USER_CPU, TASK_USER);
	if
	:: context_switch(USER_CPU, TASK_IDLE)
	:: skip
	fi;
	done++
}

/* Initial memory, then every CPU's program, flusher and IPI handler. */
inline start_cpus()
{
	atomic {
		mem[LOC_TASK_MM(TASK_USER)] = MM_PROC;
		mem[LOC_RQ_CURR(KTHREAD_CPU)] = TASK_KTHREAD;
		if
		:: mem[LOC_RQ_CURR(USER_CPU)] = TASK_USER; run user_cpu(true)
		:: mem[LOC_RQ_CURR(USER_CPU)] = TASK_IDLE; run user_cpu(false)
		fi;
		run kthread_cpu(KTHREAD_CPU);
		run caller();
		run flusher(0); run ipi_handler(0);
		run flusher(USER_CPU); run ipi_handler(USER_CPU);
		run flusher(KTHREAD_CPU); run ipi_handler(KTHREAD_CPU)
	}
}

/* Once every program finished: SB must hold for light task t. */
inline check_sb(t)
{
	assert(!(r_light[t] == 0 && r_heavy[t] == 0))
}
