/*
 * umb's signal backend for MEMBARRIER_CMD_PRIVATE_EXPEDITED, with a thread
 * created and a thread exiting while the barrier runs.
 *
 *  caller                          | WORKER (already listed)
 * ---------------------------------+--------------------------------------
 *  y = 1                           | pthread_create(NEW):
 *  umb_heavy():                    |   insert NEW in the thread list
 *    smp_mb()                  [A] |   full barrier                   [C]
 *    snapshot /proc/self/task      |   NEW may start
 *    tgkill() each listed thread   | x = 1; light(); r1 = y
 *      but itself                  |--------------------------------------
 *    wait until each one has       | NEW: x = 1; light(); r1 = y
 *      acknowledged or is gone     |--------------------------------------
 *    smp_mb()                  [B] | EXITING: x = 1; light(); r1 = y
 *  r2 = x (of every thread)        |   pthread_exit(): signals no longer
 *                                  |   delivered; full barrier        [X]
 *  signal handler, on any target   |   removal from the list ("gone")
 *  at any instruction boundary:    |
 *    smp_mb()                  [H] |
 *    ack = 1                       |
 *
 * Forbidden, for each of WORKER, NEW and EXITING: r1 == 0 && r2 == 0.
 *
 *   target listed and signalled  -> [H] vs [A] and [B]; the caller's wait
 *                                   keeps [B] after [H]
 *   NEW missed by the snapshot   -> [C] vs [A]: NEW's first instruction
 *                                   follows its insertion, which the
 *                                   snapshot did not see, so y was visible
 *   EXITING gone before handling -> [X] vs [B]: "gone" is stored after the
 *                                   exit barrier, so x is visible too
 *
 * [C] stands for the kernel's chain between the insertion (under
 * tasklist_lock, on the creating CPU) and the new thread's first user
 * instruction (wake_up_new_task, the runqueue lock and the context switch
 * into it): it makes the insertion visible to everyone before the new
 * thread runs.  [X] is the barrier in exit_mm() that precedes the
 * thread's removal (release_task; tgkill then says ESRCH).
 *
 * Broken variants, one macro each:
 *   BROKEN_NO_CALLER_MB          remove [A]
 *   BROKEN_NO_HANDLER_MB         remove [H]
 *   BROKEN_NO_WAIT               the caller does not wait for the targets
 *   BROKEN_CREATE_NO_MB          NEW may run before its insertion is visible
 *   BROKEN_GONE_BEFORE_EXIT_MB   the caller's "gone" indicator is written
 *                                before [X] (as a CLONE_CHILD_CLEARTID word
 *                                would be: it is cleared before exit_mm())
 * [B] cannot be refuted: this memory model never reorders loads.
 */

/* Threads; each stands for the CPU it runs on and owns a store buffer. */
#define CALLER		0
#define WORKER		1
#define NEW		2
#define EXITING		3
#define NTHREAD		4

#define NCPU		NTHREAD
#define SB_SIZE		3	/* the most stores any thread issues */

/* Memory locations. */
#define LOC_Y		0
#define LOC_X(t)	(1 + (t))
#define LOC_LISTED(t)	(1 + NTHREAD + (t))	/* t in /proc/self/task */
#define LOC_ACK(t)	(1 + 2 * NTHREAD + (t))	/* t's handler has run */
#define NLOC		(1 + 3 * NTHREAD)

#include "store_buffer.pml"

bool sig_pending[NTHREAD];	/* barrier signal sent, handler not yet run */
bool takes_signals[NTHREAD];	/* running user code: started, not exiting */
bool new_may_start;		/* the kernel lets NEW run */

byte r_light[NTHREAD];
byte r_heavy[NTHREAD];
byte done;

/* Runs at an instruction boundary of thread t, which stands still meanwhile. */
proctype signal_handler(byte t)
{
end_idle:
	do
	:: d_step {
		sig_pending[t] && takes_signals[t] ->
#ifndef BROKEN_NO_HANDLER_MB
		drain(t);	/* [H] pairs with the caller's [A] and [B] */
#endif
		sb_append(t, LOC_ACK(t), 1);
		sig_pending[t] = false
	}
	od
}

