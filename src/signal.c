/* SPDX-License-Identifier: MIT */
/*
 * The signal mechanism: every membarrier command from user space, for
 * processes where the system call is missing or filtered (gVisor, seccomp
 * profiles answering ENOSYS or EPERM, kernels before 4.14).
 *
 * PRIVATE_EXPEDITED.  The kernel interrupts every CPU running a thread of
 * the process (an IPI) and makes it execute smp_mb().  Here the caller
 * interrupts every *thread* of the process, as /proc/self/task lists them
 * (threads umb did not create included), with a dedicated real-time signal;
 * the handler executes smp_mb() and acknowledges; the caller sleeps on a
 * futex until the last acknowledgement:
 *
 *   caller                                   every other thread T
 *   ------                                   --------------------
 *   x = 1 (pre-barrier accesses)
 *   smp_mb() [A]
 *   round number++, smp_mb() [F]
 *   snapshot /proc/self/task
 *   rt_tgsigqueueinfo(T)  ---- siglock ---->  handler: smp_mb() [H]
 *                                             claim slot, remaining--
 *   futex wait (remaining)  <-- futex wake --  (last one wakes the caller)
 *   smp_mb() [B]
 *   r1 = y (post-barrier accesses)            return: sigreturn
 *
 * The signal's generation and delivery both hold T's siglock, so [A]
 * happens before [H]; T's claim (after [H]) is read by the caller before
 * [B].  [H] is thus a full barrier in T between the caller's pre- and
 * post-barrier accesses: [A] pairs with [H] (T's later accesses see x), [H]
 * pairs with [B] (the caller's later accesses see what T did before).
 *
 * Threads that are not interrupted.  A thread missing from the snapshot was
 * created after it (scenario 1) or had exited (scenario 2); a listed thread
 * that exits with the signal pending never runs the handler (scenario 3).
 * As in the kernel, a context switch is a full barrier, and thread creation
 * and exit are context switches plus locked updates of the thread list:
 *
 * Scenario 1: a thread created during the barrier.
 *
 *   caller                                   creator C / new thread N
 *   ------                                   ------------------------
 *   x = 1
 *   smp_mb() [A]
 *                                            clone(): tasklist_lock,
 *                                            N enters the thread list
 *   readdir /proc/self/task (N absent)
 *                                            N scheduled: smp_mb() (switch)
 *                                            r2 = x
 *   ...
 *   smp_mb() [B]
 *
 * The snapshot missed N, so N's entry into the list is ordered after the
 * snapshot (which follows [A]); N's first instruction follows a context
 * switch, a full barrier, so r2 = x is ordered after [A] and sees x = 1.
 * If instead N is in the snapshot, it is signalled like any other thread.
 * N's creator C is in the snapshot or is the caller.
 *
 * Scenario 2 and 3: a thread exiting during the barrier.
 *
 *   caller                                   exiting thread E
 *   ------                                   ----------------
 *                                            y = 1
 *                                            exit(): smp_mb() (exit_mm,
 *                                            final switch), leaves the
 *                                            thread list / becomes a zombie
 *   tgkill(E) = -ESRCH, or E absent from
 *   /proc/self/task, or E's state Z/X
 *   smp_mb() [B]
 *   r1 = y
 *
 * E's user accesses all precede the full barriers of its exit, which
 * precede its removal; the caller observes the removal, then executes [B]:
 * r1 = 1.  E runs no user code afterwards, so nothing else is needed.  A
 * thread that blocked every signal to exit (glibc does before unmapping the
 * stack) is caught by the re-check on a timed futex wait (1 ms, doubling).
 *
 * Why [A] and [B] are where they are.  [A] precedes the snapshot (scenario
 * 1 needs "absent from the snapshot" to imply "starts after x = 1") and the
 * signals; [B] follows the last acknowledgement or observed exit.  The
 * caller's own accesses need nothing: it is its own thread.
 *
 * Sharing rounds.  Callers serialize on a mutex; a caller that arrived
 * while a round was running can use the next one, started by whoever gets
 * the mutex first.  It reads the round number "started" after its own [A];
 * a round numbered above that one began after the read:
 *
 *   caller P                                 round runner R
 *   --------                                 --------------
 *   x = 1
 *   smp_mb() [A]
 *   seen = started                           started = seen + 1
 *                                            smp_mb() [F]
 *                                            signal T ---> [H]
 *
 * Store buffering: P's read missed R's increment, so by [A] and [F], [A]
 * precedes [F] in the total order of fences and everything after [F]
 * (T's [H] included) sees x = 1.  P then waits for "done >= seen + 1"
 * under the mutex (R's acknowledgements happen before R releases it) and
 * executes its own [B].
 *
 * Threads that never run the handler.  A thread that blocks the signal
 * cannot be reached: pthread_sigmask() and sigprocmask() are wrapped below
 * so that they never block it (glibc does the same for its own signals),
 * but a raw rt_sigprocmask, signalfd, sigsuspend/ppoll/pselect masks or a
 * thread blocked before the library was loaded still can.  The caller then
 * waits UMB_SIGNAL_TIMEOUT_MS (default 1000 ms) after the round's start and
 * returns -ETIMEDOUT: no barrier took place.  A target whose status shows
 * the signal unblocked and that is not stopped is only late (a busy
 * machine): it is waited for up to ten times the bound.  Never a hang and
 * never a silent skip.
 *
 * An emulator's own task.  Under a user-mode emulator (qemu-user) the guest
 * sees QEMU's helper thread (its RCU thread) in /proc/self/task; it blocks
 * every guest signal forever.  It never executes guest code, so it has no
 * guest accesses to order, exactly as the kernel skips kernel threads that
 * do not use the mm.  umb recognises the emulator (the emulator fakes
 * /proc/self/exe but not /proc/self/task/TID/exe) and treats as its tasks
 * those that already existed when the library initialised (or when a child
 * was forked) and blocked the asynchronous signals in their host mask
 * (guest masks are emulated: a guest thread's host mask blocks nothing).
 * Those (tid, start time) pairs are skipped; a guest thread created later
 * is always signalled.  The chosen signal is also sent once to the caller
 * when installed: QEMU has no host signal for the guest's SIGRTMAX
 * (EINVAL), so the next free one down is used.
 *
 * EINTR.  The handler is installed with SA_RESTART, so most interrupted
 * system calls restart.  Calls that signal(7) lists as never restarted
 * still fail with EINTR when a barrier interrupts them: epoll_wait,
 * nanosleep/clock_nanosleep, select/poll/pselect/ppoll, sem_timedwait,
 * sigtimedwait, io_getevents, and socket calls with a timeout set
 * (SO_RCVTIMEO/SO_SNDTIMEO), among others.
 *
 * SYNC_CORE.  The handler executes a core-serializing instruction (x86-64:
 * serialize if CPUID says the CPU has it, else cpuid; arm64: isb) after
 * [H], and so does the caller after [B] (as the kernel does since
 * e45cdc71d1fa).  Returning from the handler, sigreturn, is itself
 * context-synchronizing (iret / eret).
 *
 * RSEQ.  Delivering a signal aborts an rseq critical section that the
 * thread is in (the kernel's rseq_signal_deliver).  With FLAG_CPU only
 * threads whose current CPU (field 39 of /proc/self/task/TID/stat) is
 * cpu_id are signalled: a thread elsewhere must migrate or be switched in
 * to run on cpu_id, and that aborts any critical section it was in and is
 * a full barrier (the same store-buffering argument as for "started", with
 * the CPU field in place of the round number).  Where that field is not
 * real (gVisor) every thread is signalled: a superset is always correct.
 *
 * GLOBAL_EXPEDITED.  Registered processes are slots of a registry in
 * /dev/shm (one file per user).  REGISTER_GLOBAL_EXPEDITED claims a slot
 * and starts a helper thread that sleeps on the slot's process-shared
 * futex; a caller bumps each live slot's request word, wakes it, and sleeps
 * until the helper has run a PRIVATE_EXPEDITED round in its process and
 * acknowledged.  The caller's [A] precedes its request, the helper's round
 * follows its read of the request, and the helper's acknowledgement follows
 * the round's [B]; the caller's [B] follows its read of every
 * acknowledgement.  A slot whose helper thread is gone (SIGKILL, exit, exec)
 * or whose tid now names another thread (start time differs) is reclaimed;
 * a caller waiting for it re-checks on each timed wait and counts a dead
 * process as ordered (exit is a full barrier).  A forked child of a
 * registered process claims its own slot (umb.c re-prepares in the child).
 *
 * GLOBAL.  The caller runs once on every online CPU (sched_setaffinity to
 * each in turn, then back).  Each CPU then passes through a context switch
 * to the caller after [A] and before [B]: a thread that ran there before
 * was switched out (a full barrier, ordered before the caller arrives by
 * the runqueue lock), a thread that runs there afterwards is switched in
 * after the caller left.  That is the meaning of GLOBAL (every running
 * thread of the system passes a full barrier).  Only valid where the
 * process may run on every online CPU, and not under gVisor, whose threads
 * are not host CPUs' tasks: probe() rejects it there, so QUERY omits it
 * and GLOBAL answers -EINVAL as on a nohz_full kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "barrier.h"

#define DEFAULT_TIMEOUT_MS	1000
#define SPIN_NS			20000	/* before sleeping on the futex */

