/* SPDX-License-Identifier: MIT */
/*
 * umb litmus: ordering tests.  A membarrier emulation that is only a
 * compiler fence answers every ABI question right; only ordering tells it
 * from a real barrier.  The "caller" issues heavy(), the "target" uses only
 * light() (a compiler barrier when heavy is real).  Each iteration both
 * start together from a spin barrier on two CPUs, with small random delays
 * to slide one against the other, and the outcome is checked afterwards.
 *
 * sb: store buffering.  Each side's load can pass its own earlier store
 * (it waits in the store buffer): heavy() must put a full barrier into the
 * target's program somewhere, so its whole sequence falls either before
 * the caller's store is visible (then the caller sees y) or after (then
 * the target sees x).  The kernel's scenarios A and B at once.
 *
 *   caller (CPU a)                 target (CPU b)
 *   x = 1                          y = 1
 *   heavy()                        light()
 *   r2 = y                         r1 = x
 *            forbidden: r1 == 0 && r2 == 0
 *
 * mp-a: scenario A as a message.  What the caller stored before the
 * barrier is visible to every load the target makes after the point where
 * the barrier reached it.
 *
 *   caller                         target
 *   x = 1                          r1 = y
 *   heavy()                        light()
 *   y = 1                          r2 = x
 *            forbidden: r1 == 1 && r2 == 0
 *
 * mp-b: scenario B.  What the target stored before the barrier reached it
 * is visible to every load the caller makes after the barrier returns.
 *
 *   caller                         target
 *   r1 = y                         x = 1
 *   heavy()                        light()
 *   r2 = x                         y = 1
 *            forbidden: r1 == 1 && r2 == 0
 *
 * x86 never reorders store with store or load with load (TSO), so mp-a
 * and mp-b cannot fail there even with no barrier: on x86 they are
 * "inconclusive", never "pass".  They have teeth on arm64.
 *
 * wake: scenario C.  The target is asleep (futex) when the barrier starts
 * and is scheduled in while it runs.  A mechanism may skip a thread that
 * is not running (the kernel skips its CPU) only because being scheduled
 * in orders that thread after the barrier.  The caller wakes it and starts
 * the barrier about when it expects it on its CPU (an estimate of the
 * wake-up latency, with jitter).  sb's outcome is checked.
 *
 *   caller                         target
 *                                  futex_wait(gate)      asleep
 *   gate = 1; futex_wake(gate)
 *   x = 1                          (scheduled in)
 *   heavy()                        y = 1
 *   r2 = y                         light()
 *                                  r1 = x
 *            forbidden: r1 == 0 && r2 == 0
 *
 * spawn: like scenarios D and E (a thread joining or leaving the mm while
 * the barrier looks for targets): the target is a thread created for the
 * iteration, which starts running during the barrier.
 *
 *   caller                         target
 *   pthread_create(target)
 *   x = 1                          (starts)
 *   heavy()                        y = 1
 *   r2 = y                         light()
 *                                  r1 = x
 *            forbidden: r1 == 0 && r2 == 0
 *
 * Every test is run three times: with the mechanism, with no heavy barrier
 * at all, and with a compiler barrier as heavy (a fake).  Verdicts: pass
 * (the mechanism never showed the forbidden outcome and a control did),
 * FAIL (the mechanism showed it, or heavy() failed), inconclusive (no
 * control showed it: the run proves nothing).
 *
 * What the tests cannot see: store buffers drain in well under a
 * microsecond, so a fake that merely takes microseconds (a syscall that
 * interrupts no one) passes sb on x86 as well; the spin models cover that.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <umb.h>

#include "barrier.h"
#include "litmus.h"
#include "out.h"

enum shape { SHAPE_SB, SHAPE_MP_A, SHAPE_MP_B };
enum arrival { ARRIVE_RUNNING, ARRIVE_WAKE, ARRIVE_SPAWN };

static const struct litmus_test {
	const char *name;
	enum shape shape;
	enum arrival arrival;
	long cost;		/* runs sb_iterations / cost iterations */
} tests[] = {
	{ "sb", SHAPE_SB, ARRIVE_RUNNING, 1 },
	{ "mp-a", SHAPE_MP_A, ARRIVE_RUNNING, 1 },
	{ "mp-b", SHAPE_MP_B, ARRIVE_RUNNING, 1 },
	{ "wake", SHAPE_SB, ARRIVE_WAKE, 10 },
	{ "spawn", SHAPE_SB, ARRIVE_SPAWN, 5 },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

const char *const litmus_test_names[] = { "sb", "mp-a", "mp-b", "wake", "spawn", NULL };

static int raw_heavy(void)
{
	static int registered;	/* only the caller thread issues heavy() */

	if (!registered) {
		if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
			return -errno;
		registered = 1;
	}
	return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) ? -errno : 0;
}

