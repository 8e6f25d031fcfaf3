/*
 * Weak shared memory with one explicit store buffer per CPU (or per thread,
 * where a thread stands for the CPU it runs on).
 *
 *   store(c, a, v)  appends (a, v) to CPU c's buffer; nobody else sees it yet.
 *   load(c, a, r)   newest entry for a in c's own buffer, else memory.
 *   smp_mb(c)       drains c's buffer to memory (a full barrier: nothing
 *                   after it runs until every earlier store is visible).
 *   flusher(c)      at any moment moves one pending store of c to memory.
 *
 * By default the flusher may pick any entry that has no older entry for the
 * same address (PSO: stores to different addresses become visible out of
 * order).  With -DTSO it always picks the oldest (x86-TSO).  Either way a
 * load may complete while older stores wait in the buffer, which is the
 * store->load reordering that makes store buffering (SB) observable.
 * Loads themselves are never reordered or speculated, and memory is
 * multi-copy atomic: once in memory a value is seen by every CPU.
 *
 * The including model defines NCPU, NLOC (number of memory locations) and
 * SB_SIZE (at least the number of stores any one CPU issues, so that no
 * store ever waits for room; store() asserts it).
 */

typedef StoreBuffer {
	byte addr[SB_SIZE];
	byte val[SB_SIZE];
	byte count
};

byte mem[NLOC];
StoreBuffer sb[NCPU];

/* Scratch index, used only inside d_step and reset to 0 so it never
 * distinguishes two states. */
byte sb_scan;

/* Body of store(), usable inside a larger d_step (signal handlers). */
inline sb_append(c, a, v)
{
	assert(sb[c].count < SB_SIZE);
	sb[c].addr[sb[c].count] = a;
	sb[c].val[sb[c].count] = v;
	sb[c].count++
}

inline store(c, a, v)
{
	d_step { sb_append(c, a, v) }
}

inline load(c, a, r)
{
	d_step {
		r = mem[a];
		sb_scan = sb[c].count;
		do
		:: sb_scan > 0 && sb[c].addr[sb_scan - 1] != a -> sb_scan--
		:: sb_scan > 0 && sb[c].addr[sb_scan - 1] == a ->
			r = sb[c].val[sb_scan - 1];
			break
		:: sb_scan == 0 -> break
		od;
		sb_scan = 0
	}
}

/* Make entry k of CPU c's buffer visible and remove it from the buffer. */
inline flush_entry(c, k)
{
	mem[sb[c].addr[k]] = sb[c].val[k];
	sb_scan = k + 1;
	do
	:: sb_scan < sb[c].count ->
		sb[c].addr[sb_scan - 1] = sb[c].addr[sb_scan];
		sb[c].val[sb_scan - 1] = sb[c].val[sb_scan];
		sb_scan++
	:: else -> break
	od;
	sb[c].count--;
	sb[c].addr[sb[c].count] = 0;
	sb[c].val[sb[c].count] = 0;
	sb_scan = 0
}

/* Body of a full barrier, usable inside a larger d_step (IPI and signal
 * handlers run it together with their acknowledgement). */
inline drain(c)
{
	do
	:: sb[c].count > 0 -> flush_entry(c, 0)
	:: else -> break
	od;
	sb_scan = 0	/* a statement to break to, inside any enclosing d_step */
}

/*
 * Waiting for the buffer to empty through ordinary flushes reaches the same
 * states as draining it in one step: the CPU issuing the barrier does
 * nothing meanwhile, and every partial drain is already reachable through
 * the flusher.
 */
inline smp_mb(c)
{
	d_step { drain(c) }
}

proctype flusher(byte c)
{
	byte pick;	/* entry to flush; 0 outside the atomic block */

end_idle:
	do
	:: atomic {
		sb[c].count > 0;
#ifndef TSO
		/* PSO: any entry without an older one for the same address. */
		do
		:: pick + 1 < sb[c].count -> pick++
		:: break
		od;
		sb_scan = 0;
		do
		:: sb_scan < pick && sb[c].addr[sb_scan] != sb[c].addr[pick] -> sb_scan++
		:: sb_scan < pick && sb[c].addr[sb_scan] == sb[c].addr[pick] -> pick = 0; break
		:: else -> break
		od;
#endif
		flush_entry(c, pick);
		pick = 0
	}
	od
}
