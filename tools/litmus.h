/* SPDX-License-Identifier: MIT */
/*
 * The litmus harness (tools/litmus.c): ordering tests that tell a real
 * process-wide barrier from a fake one.  It uses only the public API, so it
 * judges whatever mechanism UMB_BACKEND selected, the raw system call, or
 * the built-in fake.  Used by `umb litmus` and `umb conform`.
 */
#ifndef UMB_TOOLS_LITMUS_H
#define UMB_TOOLS_LITMUS_H

/* A heavy/light pair under test. */
struct litmus_mech {
	const char *name;
	int (*heavy)(void);	/* 0 or -errno */
	int library_light;	/* light side: umb_light() (1) or barrier() (0) */
};

extern const struct litmus_mech litmus_umb;	/* umb_heavy() + umb_light() */
extern const struct litmus_mech litmus_raw;	/* membarrier(2) itself */
extern const struct litmus_mech litmus_fake;	/* a compiler barrier only */

enum litmus_verdict { LITMUS_PASS, LITMUS_FAIL, LITMUS_INCONCLUSIVE };

struct litmus_result {
	const char *test;
	long iterations;	/* per run: measured and each control */
	long forbidden;		/* forbidden outcomes with the mechanism */
	long control_none;	/* ... with no heavy barrier at all */
	long control_fake;	/* ... with a compiler barrier as heavy */
	long target_slept;	/* wake: iterations the target really slept */
	int heavy_error;	/* first nonzero heavy() return */
	double seconds;
	enum litmus_verdict verdict;
	/* inconclusive because the hardware forbids the outcome anyway
	 * (MP on x86-TSO): the test cannot fail here, whatever the barrier */
	int hardware_forbids;
	const char *reason;	/* why, for FAIL and inconclusive */
};

/* Progress: called now and then with the iterations done in this test. */
typedef void (*litmus_progress)(void *ctx, long done);

/* Test names in order, NULL-terminated. */
extern const char *const litmus_test_names[];

/* Iterations test `name` runs when SB runs `sb_iterations` (slower tests run
 * fewer), or -1 if there is no such test. */
long litmus_iterations(const char *name, long sb_iterations);

/* Run test `name` (measured run, then both controls) and fill *r.
 * Returns 0, or -EINVAL for an unknown test. */
int litmus_run(const char *name, const struct litmus_mech *m, long sb_iterations,
	       litmus_progress progress, void *ctx, struct litmus_result *r);

const char *litmus_verdict_name(enum litmus_verdict v);

/* Why the harness cannot judge anything in this build or on this machine
 * (ThreadSanitizer, fewer than two CPUs), or NULL. */
const char *litmus_cannot_run(void);

#endif
