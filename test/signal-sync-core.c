/* SPDX-License-Identifier: MIT */
/*
 * PRIVATE_EXPEDITED_SYNC_CORE as a JIT uses it: a writer rewrites a
 * function ("return v") in place, makes it visible to the instruction side
 * (__builtin___clear_cache), issues umb_sync_core(), then publishes v;
 * threads calling the function in a loop must never run an older version
 * than the one published before the call.  Also: a thread that cannot take
 * the barrier signal makes SYNC_CORE fail (-ETIMEDOUT), so the handler is
 * what serializes the other threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)

#define READERS 2
#define VERSIONS 300

static unsigned char *code;
static _Atomic int published, stop, stale;
typedef int (*fn)(void);

static void write_version(int v)
{
#if defined(__x86_64__)
	unsigned char insn[6] = { 0xb8, 0, 0, 0, 0, 0xc3 };	/* mov eax, v; ret */

	memcpy(insn + 1, &v, 4);
	memcpy(code, insn, sizeof(insn));
#elif defined(__aarch64__)
	uint32_t insn[2] = { 0x52800000u | ((uint32_t)v << 5), 0xd65f03c0u };	/* movz w0, v; ret */

	memcpy(code, insn, sizeof(insn));
#endif
	__builtin___clear_cache((char *)code, (char *)code + 16);
}

static void *reader(void *arg)
{
	(void)arg;
	while (!stop) {
		int p = atomic_load_explicit(&published, memory_order_acquire);

		if (((fn)(void *)code)() < p)
			stale++;
	}
	return NULL;
}

static void *raw_blocker(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, _NSIG / 8);
	*(_Atomic int *)arg = 1;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	pthread_t r[READERS], b;
	_Atomic int blocked = 0;

#if !defined(__x86_64__) && !defined(__aarch64__)
	fprintf(stderr, "no code generator for this architecture\n");
	return 77;
#endif
	if (strcmp(umb_command_backend(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) ?: "",
		   "signal")) {
		fprintf(stderr, "needs UMB_BACKEND=signal\n");
		return 77;
	}
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) {
		fprintf(stderr, "no writable executable mapping\n");
		return 77;
	}
	write_version(0);
	for (int i = 0; i < READERS; i++)
		EXPECT(!pthread_create(&r[i], NULL, reader, NULL));
	for (int v = 1; v <= VERSIONS; v++) {
		write_version(v);
		EXPECT(umb_sync_core() == 0);
		atomic_store_explicit(&published, v, memory_order_release);
	}
	EXPECT(!pthread_create(&b, NULL, raw_blocker, &blocked));
	while (!blocked)
		usleep(1000);
	EXPECT(umb_sync_core() == -ETIMEDOUT);
	stop = 1;
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	pthread_join(b, NULL);
	EXPECT(stale == 0);
	printf("%d code versions, no stale execution\n", VERSIONS);
	return 0;
}