static int fake_heavy(void)
{
	barrier();	/* the whole of a fake: orders nothing at run time */
	return 0;
}

const struct litmus_mech litmus_umb = { "umb", umb_heavy, 1 };
const struct litmus_mech litmus_raw = { "raw", raw_heavy, 0 };
const struct litmus_mech litmus_fake = { "fake", fake_heavy, 0 };

/* A sense-reversing spin barrier: the start (and finish) line. */
struct start_line {
	_Atomic int count;
	_Atomic int sense;
	int n;
};

static void start_line_wait(struct start_line *s, int *local_sense)
{
	int sense = !*local_sense;

	*local_sense = sense;
	/* seq_cst RMW: every access of the last iteration happens before
	 * anything after the line, on both sides (pairs with the load below). */
	if (atomic_fetch_sub(&s->count, 1) == 1) {
		atomic_store(&s->count, s->n);
		atomic_store(&s->sense, sense);
	} else {
		/* Spin, as the race needs; but a partner that is not running
		 * (another program pinned on its CPU, this machine shared)
		 * would cost a whole time slice per line: then yield. */
		for (unsigned int spins = 0; atomic_load(&s->sense) != sense; spins++)
			if (spins < 20000)
				cpu_relax();
			else
				sched_yield();
	}
}

/* One run of one test with one heavy/light pair. */
struct run {
	const struct litmus_test *test;
	int (*heavy)(void);	/* NULL: nothing at all */
	int library_light;
	int cpus[2];
	long iterations;
	litmus_progress progress;
	void *ctx;
	long progress_base;

	int x __attribute__((aligned(64)));
	int y __attribute__((aligned(64)));
	int gate __attribute__((aligned(64)));	/* wake: the futex */
	int r1, r2;
	uint64_t arrived_ns;	/* when the target started its sequence */
	int slept;
	struct start_line line;

	long forbidden, slept_total;
	int heavy_error;
	const char *harness_error;	/* the run stopped early */
};

static void heavy(struct run *r)
{
	if (r->heavy) {
		int ret = r->heavy();

		if (ret && !r->heavy_error)
			r->heavy_error = ret;
	}
}

/* What the library decided (a compiler barrier when heavy is real), or a
 * compiler barrier for the raw system call, the fake and the controls. */
static inline void light(struct run *r)
{
	if (r->library_light)
		umb_light();
	else
		barrier();
}

static void caller_sequence(struct run *r)
{
	switch (r->test->shape) {
	case SHAPE_SB:
		WRITE_ONCE(r->x, 1);
		heavy(r);		/* pairs with light() in target_sequence() */
		r->r2 = READ_ONCE(r->y);
		break;
	case SHAPE_MP_A:
		WRITE_ONCE(r->x, 1);
		heavy(r);		/* pairs with light() in target_sequence() */
		WRITE_ONCE(r->y, 1);
		break;
	case SHAPE_MP_B:
		r->r1 = READ_ONCE(r->y);
		heavy(r);		/* pairs with light() in target_sequence() */
		r->r2 = READ_ONCE(r->x);
		break;
	}
}

static void target_sequence(struct run *r)
{
	switch (r->test->shape) {
	case SHAPE_SB:
		WRITE_ONCE(r->y, 1);
		light(r);		/* pairs with heavy() in caller_sequence() */
		r->r1 = READ_ONCE(r->x);
		break;
	case SHAPE_MP_A:
		r->r1 = READ_ONCE(r->y);
		light(r);		/* pairs with heavy() in caller_sequence() */
		r->r2 = READ_ONCE(r->x);
		break;
	case SHAPE_MP_B:
		WRITE_ONCE(r->x, 1);
		light(r);		/* pairs with heavy() in caller_sequence() */
		WRITE_ONCE(r->y, 1);
		break;
	}
}