/* ---- small system helpers (all keep errno, return -errno) ---- */

static long sys_ret(long r, int saved_errno)
{
	if (r < 0)
		r = -errno;
	errno = saved_errno;
	return r;
}

static int futex_wait(_Atomic uint32_t *word, uint32_t val, int shared,
		      const struct timespec *timeout)
{
	int e = errno;

	return (int)sys_ret(syscall(SYS_futex, word,
				    shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE,
				    val, timeout, NULL, 0), e);
}

static void futex_wake(_Atomic uint32_t *word, int shared)
{
	int e = errno;

	syscall(SYS_futex, word, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE,
		INT_MAX, NULL, NULL, 0);
	errno = e;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	return ts;
}

static pid_t own_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Read a whole small file into buf (NUL-terminated); length or -errno. */
static int read_small_at(int dir, const char *path, char *buf, size_t len)
{
	int e = errno, fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return (int)sys_ret(-1, e);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (int)sys_ret(-1, e);
	buf[n] = 0;
	return (int)n;
}

static int read_small(const char *path, char *buf, size_t len)
{
	return read_small_at(AT_FDCWD, path, buf, len);
}

/* ---- core serialization ---- */

#if defined(__x86_64__) || defined(__i386__)
static int has_serialize;

static void cpuid(unsigned int leaf, unsigned int sub, unsigned int r[4])
{
	__asm__ __volatile__("cpuid"
			     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub) : "memory");
}