proctype caller()
{
	byte t = 1, v;
	byte targets;	/* bit t: t was listed and signalled */

	store(CALLER, LOC_Y, 1);

	/* umb_heavy() */
#ifndef BROKEN_NO_CALLER_MB
	smp_mb(CALLER);	/* [A] pairs with [H] and [C] */
#endif
	/* Snapshot of /proc/self/task, one entry at a time. */
	do
	:: t < NTHREAD ->
		load(CALLER, LOC_LISTED(t), v);
		if
		:: v -> targets = targets | (1 << t)
		:: else
		fi;
		v = 0;
		t++
	:: else -> break
	od;
	/* tgkill() each; a thread gone meanwhile just never answers. */
	t = 1;
	d_step {
		do
		:: t < NTHREAD ->
			sig_pending[t] = sig_pending[t] || (targets & (1 << t));
			t++
		:: else -> break
		od;
		t = 1
	}
#ifndef BROKEN_NO_WAIT
	/*
	 * Wait until each target acknowledged or is gone.  The caller never
	 * stores to LOC_ACK or LOC_LISTED, so its loads of them read memory:
	 * a guard on mem[] is the polling loop without its idle iterations.
	 */
	do
	:: t < NTHREAD ->
		(!(targets & (1 << t)) ||
		 mem[LOC_ACK(t)] == 1 || mem[LOC_LISTED(t)] == 0);
		t++
	:: else -> break
	od;
#endif
	t = 0;
	smp_mb(CALLER);	/* [B] pairs with [H] and [X] */

	load(CALLER, LOC_X(WORKER), r_heavy[WORKER]);
	load(CALLER, LOC_X(NEW), r_heavy[NEW]);
	load(CALLER, LOC_X(EXITING), r_heavy[EXITING]);
	done++
}

inline check_sb(t)
{
	assert(!(r_light[t] == 0 && r_heavy[t] == 0))
}

inline light_side(t)
{
	store(t, LOC_X(t), 1);
	/* umb_light(): a compiler barrier, nothing at the CPU level */
	load(t, LOC_Y, r_light[t])
}

proctype worker()
{
	/* pthread_create(NEW) */
	store(WORKER, LOC_LISTED(NEW), 1);
#ifndef BROKEN_CREATE_NO_MB
	smp_mb(WORKER);	/* [C] pairs with [A]: the insertion is visible
			 * before NEW's first instruction */
#endif
	new_may_start = true;

	light_side(WORKER);
	done++
}

proctype new_thread()
{
	atomic { new_may_start -> takes_signals[NEW] = true }
	light_side(NEW);
	done++
}

proctype exiting_thread()
{
	light_side(EXITING);

	/* pthread_exit(): PF_EXITING, a pending signal is dropped */
	takes_signals[EXITING] = false;
#ifdef BROKEN_GONE_BEFORE_EXIT_MB
	store(EXITING, LOC_LISTED(EXITING), 0);
	smp_mb(EXITING);	/* [X], too late to order x before "gone" */
#else
	smp_mb(EXITING);	/* [X] pairs with [B]: whoever sees the thread
				 * gone then sees its stores */
	store(EXITING, LOC_LISTED(EXITING), 0);
#endif
	done++
}

init
{
	byte t;

	atomic {
		mem[LOC_LISTED(CALLER)] = 1;
		mem[LOC_LISTED(WORKER)] = 1;
		mem[LOC_LISTED(EXITING)] = 1;
		takes_signals[WORKER] = true;
		takes_signals[EXITING] = true;
		run caller();
		run worker();
		run new_thread();
		run exiting_thread();
		for (t : 0 .. NTHREAD - 1) {
			run flusher(t)
		}
		for (t : 1 .. NTHREAD - 1) {
			run signal_handler(t)
		}
		t = 0
	}

	done == 4;
	check_sb(WORKER);
	check_sb(NEW);
	check_sb(EXITING)
}