static int outcome_forbidden(const struct run *r)
{
	if (r->test->shape == SHAPE_SB)
		return r->r1 == 0 && r->r2 == 0;
	return r->r1 == 1 && r->r2 == 0;	/* saw the flag, not the data */
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A few dozen cycles at most: slides the two sequences against each other
 * by about the time a store waits in the store buffer. */
static void small_delay(uint64_t *seed)
{
	for (unsigned int n = next_random(seed) % 128; n; n--)
		barrier();
}

static void spin_until(uint64_t t)
{
	while (now_ns() < t)
		cpu_relax();
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static long futex(int *addr, int op, int val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* The target of wake and spawn: note when it runs, then its sequence. */
static void target_arrives(struct run *r)
{
	WRITE_ONCE(r->arrived_ns, now_ns());
	target_sequence(r);
}

static void *spawned_target(void *arg)
{
	target_arrives(arg);
	return NULL;
}

static void *target_thread(void *arg)
{
	struct run *r = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int sense = 0;

	pin(r->cpus[1]);
	for (long i = 0; i < r->iterations; i++) {
		start_line_wait(&r->line, &sense);
		if (r->test->arrival == ARRIVE_WAKE) {
			/* EAGAIN: the gate opened before this thread slept
			 * (that iteration is an sb one); EINTR: a signal. */
			while (!smp_load_acquire(&r->gate))
				if (!futex(&r->gate, FUTEX_WAIT_PRIVATE, 0))
					r->slept = 1;
			target_arrives(r);
		} else if (r->test->arrival == ARRIVE_SPAWN) {
			/* Yield the CPU to the new target the moment it is
			 * created: an idle CPU would wake it far later and
			 * with far more jitter (tens of microseconds here). */
			while (!READ_ONCE(r->arrived_ns))
				sched_yield();
		} else {
			small_delay(&seed);
			target_sequence(r);
		}
		start_line_wait(&r->line, &sense);
		if (r->harness_error)
			break;
	}
	return NULL;
}

static void *caller_thread(void *arg)
{
	struct run *r = arg;
	const struct litmus_test *t = r->test;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	int64_t latency = 0;	/* estimate: signal to target running */
	pthread_attr_t attr;
	cpu_set_t set;
	int sense = 0;

	pin(r->cpus[0]);
	pthread_attr_init(&attr);
	CPU_ZERO(&set);
	CPU_SET(r->cpus[1], &set);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	for (long i = 0; i < r->iterations; i++) {
		uint64_t signalled = 0, window;
		pthread_t spawned;

		start_line_wait(&r->line, &sense);
		switch (t->arrival) {
		case ARRIVE_RUNNING:
			small_delay(&seed);
			break;
		case ARRIVE_WAKE:
			/* Let the target fall asleep, then wake it. */
			spin_until(now_ns() + 20000);
			signalled = now_ns();
			smp_store_release(&r->gate, 1);
			futex(&r->gate, FUTEX_WAKE_PRIVATE, 1);
			break;
		case ARRIVE_SPAWN:
			/* Creating a thread takes ~30 us here, most of it
			 * before the new thread runs: start counting after. */
			if (pthread_create(&spawned, &attr, spawned_target, r)) {
				/* Release the target; both stop at the line. */
				r->harness_error = "pthread_create failed";
				WRITE_ONCE(r->arrived_ns, 1);
			}
			signalled = now_ns();
			break;
		}
		if (signalled) {
			/* Start about when the target does: the latency
			 * estimate, give or take a sixteenth. */
			window = (latency > 0 ? latency : -latency) / 8 + 300;
			spin_until(signalled + latency - window / 2 +
				   next_random(&seed) % window);
		}
		if (r->harness_error) {
			start_line_wait(&r->line, &sense);
			break;
		}
		caller_sequence(r);
		if (t->arrival == ARRIVE_SPAWN)
			pthread_join(spawned, NULL);
		start_line_wait(&r->line, &sense);

		/* Both sides are past the line: read and reset. */
		r->forbidden += outcome_forbidden(r);
		if (signalled) {
			int64_t sample = (int64_t)(r->arrived_ns - signalled);

			if (latency > 0 && sample > 4 * latency)
				sample = 4 * latency;	/* a preemption, not the latency */
			latency = i ? latency + (sample - latency) / 8 : sample;
		}
		r->slept_total += r->slept;
		r->x = r->y = r->r1 = r->r2 = r->slept = 0;
		r->arrived_ns = 0;
		r->gate = 0;
		if (r->progress && !(i & 1023))
			r->progress(r->ctx, r->progress_base + i);
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static void run_once(struct run *r)
{
	pthread_t caller, target;

	r->line.n = 2;
	atomic_store(&r->line.count, r->line.n);
	atomic_store(&r->line.sense, 0);
	pthread_create(&caller, NULL, caller_thread, r);
	pthread_create(&target, NULL, target_thread, r);
	pthread_join(caller, NULL);
	pthread_join(target, NULL);
}

/* The first two CPUs this process may run on, or -1 if it has fewer. */
static int two_cpus(int cpus[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n == 2 ? 0 : -1;
}

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

const char *litmus_cannot_run(void)
{
	int cpus[2];

#ifdef UNDER_TSAN
	/* The tests race on purpose (on atomics, so TSan reports nothing)
	 * and its instrumentation puts a call around every access, which
	 * drains the windows the controls need: the runs would prove nothing. */
	return "ThreadSanitizer build: the races are the test, and instrumented accesses hide them";
#endif
	if (two_cpus(cpus))
		return "needs two CPUs: one thread cannot race itself";
	return NULL;
}

static const struct litmus_test *find_test(const char *name)
{
	for (size_t i = 0; i < NTESTS; i++)
		if (!strcmp(tests[i].name, name))
			return &tests[i];
	return NULL;
}

long litmus_iterations(const char *name, long sb_iterations)
{
	const struct litmus_test *t = find_test(name);
	long n;

	if (!t)
		return -1;
	n = sb_iterations / t->cost;
	return n < 100 ? (sb_iterations < 100 ? sb_iterations : 100) : n;
}

static int hardware_forbids(enum shape shape)
{
#if defined(__x86_64__) || defined(__i386__)
	return shape != SHAPE_SB;	/* TSO: only a load may pass a store */
#else
	(void)shape;
	return 0;
#endif
}

int litmus_run(const char *name, const struct litmus_mech *m, long sb_iterations,
	       litmus_progress progress, void *ctx, struct litmus_result *res)
{
	const struct litmus_test *t = find_test(name);
	struct run *r;
	long counts[3];
	int cpus[2];
	uint64_t start = now_ns();

	if (!t)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->test = t->name;
	res->iterations = litmus_iterations(name, sb_iterations);
	res->reason = litmus_cannot_run();
	if (res->reason || two_cpus(cpus)) {
		res->verdict = LITMUS_INCONCLUSIVE;
		return 0;
	}
	r = aligned_alloc(64, (sizeof(*r) + 63) / 64 * 64);
	if (!r)
		return -ENOMEM;
	/* 0: the mechanism; 1: no heavy barrier; 2: a compiler barrier. */
	for (int kind = 0; kind < 3; kind++) {
		memset(r, 0, sizeof(*r));
		r->test = t;
		r->heavy = kind == 0 ? m->heavy : kind == 2 ? fake_heavy : NULL;
		r->library_light = kind == 0 && m->library_light;
		r->cpus[0] = cpus[0];
		r->cpus[1] = cpus[1];
		r->iterations = res->iterations;
		r->progress = progress;
		r->ctx = ctx;
		r->progress_base = kind * res->iterations;
		run_once(r);
		counts[kind] = r->forbidden;
		if (r->harness_error)
			res->reason = r->harness_error;
		if (kind == 0) {
			res->heavy_error = r->heavy_error;
			res->target_slept = r->slept_total;
		}
	}
	free(r);
	res->forbidden = counts[0];
	res->control_none = counts[1];
	res->control_fake = counts[2];
	res->seconds = (now_ns() - start) / 1e9;

	if (res->reason) {
		res->verdict = LITMUS_INCONCLUSIVE;	/* the harness broke */
	} else if (res->heavy_error) {
		res->verdict = LITMUS_FAIL;
		res->reason = "heavy() failed";
	} else if (res->forbidden) {
		res->verdict = LITMUS_FAIL;
		res->reason = "the forbidden outcome happened with the barrier";
	} else if (!res->control_none && !res->control_fake) {
		res->verdict = LITMUS_INCONCLUSIVE;
		res->hardware_forbids = hardware_forbids(t->shape);
		res->reason = res->hardware_forbids ?
			"cannot fail on this hardware: x86-TSO forbids this outcome even without a barrier" :
			"the controls never showed the forbidden outcome, so this run proves nothing";
	} else if (m->library_light && umb_light_needs_fence) {
		res->verdict = LITMUS_INCONCLUSIVE;
		res->reason = "umb_light() is a full fence (no process-wide barrier): heavy() is not what passed";
	} else {
		res->verdict = LITMUS_PASS;
	}
	return 0;
}

const char *litmus_verdict_name(enum litmus_verdict v)
{
	return v == LITMUS_PASS ? "pass" : v == LITMUS_FAIL ? "FAIL" : "inconclusive";
}

/* ---- umb litmus ---- */

struct progress_bar {
	const char *test;
	long total;
};

static void draw_progress(void *ctx, long done)
{
	struct progress_bar *p = ctx;
	int width = 40, filled = p->total ? (int)(width * done / p->total) : 0;

	fprintf(stderr, "\r%-6s [%-*.*s] %3d%%", p->test, width, filled,
		"########################################",
		p->total ? (int)(100 * done / p->total) : 0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umb litmus [--backend B] [--test T] [--iterations N] [--json]\n"
		"\n"
		"Ordering tests that tell a real process-wide barrier from a fake one\n"
		"(an emulation that is only a compiler fence passes every ABI test).\n"
		"Two threads on two CPUs race each iteration; the caller uses\n"
		"umb_heavy(), the target only umb_light().  Each test runs with the\n"
		"mechanism and twice as a control: no heavy barrier, and a compiler\n"
		"barrier as heavy.  Both controls must show the forbidden outcome on\n"
		"this machine, or the run proves nothing.\n"
		"\n"
		"tests (default: all):\n"
		"  sb     store buffering: x=1; heavy; r2=y || y=1; light; r1=x\n"
		"         forbidden r1=0 and r2=0 (kernel scenarios A and B at once)\n"
		"  mp-a   caller x=1; heavy; y=1 || target r1=y; light; r2=x\n"
		"         forbidden r1=1 and r2=0 (scenario A)\n"
		"  mp-b   target x=1; light; y=1 || caller r1=y; heavy; r2=x\n"
		"         forbidden r1=1 and r2=0 (scenario B)\n"
		"  wake   sb with a target asleep in futex_wait, woken so that it is\n"
		"         scheduled in during the barrier (scenario C)\n"
		"  spawn  sb with a target thread created during the barrier\n"
		"         (scenarios D/E: threads joining the process mid-barrier)\n"
		"  mp     both mp tests\n"
		"\n"
		"options:\n"
		"  --backend B     auto, kernel, mprotect, signal (sets UMB_BACKEND and\n"
		"                  re-executes), raw (membarrier(2) itself), or fake\n"
		"                  (heavy = compiler barrier: must FAIL; proves the\n"
		"                  harness has teeth).  Default: UMB_BACKEND as set.\n"
		"  --test T        one test (repeatable)\n"
		"  --iterations N  sb iterations per run (default 1000000); mp the same,\n"
		"                  wake N/10, spawn N/5\n"
		"  --json          a list of objects: test, mechanism, iterations,\n"
		"                  forbidden, control_none, control_fake, verdict, reason\n"
		"\n"
		"verdicts: pass (0 forbidden with the barrier, >0 in a control), FAIL\n"
		"(>0 with the barrier, or heavy() failed), inconclusive (no control\n"
		"saw the outcome; marked when the hardware forbids it anyway, e.g. mp\n"
		"on x86-TSO).  A progress bar goes to stderr when it is a terminal.\n"
		"exit codes: 0 every verdict pass or hardware-inconclusive, 1 a FAIL,\n"
		"2 usage error, 77 some other test inconclusive (the run proves nothing).\n");
}

static int selected(char **only, int n_only, const char *name)
{
	if (!n_only)
		return 1;
	for (int i = 0; i < n_only; i++)
		if (!strcmp(only[i], name) ||
		    (!strcmp(only[i], "mp") && !strncmp(name, "mp-", 3)))
			return 1;
	return 0;
}

int cmd_litmus(int argc, char **argv)
{
	const struct litmus_mech *m = &litmus_umb;
	const char *backend = NULL;
	char *only[16];
	int n_only = 0, json_out = 0, failed = 0, unproven = 0;
	long iterations = 1000000;
	struct json j;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json_out = 1;
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			backend = argv[++i];
		} else if (!strcmp(argv[i], "--test") && i + 1 < argc && n_only < 16) {
			only[n_only] = argv[++i];
			if (strcmp(only[n_only], "mp") &&
			    litmus_iterations(only[n_only], 1) < 0) {
				fprintf(stderr, "umb litmus: unknown test '%s'\n", only[n_only]);
				return EXIT_USAGE;
			}
			n_only++;
		} else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
			char *end;

			iterations = strtol(argv[++i], &end, 0);
			if (*end || iterations <= 0) {
				fprintf(stderr, "umb litmus: bad --iterations '%s'\n", argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "umb litmus: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (backend && !strcmp(backend, "fake")) {
		m = &litmus_fake;
	} else if (backend && !strcmp(backend, "raw")) {
		m = &litmus_raw;
	} else if (backend) {
		const char *env = getenv("UMB_BACKEND");

		/* The library reads UMB_BACKEND before main(): re-execute. */
		if (!env || strcmp(env, backend)) {
			setenv("UMB_BACKEND", backend, 1);
			execv("/proc/self/exe", argv - 1);
			fprintf(stderr, "umb litmus: cannot re-exec: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
	}

	if (json_out) {
		json_init(&j, stdout);
		json_open(&j, NULL, '[');
	} else {
		printf("mechanism %s, light side %s\n\n%-6s %11s %10s %13s %13s  %s\n",
		       m == &litmus_umb ? umb_backend_name() : m->name,
		       m->library_light && umb_light_needs_fence ? "a full fence" :
		       "a compiler barrier", "test", "iterations", "forbidden",
		       "control-none", "control-fake", "verdict");
	}
	fflush(stdout);
	for (int i = 0; litmus_test_names[i]; i++) {
		const char *name = litmus_test_names[i];
		struct progress_bar bar = { name, 3 * litmus_iterations(name, iterations) };
		struct litmus_result r;

		if (!selected(only, n_only, name))
			continue;
		litmus_run(name, m, iterations, isatty(2) ? draw_progress : NULL, &bar, &r);
		if (isatty(2))
			fprintf(stderr, "\r%*s\r", 60, "");
		failed |= r.verdict == LITMUS_FAIL;
		unproven |= r.verdict == LITMUS_INCONCLUSIVE && !r.hardware_forbids;
		if (json_out) {
			json_open(&j, NULL, '{');
			json_str(&j, "test", r.test);
			json_str(&j, "mechanism", m == &litmus_umb ? umb_backend_name() : m->name);
			json_int(&j, "iterations", r.iterations);
			json_int(&j, "forbidden", r.forbidden);
			json_int(&j, "control_none", r.control_none);
			json_int(&j, "control_fake", r.control_fake);
			if (!strcmp(name, "wake"))
				json_int(&j, "target_slept", r.target_slept);
			json_int(&j, "heavy_error", r.heavy_error);
			json_num(&j, "seconds", r.seconds);
			json_str(&j, "verdict", litmus_verdict_name(r.verdict));
			json_bool(&j, "hardware_forbids", r.hardware_forbids);
			json_str(&j, "reason", r.reason);
			json_close(&j, '}');
		} else {
			char err[32];

			printf("%-6s %11ld %10ld %13ld %13ld  %s", r.test, r.iterations,
			       r.forbidden, r.control_none, r.control_fake,
			       litmus_verdict_name(r.verdict));
			if (r.reason)
				printf(": %s", r.reason);
			if (r.heavy_error)
				printf(" (%s)", result_name(r.heavy_error, err));
			if (!strcmp(name, "wake"))
				printf(" [target asleep when woken in %ld]", r.target_slept);
			printf(" %.1fs\n", r.seconds);
		}
		fflush(stdout);
	}
	if (json_out)
		json_close(&j, ']');
	if (!failed && unproven)
		fprintf(stderr, "umb litmus: inconclusive, so this run proves "
			"nothing (reasons above); exit 77\n");
	return failed ? EXIT_FAILED : unproven ? 77 : EXIT_OK;
}