static int serialize_probe(void)
{
	unsigned int r[4];

	cpuid(0, 0, r);
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		has_serialize = (r[3] >> 14) & 1;
	}
	return 1;
}

static void serialize_core(void)
{
	unsigned int r[4];

	if (has_serialize)
		__asm__ __volatile__(".byte 0x0f, 0x01, 0xe8" ::: "memory");
	else
		cpuid(0, 0, r);
}
#elif defined(__aarch64__)
static int serialize_probe(void)
{
	return 1;
}

static void serialize_core(void)
{
	__asm__ __volatile__("isb" ::: "memory");
}
#else
static int serialize_probe(void)
{
	return 0;
}

static void serialize_core(void)
{
}
#endif

/* ---- per-process state (reset in a forked child by prepare) ---- */

static int umb_sig;			/* the barrier signal, 0: not installed */
static pid_t owner_pid;			/* the process the state below is for */
static pthread_mutex_t round_lock = PTHREAD_MUTEX_INITIALIZER;
static int task_fd = -1;		/* /proc/self/task, O_DIRECTORY */
static uint64_t timeout_ns;
static int ncpus;

/* The task list from /proc/self/task, reused across rounds. */
static pid_t *tids;
static size_t tids_cap;

/*
 * One slot per target of a round.  want holds the round's ticket sequence
 * while the target owes an acknowledgement, 0 once claimed: by the target's
 * handler, or by the caller when it saw the target exit or gave up.  Exactly
 * one party claims each slot and decrements remaining once, so remaining
 * reaches 0 only when no handler of the round can still touch it.  Chunks
 * are never freed: a late handler of an abandoned round may still read one.
 */
struct slot {
	pid_t tid;
	_Atomic uint32_t want;
};

#define CHUNK_SLOTS	256
#define MAX_CHUNKS	4096
static struct slot *_Atomic chunks[MAX_CHUNKS];
static _Atomic uint32_t remaining;

/*
 * The ticket a signal carries in si_value: the round's sequence (truncated
 * to what fits), a SYNC_CORE bit and the slot index.
 */
#define IDX_BITS	23
#define CORE_BIT	((uintptr_t)1 << IDX_BITS)
#define TICKET_SHIFT	(IDX_BITS + 1)

static uint32_t ticket_seq(uintptr_t t)
{
	return (uint32_t)(t >> TICKET_SHIFT);
}

/* Rounds: started counts rounds begun; done/done_core the last complete. */
static _Atomic uint64_t started;
static uint64_t done, done_core;	/* under round_lock */

/* Emulator tasks (see the opening comment): tid and start time. */
struct task_id {
	pid_t tid;
	unsigned long long start;
};
static struct task_id emulator_tasks[8];
static int n_emulator_tasks;
static int cpu_field_trusted;

static struct slot *slot_at(uint32_t idx)
{
	struct slot *c = atomic_load_explicit(&chunks[idx / CHUNK_SLOTS],
					      memory_order_acquire);

	return c ? &c[idx % CHUNK_SLOTS] : NULL;
}

static int ensure_slots(size_t n)
{
	for (size_t c = 0; c * CHUNK_SLOTS < n; c++) {
		struct slot *chunk;

		if (c >= MAX_CHUNKS)
			return -ENOMEM;
		if (atomic_load(&chunks[c]))
			continue;
		chunk = calloc(CHUNK_SLOTS, sizeof(*chunk));
		if (!chunk)
			return -ENOMEM;
		atomic_store_explicit(&chunks[c], chunk, memory_order_release);
	}
	return 0;
}

/* ---- the handler ---- */

static void on_barrier_signal(int sig, siginfo_t *si, void *uc)
{
	uintptr_t t = (uintptr_t)si->si_value.sival_ptr;
	uint32_t seq = ticket_seq(t);
	struct slot *s;

	(void)sig, (void)uc;
	/* Only rounds of this process send SI_QUEUE with our pid. */
	if (si->si_code != SI_QUEUE || si->si_pid != READ_ONCE(owner_pid) ||
	    !seq)	/* install_handler()'s test */
		return;
	smp_mb();	/* [H]: pairs with the caller's [A] (via siglock) and [B] */
	if (t & CORE_BIT)
		serialize_core();
	s = slot_at((uint32_t)(t & (CORE_BIT - 1)));
	if (s && atomic_compare_exchange_strong(&s->want, &seq, 0) &&
	    atomic_fetch_sub(&remaining, 1) == 1)
		futex_wake(&remaining, 0);
}

/* ---- thread list ---- */

/*
 * The task directory.  /proc/self/task, or, through the caller's own tid,
 * /proc/TID/task: under gVisor the former fails (ENOENT) once the main
 * thread has exited while the latter still lists the whole thread group.
 */
