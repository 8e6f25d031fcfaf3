/* SPDX-License-Identifier: MIT */
/*
 * libumb-preload.so: LD_PRELOAD it and syscall(SYS_membarrier, ...) and
 * membarrier() are answered by umb_membarrier(), so an unmodified program
 * gets the whole contract in gVisor, under seccomp, on old kernels.  This
 * file alone speaks -1/errno, because the system call does.
 * libumb itself reaches the kernel with the system call instruction (see
 * umb_sys_membarrier()), never through this interposer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include <umb.h>

typedef long (*syscall_fn)(long number, ...);

static syscall_fn libc_syscall;

/* Before any constructor that may call syscall(). */
__attribute__((constructor(101))) static void find_libc_syscall(void)
{
	libc_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
}

static long membarrier_errno(int cmd, unsigned int flags, int cpu_id)
{
	int ret = umb_membarrier(cmd, flags, cpu_id);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_membarrier)
		return membarrier_errno((int)a[0], (unsigned int)a[1], (int)a[2]);
	if (!libc_syscall)
		find_libc_syscall();
	return libc_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Some libcs (and programs) call a membarrier() wrapper by name. */
int membarrier(int cmd, unsigned int flags, int cpu_id)
{
	return (int)membarrier_errno(cmd, flags, cpu_id);
}
