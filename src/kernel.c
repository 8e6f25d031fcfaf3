/* SPDX-License-Identifier: MIT */
/*
 * The kernel mechanism: membarrier(2) itself.  It honours what QUERY says,
 * and the barrier runs entirely in the kernel, whose own barriers order it
 * (kernel/sched/membarrier.c); nothing here needs a fence.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"

int umb_sys_membarrier(int cmd, unsigned int flags, int cpu_id)
{
#ifdef SYS_membarrier
	int saved_errno = errno;	/* umb functions never set errno */
	long ret = syscall(SYS_membarrier, cmd, flags, cpu_id);

	if (ret < 0) {
		ret = -errno;
		errno = saved_errno;
	}
	return (int)ret;
#else
	(void)cmd, (void)flags, (void)cpu_id;
	return -ENOSYS;
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