static int open_task_dir(int by_tid)
{
	char path[64];
	int e = errno;

	if (task_fd >= 0)
		close(task_fd);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)own_tid());
	task_fd = open(by_tid ? path : "/proc/self/task",
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return task_fd < 0 ? (int)sys_ret(-1, e) : (errno = e, 0);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static long read_task_dir(void);

/* Snapshot the process's threads into tids; count or -errno. */
static long snapshot_tasks(void)
{
	long n = read_task_dir();

	if (n < 0 && !open_task_dir(1))
		n = read_task_dir();
	return n;
}

static long read_task_dir(void)
{
	char buf[8192] __attribute__((aligned(8)));
	size_t n = 0;
	int e = errno;
	long got;

	if (lseek(task_fd, 0, SEEK_SET) < 0)
		return sys_ret(-1, e);
	while ((got = syscall(SYS_getdents64, task_fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			if (n == tids_cap) {
				size_t cap = tids_cap ? 2 * tids_cap : 64;
				pid_t *p = realloc(tids, cap * sizeof(*p));

				if (!p)
				{
					errno = e;
					return -ENOMEM;
				}
				tids = p, tids_cap = cap;
			}
			tids[n++] = (pid_t)atol(d->d_name);
		}
	}
	if (got < 0)
		return sys_ret(-1, e);
	errno = e;
	return (long)n;
}

/*
 * State letter, start time and CPU of thread tid of process pid (0: this
 * one, through task_fd) from /proc/PID/task/TID/stat; 0 if unreadable.
 */
static char task_stat(pid_t pid, pid_t tid, unsigned long long *start,
		      int *cpu)
{
	char path[64], buf[1024], *p;
	char state = 0;
	int field;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
			 (int)tid);
	else
		snprintf(path, sizeof(path), "%d/stat", (int)tid);
	if (read_small_at(pid ? AT_FDCWD : task_fd, path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');		/* comm may hold spaces and ')' */
	if (!p || p[1] != ' ')
		return 0;
	state = p[2];
	/* Field 3 is the state; 22 the start time; 39 the CPU. */
	for (field = 3, p += 2; *p && field < 39; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 22 && start)
			*start = strtoull(p + 1, NULL, 10);
	}
	if (cpu)
		*cpu = field == 39 ? atoi(p) : -1;
	return state;
}

static int is_emulator_task(pid_t tid)
{
	for (int i = 0; i < n_emulator_tasks; i++) {
		unsigned long long start = 0;

		if (emulator_tasks[i].tid == tid &&
		    task_stat(0, tid, &start, NULL) &&
		    start == emulator_tasks[i].start)
			return 1;
	}
	return 0;
}

/* SigBlk of a task from its status, or 0 when not shown (gVisor). */
static unsigned long long task_sigblk(pid_t tid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "%d/status", (int)tid);
	if (read_small_at(task_fd, path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strstr(buf, "SigBlk:");
	return p ? strtoull(p + 7, NULL, 16) : 0;
}

/*
 * Will tid run the handler once it is scheduled?  Yes when its status shows
 * the barrier signal unblocked and it is not stopped: an overloaded machine
 * may just not have run it yet.  No when it blocks the signal, is stopped,
 * or its status hides SigBlk (gVisor): then only the time bound is left.
 */
static int merely_delayed(pid_t tid)
{
	char path[64], buf[4096], *p, state = task_stat(0, tid, NULL, NULL);

	if (!state || state == 'T' || state == 't')
		return 0;
	snprintf(path, sizeof(path), "%d/status", (int)tid);
	if (read_small_at(task_fd, path, buf, sizeof(buf)) <= 0 ||
	    !(p = strstr(buf, "SigBlk:")))
		return 0;
	return !(strtoull(p + 7, NULL, 16) & (1ull << (umb_sig - 1)));
}

/*
 * Under a user-mode emulator /proc/self/exe names the guest program while
 * the host's per-task link names the emulator.
 */
static int emulated(void)
{
	char self[PATH_MAX], task[PATH_MAX], path[64];
	ssize_t a, b;

	snprintf(path, sizeof(path), "/proc/self/task/%d/exe", (int)own_tid());
	a = readlink("/proc/self/exe", self, sizeof(self));
	b = readlink(path, task, sizeof(task));
	return a > 0 && b > 0 && (a != b || memcmp(self, task, (size_t)a));
}

#define SIGBIT(sig)	(1ull << ((sig) - 1))

/*
 * The emulator's tasks, when the library starts or a child is forked: the
 * other tasks that exist then and whose host mask blocks the asynchronous
 * signals.  QEMU starts its helper thread before any guest code runs (and
 * again in a forked child, before fork returns to the guest), with every
 * signal blocked but the synchronous ones.  Guest threads' signal masks are
 * emulated: their host mask blocks nothing but for an instant inside QEMU;
 * and at those two moments guest code has created no thread yet (in a
 * child, fork copies only the caller).
 */
static void find_emulator_tasks(void)
{
	const unsigned long long async = SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2) |
					 SIGBIT(SIGTERM) | SIGBIT(SIGALRM);
	long n;

	n_emulator_tasks = 0;
	if (!emulated())
		return;
	n = snapshot_tasks();
	for (long i = 0; i < n && n_emulator_tasks < 8; i++) {
		struct task_id *t = &emulator_tasks[n_emulator_tasks];
		unsigned long long blk;

		if (tids[i] == own_tid())
			continue;
		blk = task_sigblk(tids[i]);
		if ((blk & async) != async)
			continue;
		t->tid = tids[i];
		if (task_stat(0, t->tid, &t->start, NULL))
			n_emulator_tasks++;
	}
}

/* ---- choosing and installing the signal ---- */

static int handler_free(int sig)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old))
		return 0;
	if (old.sa_flags & SA_SIGINFO)
		return old.sa_sigaction == on_barrier_signal;
	return old.sa_handler == SIG_DFL;
}

