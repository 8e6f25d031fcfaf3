/* SPDX-License-Identifier: MIT */
/*
 * A JIT replacing code that other threads are running.
 *
 * The problem: a thread that ran code at some address may still hold the
 * old bytes in its instruction pipeline or prefetch buffers after another
 * thread rewrote them; a data fence does not help.  Before any thread may
 * run rewritten code, every thread must execute a serializing instruction:
 * umb_sync_core() (MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, or a
 * user-space mechanism with the same guarantee) makes every thread of the
 * process do so.
 *
 * The code page is mapped twice from one memfd (W^X): writable for the
 * patcher, executable for the callers.  The function lives in two slots;
 * the patcher rewrites the slot nobody may be running, calls
 * umb_sync_core(), then publishes it.  Before it rewrites a slot again it
 * waits until no caller is inside it: a caller announces the function it is
 * about to call, then re-checks that it is still the published one; with
 * the publication, the announcement and both loads seq_cst, the patcher
 * either sees the announcement or the caller sees the new function.
 *
 * Each version returns a 64-bit value whose high half is the complement of
 * its low half, set by one 8-byte immediate; callers check that they only
 * ever see a whole version, and never one older than what they saw before.
 *
 *	patcher					caller
 *	write slot s (RW view)			fn = load(current)
 *	umb_sync_core()				calling = fn
 *	current = s				if (load(current) != fn) retry
 *	wait while any calling == old		r = fn(); check r
 *						calling = NULL
 *
 * x86-64 only (the bytes below are x86-64 code).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umb.h>

#if defined(__x86_64__)

#define CALLERS 2
#define VERSIONS 20000
#define SLOT_SIZE 64

typedef uint64_t (*version_fn)(void);

struct caller {
	_Alignas(64) _Atomic(version_fn) calling;	/* NULL between calls */
	_Atomic unsigned long calls;
};

static unsigned char *code_rw, *code_rx;
static _Atomic(version_fn) current;
static _Atomic int stop;
static _Atomic int failed;
static struct caller callers[CALLERS];

static uint64_t value_of(uint32_t version)
{
	return (uint64_t)~version << 32 | version;
}

/* movabs $imm64, %rax; ret */
static void write_version(unsigned char *slot, uint32_t version)
{
	uint64_t imm = value_of(version);

	slot[0] = 0x48;
	slot[1] = 0xb8;
	memcpy(slot + 2, &imm, sizeof(imm));
	slot[10] = 0xc3;
}

static void *caller(void *arg)
{
	struct caller *self = arg;
	uint32_t last = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		version_fn fn = atomic_load(&current);

		atomic_store(&self->calling, fn);
		if (atomic_load(&current) != fn)
			continue;	/* republished meanwhile: announce again */
		uint64_t r = fn();
		uint32_t version = (uint32_t)r;

		if ((uint32_t)(r >> 32) != ~version || version < last) {
			fprintf(stderr, "caller saw %#018llx after version %u\n",
				(unsigned long long)r, last);
			atomic_store(&failed, 1);
		}
		last = version;
		atomic_store(&self->calling, NULL);
		atomic_fetch_add_explicit(&self->calls, 1, memory_order_relaxed);
	}
	return NULL;
}

/* Wait until no caller is inside the function at old. */
static void wait_for_callers(version_fn old)
{
	for (int i = 0; i < CALLERS; i++)
		while (atomic_load(&callers[i].calling) == old && !atomic_load(&failed))
			sched_yield();
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	pthread_t threads[CALLERS];
	int fd = memfd_create("jit-patch", MFD_CLOEXEC), ret;

	if (fd < 0 || ftruncate(fd, page)) {
		perror("memfd");
		return 77;
	}
	code_rw = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	code_rx = mmap(NULL, (size_t)page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	if (code_rw == MAP_FAILED || code_rx == MAP_FAILED) {
		fprintf(stderr, "jit-patch: cannot map code (W^X policy?); skipping\n");
		return 77;
	}
	ret = umb_sync_core();
	if (ret) {
		fprintf(stderr, "jit-patch: umb_sync_core: %s; skipping\n", strerror(-ret));
		return 77;
	}

	write_version(code_rw, 1);
	atomic_store(&current, (version_fn)(void *)code_rx);
	for (int i = 0; i < CALLERS; i++)
		pthread_create(&threads[i], NULL, caller, &callers[i]);
	for (int i = 0; i < CALLERS; i++)	/* patch while they run */
		while (!atomic_load(&callers[i].calls))
			sched_yield();

	for (uint32_t v = 2; v <= VERSIONS && !atomic_load(&failed); v++) {
		int slot = v & 1;

		write_version(code_rw + slot * SLOT_SIZE, v);
		/* Every thread serializes before it can reach the new bytes. */
		ret = umb_sync_core();
		if (ret) {
			fprintf(stderr, "umb_sync_core: %s\n", strerror(-ret));
			atomic_store(&failed, 1);
			break;
		}
		version_fn old = atomic_exchange(&current,
						 (version_fn)(void *)(code_rx + slot * SLOT_SIZE));
		/* The old slot is free again once no call can be inside it. */
		wait_for_callers(old);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < CALLERS; i++)
		pthread_join(threads[i], NULL);
	if (atomic_load(&failed)) {
		fprintf(stderr, "jit-patch: FAILED\n");
		return 1;
	}
	unsigned long calls = 0;

	for (int i = 0; i < CALLERS; i++)
		calls += atomic_load(&callers[i].calls);
	printf("jit-patch: %d versions published through %s, %lu calls saw only "
	       "whole versions\n", VERSIONS,
	       umb_command_backend(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE), calls);
	return 0;
}

#else
int main(void)
{
	fprintf(stderr, "jit-patch: the example's machine code is x86-64; skipping\n");
	return 77;
}
#endif
