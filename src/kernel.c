/* SPDX-License-Identifier: MIT */
/*
 * The kernel mechanism: membarrier(2) itself.  It honours what QUERY says,
 * and the barrier runs entirely in the kernel, whose own barriers order it
 * (kernel/sched/membarrier.c); nothing here needs a fence.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "backend.h"

/*
 * The system call itself, not libc's syscall(): the LD_PRELOAD shim
 * interposes syscall(), and the library must reach the kernel beneath it.
 * Returns -errno in the kernel's own convention; errno is never touched.
 */
int umb_sys_membarrier(int cmd, unsigned int flags, int cpu_id)
{
#if defined(__x86_64__)
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "0"((long)SYS_membarrier), "D"((long)cmd),
			       "S"((long)flags), "d"((long)cpu_id)
			     : "rcx", "r11", "memory");
	return (int)ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_membarrier;
	register long x0 __asm__("x0") = cmd;
	register long x1 __asm__("x1") = flags;
	register long x2 __asm__("x2") = cpu_id;

	__asm__ __volatile__("svc 0"
			     : "+r"(x0)
			     : "r"(x8), "r"(x1), "r"(x2)
			     : "memory");
	return (int)x0;
#else
#error "umb supports x86-64 and arm64: add this architecture's system call here"
#endif
}

static unsigned int kernel_probe(const char *why[UMB_NCMDS])
{
	int mask = umb_sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	unsigned int honours = 0;

	for (int i = 0; i < UMB_NCMDS; i++) {
		if (mask == -ENOSYS)
			why[i] = "membarrier(2) answers ENOSYS (old kernel or seccomp)";
		else if (mask == -EPERM)
			why[i] = "membarrier(2) answers EPERM (seccomp)";
		else if (mask < 0)
			why[i] = "membarrier(2) QUERY fails";
		else if (!(mask & umb_cmd_value[i]))
			why[i] = i == UMB_CMD_GLOBAL ?
				"not in QUERY (nohz_full, or sandbox)" :
				"not in QUERY";
		else
			honours |= 1u << i;
	}
	return honours;
}

static int kernel_prepare(int cmd)
{
	/* GLOBAL needs no registration; for the rest REGISTER is cmd << 1. */
	if (cmd == MEMBARRIER_CMD_GLOBAL)
		return 0;
	return umb_sys_membarrier(cmd << 1, 0, 0);
}

static int kernel_barrier(int cmd, int cpu_id)
{
	if (cpu_id >= 0)
		return umb_sys_membarrier(cmd, MEMBARRIER_CMD_FLAG_CPU, cpu_id);
	return umb_sys_membarrier(cmd, 0, 0);
}

const struct umb_backend umb_backend_kernel = {
	.name = "kernel",
	.probe = kernel_probe,
	.prepare = kernel_prepare,
	.run = kernel_barrier,
};