/* UMB_SIGNAL: a number, RTMIN+n or RTMAX-n; 0 unset, -1 invalid. */
static int signal_from_env(void)
{
	const char *env = getenv("UMB_SIGNAL"), *num = env;
	char *end;
	long v = 0;

	if (!env || !*env)
		return 0;
	if (!strncmp(env, "RTMIN", 5) || !strncmp(env, "RTMAX", 5)) {
		v = env[3] == 'I' ? SIGRTMIN : SIGRTMAX;
		num = env + 5;
		if (!*num)
			return v;
	}
	v += strtol(num, &end, 10);
	if (end == num || *end)
		return -1;
	return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
}

/* A signal to use: UMB_SIGNAL, or the highest real-time one nobody handles. */
static int choose_signal(const char **why)
{
	int sig = signal_from_env();

	if (sig < 0) {
		*why = "UMB_SIGNAL is not a real-time signal (N, RTMIN+n, RTMAX-n)";
		return -EINVAL;
	}
	if (sig) {
		if (handler_free(sig))
			return sig;
		*why = "UMB_SIGNAL names a signal the application handles";
		return -EBUSY;
	}
	for (sig = SIGRTMAX; sig >= SIGRTMIN; sig--)
		if (handler_free(sig))
			return sig;
	*why = "no free real-time signal";
	return -EBUSY;
}

static int send_barrier_signal(int sig, pid_t tid, uintptr_t t);

/*
 * Install the handler on the chosen signal and send it to this thread once:
 * an emulator may have no host signal for it (QEMU cannot carry the guest's
 * SIGRTMAX and answers EINVAL); then try the next free one down.
 */
static int install_handler(void)
{
	const char *why;
	int sig, ret, e = errno;

	if (umb_sig)
		return 0;
	sig = choose_signal(&why);
	if (sig < 0)
		return sig;
	for (; sig >= SIGRTMIN; sig--) {
		struct sigaction sa;

		if (!handler_free(sig))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_barrier_signal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, NULL))
			return (int)sys_ret(-1, e);
		ret = send_barrier_signal(sig, own_tid(), 0);
		if (!ret) {
			WRITE_ONCE(umb_sig, sig);
			return 0;
		}
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigaction(sig, &sa, NULL);
		if (getenv("UMB_SIGNAL"))
			return ret;
	}
	return -EBUSY;
}

/* ---- keeping the signal unblockable ---- */

/* Remove the barrier signal and libc's internal signals from a block set. */
static void strip_reserved(sigset_t *set)
{
	int sig = READ_ONCE(umb_sig);

	if (sig)
		sigdelset(set, sig);
	for (int s = 32; s < SIGRTMIN; s++)
		sigdelset(set, s);
}

/*
 * The application's pthread_sigmask and sigprocmask: the same, except that
 * they never block the barrier signal.  They call rt_sigprocmask directly.
 * umb's own mask changes call set_mask() by name, because pthread_sigmask
 * may resolve to another copy of umb (a program linked with libumb.a and
 * run with the shim has two), which would not spare this copy's signal.
 */
static int set_mask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;
	int e = errno;
	long r;

	if (set && how != SIG_UNBLOCK) {
		copy = *set;
		strip_reserved(&copy);
		set = &copy;
	}
	r = sys_ret(syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8), e);
	return (int)-r;
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return set_mask(how, set, old);
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int r = set_mask(how, set, old);

	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* ---- a private round ---- */

static int send_barrier_signal(int sig, pid_t tid, uintptr_t t)
{
	siginfo_t info;
	int e = errno;

	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = owner_pid;
	info.si_uid = getuid();
	info.si_value.sival_ptr = (void *)t;
	return (int)sys_ret(syscall(SYS_rt_tgsigqueueinfo, owner_pid, tid,
				    sig, &info), e);
}

/* Claim slot i for the caller: the target will never acknowledge. */
static void claim(struct slot *s, uint32_t seq)
{
	if (atomic_compare_exchange_strong(&s->want, &seq, 0))
		atomic_fetch_sub(&remaining, 1);
}

/* tgkill with signal 0: ESRCH once the thread has been released. */
static int thread_gone(pid_t tid)
{
	int e = errno;

	return sys_ret(syscall(SYS_tgkill, owner_pid, tid, 0), e) == -ESRCH;
}

/*
 * A main thread that left through pthread_exit stays a zombie until the
 * process ends; it is skipped from then on (it cannot come back, and its
 * pending-signal queue would fill up: gVisor then answers EAGAIN).
 */
static int leader_zombie;

/* Has the target exited (gone, or a zombie)?  Then it is ordered. */
static int exited(pid_t tid)
{
	char state = task_stat(0, tid, NULL, NULL);

	if (state == 'Z' || state == 'X') {
		if (tid == owner_pid)
			leader_zombie = 1;
		return 1;
	}
	return thread_gone(tid);
}

/*
 * Targets that still owe an acknowledgement but have exited (gone, or a
 * zombie: a main thread that called pthread_exit) are ordered: claim them.
 */
static void claim_exited(uint32_t n, uint32_t seq)
{
	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_at(i);

		if (atomic_load(&s->want) == seq && exited(s->tid))
			claim(s, seq);
	}
}

/* Does a target that still owes its acknowledgement only lag behind? */
static int some_merely_delayed(uint32_t n, uint32_t seq)
{
	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_at(i);

		if (atomic_load(&s->want) == seq && merely_delayed(s->tid))
			return 1;
	}
	return 0;
}

/*
 * Wait for the acknowledgements.  Past the time bound a target that blocks
 * the signal or is stopped makes the round fail with -ETIMEDOUT; targets
 * that can take it but have not been scheduled yet are waited for, up to
 * DELAYED_FACTOR times the bound, so that a busy machine does not turn
 * into spurious failures and a starved thread still cannot hang the caller.
 */
