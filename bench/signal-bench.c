/* SPDX-License-Identifier: MIT */
/*
 * bench-signal: the cost of one PRIVATE_EXPEDITED barrier, in one run, by
 *   kernel  membarrier(2) itself,
 *   signal  umb's signal mechanism (futex-waited acknowledgements),
 *   naive   signal every thread, spin until every one acknowledged,
 * with R threads running (busy loops) and S threads sleeping (pause), for
 * R, S in {0, 1, 2, 8}.  Prints ns per barrier and the ratios the design
 * targets: naive/signal (>= 3 at S = 8) and signal/kernel (<= 3 at R <=
 * ncpu).  Usage: bench-signal [MILLISECONDS_PER_CELL]
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <umb.h>

#include "backend.h"
#include "barrier.h"

static _Atomic int stop_running;
static _Atomic long naive_acks;
static pid_t tids[32];
static _Atomic int ntids;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void naive_handler(int sig)
{
	(void)sig;
	smp_mb();
	atomic_fetch_add(&naive_acks, 1);
}

static void join_list(void)
{
	tids[atomic_fetch_add(&ntids, 1)] = (pid_t)syscall(SYS_gettid);
}

static void *running(void *arg)
{
	(void)arg;
	join_list();
	while (!stop_running)
		cpu_relax();
	return NULL;
}

static void *sleeping(void *arg)
{
	(void)arg;
	join_list();
	for (;;)
		pause();
	return NULL;
}

static int naive_barrier(void)
{
	long want = atomic_load(&naive_acks) + ntids;

	smp_mb();
	for (int i = 0; i < ntids; i++)
		syscall(SYS_tgkill, getpid(), tids[i], SIGUSR1);
	while (atomic_load(&naive_acks) < want)
		cpu_relax();
	smp_mb();
	return 0;
}

static int kernel_barrier(void)
{
	return umb_sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

static int signal_barrier(void)
{
	return umb_backend_signal.run(MEMBARRIER_CMD_PRIVATE_EXPEDITED, -1);
}

static double cost(int (*mb)(void), uint64_t budget)
{
	uint64_t start = now_ns(), t;
	long n = 0;

	do {
		if (mb())
			return -1;
		n++;
	} while ((t = now_ns()) - start < budget);
	return (double)(t - start) / (double)n;
}

int main(int argc, char **argv)
{
	static const int counts[] = { 0, 1, 2, 8 };
	uint64_t budget = (argc > 1 ? atol(argv[1]) : 200) * 1000000ull;
	struct sigaction sa = { .sa_handler = naive_handler, .sa_flags = SA_RESTART };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int kernel_ok;

	sigaction(SIGUSR1, &sa, NULL);
	kernel_ok = !umb_sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
	if (umb_backend_signal.prepare(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		fprintf(stderr, "the signal mechanism cannot be prepared\n");
		return 1;
	}
	printf("%ld CPUs; ns per PRIVATE_EXPEDITED barrier\n", ncpu);
	printf("%7s %8s %10s %10s %10s %13s %13s\n", "running", "sleeping",
	       "kernel", "signal", "naive", "signal/kernel", "naive/signal");
	for (int r = 0; r < 4; r++)
		for (int s = 0; s < 4; s++) {
			pthread_t th[16];
			int n = 0;
			double k, sg, nv;

			stop_running = 0;
			ntids = 0;
			for (int i = 0; i < counts[r]; i++)
				pthread_create(&th[n++], NULL, running, NULL);
			for (int i = 0; i < counts[s]; i++)
				pthread_create(&th[n++], NULL, sleeping, NULL);
			while (ntids < n)
				usleep(100);
			k = kernel_ok ? cost(kernel_barrier, budget) : -1;
			sg = cost(signal_barrier, budget);
			nv = cost(naive_barrier, budget);
			printf("%7d %8d %10.0f %10.0f %10.0f %13.2f %13.2f\n",
			       counts[r], counts[s], k, sg, nv,
			       k > 0 ? sg / k : 0.0, nv / sg);
			fflush(stdout);
			stop_running = 1;
			for (int i = 0; i < counts[r]; i++)
				pthread_join(th[i], NULL);
			for (int i = counts[r]; i < n; i++) {
				pthread_cancel(th[i]);
				pthread_join(th[i], NULL);
			}
		}
	return 0;
}
