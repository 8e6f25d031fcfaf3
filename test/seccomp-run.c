/* SPDX-License-Identifier: MIT */
/*
 * seccomp-run [-s SYSCALL] ACTION CMD [ARG...]: run CMD with membarrier(2)
 * (or SYSCALL: membarrier or mlock) filtered the way a container runtime may
 * filter it, every other system call allowed.
 *
 *   ENOSYS  membarrier fails with ENOSYS, as on a kernel without it
 *   EPERM   membarrier fails with EPERM, a runtime's usual "denied"
 *   TRAP    membarrier raises SIGSYS (SECCOMP_RET_TRAP); without a handler
 *           the process dies of it
 *   KILL    membarrier kills the process (SECCOMP_RET_KILL_PROCESS)
 *
 * Under TRAP and KILL, umb's own QUERY probe (UMB_BACKEND=auto or kernel)
 * is fatal: a process there must say UMB_BACKEND=signal or mprotect, which
 * skip the kernel mechanism and never issue the system call.
 * `-s mlock EPERM` refuses mlock() as containers without CAP_IPC_LOCK and
 * with RLIMIT_MEMLOCK 0 do, even for root (which the rlimit does not bind).
 *
 * No root needed: PR_SET_NO_NEW_PRIVS lets any process install a filter,
 * which then holds for CMD and everything it forks.  Exit 77 (skip) where
 * the filter cannot be installed.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

static const struct {
	const char *name;
	unsigned int action;
} actions[] = {
	{ "ENOSYS", SECCOMP_RET_ERRNO | ENOSYS },
	{ "EPERM", SECCOMP_RET_ERRNO | EPERM },
	{ "TRAP", SECCOMP_RET_TRAP },
	{ "KILL", SECCOMP_RET_KILL_PROCESS },
};

int main(int argc, char **argv)
{
	unsigned int action = 0;
	const char *syscall_name = "membarrier";

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		syscall_name = argv[2];
		argc -= 2, argv += 2;
	}
	for (size_t i = 0; argc > 2 && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(argv[1], actions[i].name))
			action = actions[i].action;
	if (!action || (strcmp(syscall_name, "membarrier") &&
			strcmp(syscall_name, "mlock"))) {
		fprintf(stderr, "usage: seccomp-run [-s membarrier|mlock] "
			"ENOSYS|EPERM|TRAP|KILL CMD [ARG...]\n");
		return 2;
	}
#if defined(NATIVE_ARCH) && defined(SYS_membarrier)
	unsigned int nr = strcmp(syscall_name, "mlock") ? SYS_membarrier : SYS_mlock;
	struct sock_filter filter[] = {
		/* Numbers are per ABI: a foreign one (i386 on x86-64) is killed. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
		/* x32 shares AUDIT_ARCH_X86_64 and sets this bit in nr. */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0x40000000u /* __X32_SYSCALL_BIT */),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		fprintf(stderr, "skip: cannot install a seccomp filter: %s\n",
			strerror(errno));
		return 77;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "seccomp-run: %s: %s\n", argv[2], strerror(errno));
	return 127;
#else
	fprintf(stderr, "skip: no seccomp filter written for this architecture\n");
	return 77;
#endif
}