#define DELAYED_FACTOR	10

static int wait_acks(uint32_t n, uint32_t seq, uint64_t start)
{
	uint64_t slice = 1000000, now;
	uint32_t r;

	uint64_t spin_start = mono_ns();

	if (ncpus > 1)
		while (READ_ONCE(remaining) && mono_ns() - spin_start < SPIN_NS)
			for (int i = 0; i < 64; i++)
				cpu_relax();
	while ((r = atomic_load(&remaining))) {
		struct timespec ts = ns_to_ts(slice);

		if (futex_wait(&remaining, r, 0, &ts) != -ETIMEDOUT)
			continue;
		claim_exited(n, seq);
		now = mono_ns();
		if (now - start >= timeout_ns && atomic_load(&remaining) &&
		    (now - start >= DELAYED_FACTOR * timeout_ns ||
		     !some_merely_delayed(n, seq))) {
			/* Give up on the rest, then let handlers that have
			 * already claimed their slot finish decrementing. */
			for (uint32_t i = 0; i < n; i++)
				claim(slot_at(i), seq);
			while ((r = atomic_load(&remaining)))
				futex_wait(&remaining, r, 0, &ts);
			return -ETIMEDOUT;
		}
		slice = slice * 2 > 50000000 ? 50000000 : slice * 2;
	}
	return 0;
}

/* One round over the threads (on cpu only, if cpu >= 0); under round_lock. */
static int run_round(int core, int cpu)
{
	uint64_t start = mono_ns(), round;
	uint32_t n = 0, seq;
	pid_t self = own_tid();
	long count;
	int ret, sent_error;

	round = atomic_fetch_add(&started, 1) + 1;
	smp_mb();	/* [F]: pairs with [A] of callers sharing this round */
	seq = ticket_seq((uintptr_t)round << TICKET_SHIFT);
	if (!seq)	/* 0 means "claimed" */
		return run_round(core, cpu);
	count = snapshot_tasks();
	if (count < 0)
		return (int)count;
	ret = ensure_slots((size_t)count);
	if (ret)
		return ret;
	for (long i = 0; i < count; i++) {
		int on = -1;

		if (tids[i] == self || is_emulator_task(tids[i]) ||
		    (tids[i] == owner_pid && leader_zombie))
			continue;
		if (cpu >= 0 && cpu_field_trusted &&
		    task_stat(0, tids[i], NULL, &on) && on != cpu)
			continue;
		slot_at(n)->tid = tids[i];
		atomic_store_explicit(&slot_at(n)->want, seq, memory_order_relaxed);
		n++;
	}
	atomic_store(&remaining, n);
	for (uint32_t i = 0; i < n; i++) {
		struct slot *s = slot_at(i);
		uintptr_t t = ((uintptr_t)round << TICKET_SHIFT) |
			      (core ? CORE_BIT : 0) | i;
		int sent = send_barrier_signal(umb_sig, s->tid, t);

		if (!sent)
			continue;
		claim(s, seq);
		/* -ESRCH or a zombie: exited (scenario 2); else (-EAGAIN:
		 * the target's queue is full) the round fails. */
		if (sent != -ESRCH && !exited(s->tid) && !ret)
			ret = sent;
	}
	sent_error = ret;
	ret = wait_acks(n, seq, start);
	if (!ret)
		ret = sent_error;
	if (!ret && cpu < 0) {
		done = round;
		if (core)
			done_core = round;
	}
	return ret;
}

/* PRIVATE_EXPEDITED (core 0) or SYNC_CORE (core 1), on cpu or all (-1). */
static int private_barrier(int core, int cpu)
{
	uint64_t seen;
	int ret = 0;

	smp_mb();	/* [A]: pairs with [H] in every target, and with [F] */
	seen = atomic_load(&started);
	pthread_mutex_lock(&round_lock);
	if (cpu >= 0 || (core ? done_core : done) <= seen)
		ret = run_round(core, cpu);
	pthread_mutex_unlock(&round_lock);
	smp_mb();	/* [B]: pairs with [H] in every target */
	if (core)
		serialize_core();
	return ret;
}

/* ---- GLOBAL: a tour of every online CPU ---- */

static int online_cpus(cpu_set_t *set)
{
	char buf[1024], *p;

	CPU_ZERO(set);
	if (read_small("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		for (long c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET(c, set);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

static int global_barrier(void)
{
	cpu_set_t online, saved, one;
	int e = errno, ret = 0;

	smp_mb();	/* [A]: pairs with the context switch on every CPU */
	if (online_cpus(&online) || sched_getaffinity(0, sizeof(saved), &saved)) {
		errno = e;
		return -EINVAL;
	}
	for (int c = 0; c < CPU_SETSIZE && !ret; c++) {
		if (!CPU_ISSET(c, &online))
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (sched_setaffinity(0, sizeof(one), &one)) {
			/* A CPU that went offline runs nothing. */
			if (online_cpus(&online) || CPU_ISSET(c, &online))
				ret = -EINVAL;
			continue;
		}
		/* sched_setaffinity migrates before returning; make sure. */
		for (int cur; (cur = sched_getcpu()) >= 0 && cur != c;)
			sched_yield();
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	errno = e;
	smp_mb();	/* [B]: pairs with the context switch on every CPU */
	return ret;
}

static const char *global_unusable(void)
{
	cpu_set_t online, mine;

	if (umb_in_gvisor())
		return "gVisor schedules threads itself: no tour of host CPUs";
	if (online_cpus(&online))
		return "cannot read /sys/devices/system/cpu/online";
	if (sched_getaffinity(0, sizeof(mine), &mine))
		return "sched_getaffinity fails";
	CPU_AND(&mine, &mine, &online);
	if (!CPU_EQUAL(&mine, &online))
		return "the process may not run on every online CPU";
	return NULL;
}

/* ---- GLOBAL_EXPEDITED: the registry ---- */

#define REGISTRY_SLOTS	256
#define REGISTRY_MAGIC	0x756d6267	/* "umbg" */

struct ge_slot {
	_Atomic uint64_t owner;		/* generation << 32 | pid; pid 0: free */
	_Atomic uint32_t ready;		/* helper below is serving */
	_Atomic int32_t helper_tid;
	_Atomic uint64_t helper_start;
	_Atomic uint32_t req;		/* futex: bumped by callers */
	_Atomic uint32_t ack;		/* futex: the last request served */
	_Atomic int32_t error;		/* the last round's result */
};

struct ge_registry {
	_Atomic uint32_t magic;
	uint32_t nslots;
	struct ge_slot slot[REGISTRY_SLOTS];
};

static struct ge_registry *registry;
static struct ge_slot *my_slot;

static void registry_path(char *path, size_t len)
{
	const char *env = getenv("UMB_REGISTRY");

	if (env && *env)
		snprintf(path, len, "%s", env);
	else
		snprintf(path, len, "/dev/shm/umb-ge-%u", (unsigned int)getuid());
}

static int registry_map(void)
{
	char path[PATH_MAX];
	int e = errno, fd;
	void *p;

	if (registry)
		return 0;
	registry_path(path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return (int)sys_ret(-1, e);
	/* Growing to the full size is idempotent: racing creators agree. */
	if (ftruncate(fd, sizeof(struct ge_registry))) {
		close(fd);
		return (int)sys_ret(-1, e);
	}
	p = mmap(NULL, sizeof(struct ge_registry), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return (int)sys_ret(-1, e);
	registry = p;
	atomic_store(&registry->magic, REGISTRY_MAGIC);
	errno = e;
	return 0;
}

/* Is the slot's helper thread still the one that registered? */
static int helper_alive(struct ge_slot *s)
{
	unsigned long long start = 0;
	char state = task_stat((pid_t)(uint32_t)atomic_load(&s->owner),
			       atomic_load(&s->helper_tid), &start, NULL);

	return state && state != 'Z' && state != 'X' &&
	       start == atomic_load(&s->helper_start);
}

static int pid_alive(pid_t pid)
{
	int e = errno, r = kill(pid, 0);

	r = !r || errno == EPERM;
	errno = e;
	return r;
}

/* Free a slot whose process died or exec'ed (helper gone). */
static void reclaim(struct ge_slot *s, uint64_t owner)
{
	if (atomic_load(&s->owner) != owner)
		return;
	atomic_store(&s->ready, 0);
	atomic_compare_exchange_strong(&s->owner, &owner,
				       owner & ~(uint64_t)UINT32_MAX);
}

/* Records its identity, says it serves, then serves until the process ends. */
static void *ge_helper(void *arg)
{
	struct ge_slot *s = arg;
	uint32_t served = atomic_load(&s->req);
	unsigned long long start = 0;
	pid_t tid = own_tid();

	task_stat(0, tid, &start, NULL);
	atomic_store(&s->helper_tid, tid);
	atomic_store(&s->helper_start, start);
	atomic_store(&s->ack, served);
	smp_store_release(&s->ready, 1);
	futex_wake(&s->ready, 1);
	for (;;) {
		uint32_t r = smp_load_acquire(&s->req);

		if (r == served) {
			futex_wait(&s->req, served, 1, NULL);
			continue;
		}
		/* The round's [A] follows the read of req: pairs with the
		 * requester's [A] before its increment. */
		atomic_store(&s->error, private_barrier(0, -1));
		smp_store_release(&s->ack, r);
		futex_wake(&s->ack, 1);
		served = r;
	}
	return NULL;
}

static int ge_register(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t helper;
	struct ge_slot *s = NULL;
	pid_t pid = owner_pid;
	int ret;

	if (my_slot)
		return 0;
	ret = registry_map();
	if (ret)
		return ret;
	for (int i = 0; i < REGISTRY_SLOTS && !s; i++) {
		struct ge_slot *c = &registry->slot[i];
		uint64_t o = atomic_load(&c->owner);
		pid_t p = (pid_t)(uint32_t)o;

		if (p && atomic_load(&c->ready) && !helper_alive(c))
			reclaim(c, o);
		else if (p && !atomic_load(&c->ready) && !pid_alive(p))
			reclaim(c, o);
		o = atomic_load(&c->owner);
		if ((uint32_t)o == 0 &&
		    atomic_compare_exchange_strong(&c->owner, &o,
			(((o >> 32) + 1) << 32) | (uint32_t)pid))
			s = c;
	}
	if (!s)
		return -ENOMEM;
	/* The helper takes no application signal: only the barrier's. */
	sigfillset(&all);
	set_mask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	ret = -pthread_create(&helper, &attr, ge_helper, s);
	pthread_attr_destroy(&attr);
	set_mask(SIG_SETMASK, &old, NULL);
	if (ret) {
		reclaim(s, atomic_load(&s->owner));
		return ret;
	}
	/* Registered once the helper serves, as the kernel's is on return. */
	while (!smp_load_acquire(&s->ready))
		futex_wait(&s->ready, 0, 1, NULL);
	my_slot = s;
	return 0;
}

static int global_expedited(void)
{
	struct { struct ge_slot *s; uint64_t owner; uint32_t r; } want[REGISTRY_SLOTS];
	uint64_t start = mono_ns();
	int n = 0, self = 0, ret = 0;

	smp_mb();	/* [A]: pairs with the helpers' rounds' [H] */
	if (registry_map())
		return 0;	/* no registry: nobody registered */
	for (int i = 0; i < REGISTRY_SLOTS; i++) {
		struct ge_slot *s = &registry->slot[i];
		uint64_t o = atomic_load(&s->owner);

		if (!(uint32_t)o || !smp_load_acquire(&s->ready))
			continue;	/* free, or registering: not yet a target */
		if (s == my_slot) {
			self = 1;
			continue;
		}
		if (!helper_alive(s)) {
			reclaim(s, o);
			continue;
		}
		want[n].s = s, want[n].owner = o;
		want[n].r = atomic_fetch_add(&s->req, 1) + 1;
		futex_wake(&s->req, 1);
		n++;
	}
	if (self)
		ret = private_barrier(0, -1);
	for (int i = 0; i < n; i++) {
		struct ge_slot *s = want[i].s;
		uint32_t a;

		while ((int32_t)((a = smp_load_acquire(&s->ack)) - want[i].r) < 0) {
			struct timespec ts = ns_to_ts(2000000);

			if (futex_wait(&s->ack, a, 1, &ts) != -ETIMEDOUT)
				continue;
			if (atomic_load(&s->owner) != want[i].owner ||
			    !helper_alive(s)) {
				reclaim(s, want[i].owner);
				break;	/* died: exit is a full barrier */
			}
			if (mono_ns() - start > 2 * timeout_ns) {
				ret = -ETIMEDOUT;
				break;
			}
		}
		if (!ret && (int32_t)(a - want[i].r) >= 0)
			ret = atomic_load(&s->error);
	}
	smp_mb();	/* [B]: pairs with the helpers' acknowledgements */
	return ret;
}

/* ---- the ops ---- */

static const char *signal_unusable(void)
{
	static const char *why;
	static int checked;

	if (checked)
		return why;
	checked = 1;
	if (open_task_dir(0))
		return why = "cannot read /proc/self/task";
	return why;
}

static int reset_after_fork(void);

static void fork_child(void)
{
	reset_after_fork();
}

static unsigned int signal_probe(const char *why[UMB_NCMDS])
{
	const char *common = signal_unusable(), *sig_why = NULL;
	const char *env = getenv("UMB_SIGNAL_TIMEOUT_MS");
	unsigned int honours = 0;
	int sig;

	owner_pid = getpid();
	timeout_ns = (env && atol(env) > 0 ? (uint64_t)atol(env) :
		      DEFAULT_TIMEOUT_MS) * 1000000u;
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cpu_field_trusted = !umb_in_gvisor();
	/* Runs before umb.c's handler, which then re-prepares. */
	pthread_atfork(NULL, NULL, fork_child);
	if (!common && (sig = umb_sig ? umb_sig : choose_signal(&sig_why)) < 0)
		common = sig_why;
	if (!common && !umb_sig)
		find_emulator_tasks();
	for (int i = 0; i < UMB_NCMDS; i++) {
		const char *w = common;

		if (!w && i == UMB_CMD_GLOBAL)
			w = global_unusable();
		if (!w && i == UMB_CMD_SYNC_CORE && !serialize_probe())
			w = "no core-serializing instruction known on this CPU";
		if (!w && i == UMB_CMD_GLOBAL_EXPEDITED && registry_map())
			w = "cannot map the registry in /dev/shm";
		if (w)
			why[i] = w;
		else
			honours |= 1u << i;
	}
	return honours;
}

/* Per-process state for this process: fresh in a forked child. */
static int reset_after_fork(void)
{
	pid_t pid = getpid();
	int ret;

	if (owner_pid == pid && task_fd >= 0)
		return 0;
	owner_pid = pid;
	pthread_mutex_init(&round_lock, NULL);
	atomic_store(&remaining, 0);
	my_slot = NULL;		/* the parent's; the child claims its own */
	leader_zombie = 0;
	ret = open_task_dir(0);
	if (!ret)
		find_emulator_tasks();	/* an emulator starts new ones */
	return ret;
}

static int signal_prepare(int cmd)
{
	int ret = reset_after_fork();

	if (ret)
		return ret;
	if (cmd == MEMBARRIER_CMD_GLOBAL)
		return 0;
	ret = install_handler();
	if (!ret && cmd == MEMBARRIER_CMD_GLOBAL_EXPEDITED)
		ret = ge_register();
	return ret;
}

static int signal_run(int cmd, int cpu_id)
{
	switch (cmd) {
	case MEMBARRIER_CMD_GLOBAL:
		return global_barrier();
	case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
		return global_expedited();
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
		return private_barrier(1, -1);
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
		return private_barrier(0, cpu_id);
	default:
		return private_barrier(0, -1);
	}
}

const struct umb_backend umb_backend_signal = {
	.name = "signal",
	.probe = signal_probe,
	.prepare = signal_prepare,
	.run = signal_run,
};
