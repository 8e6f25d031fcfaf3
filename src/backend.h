/* SPDX-License-Identifier: MIT */
/*
 * The mechanism ops table.  A mechanism (a "backend") is one way of running
 * membarrier's barrier commands; umb.c validates every call with the
 * kernel's rules, keeps the registration state, and hands each barrier
 * command to the mechanism chosen for it.  One file per mechanism.
 */
#ifndef UMB_BACKEND_H
#define UMB_BACKEND_H

#include <umb.h>

/* The barrier commands, each a single MEMBARRIER_CMD_* bit.  The matching
 * REGISTER command of each is the next bit up (the kernel's numbering). */
enum umb_cmd_index {
	UMB_CMD_GLOBAL,
	UMB_CMD_GLOBAL_EXPEDITED,
	UMB_CMD_PRIVATE_EXPEDITED,
	UMB_CMD_SYNC_CORE,
	UMB_CMD_RSEQ,
	UMB_NCMDS
};

extern const int umb_cmd_value[UMB_NCMDS];	/* index -> MEMBARRIER_CMD_* */
extern const char *const umb_cmd_name[UMB_NCMDS];

/* Index of barrier command cmd, or -1 if cmd is not one. */
int umb_cmd_index(int cmd);

struct umb_backend {
	const char *name;
	/*
	 * Which barrier commands this mechanism honours in this process, as a
	 * mask of (1 << enum umb_cmd_index).  Called once, before the first
	 * barrier; for each command it rejects it stores a short reason in
	 * why[index] (a string literal).
	 */
	unsigned int (*probe)(const char *why[UMB_NCMDS]);
	/*
	 * Make barrier command cmd usable by this process: register with the
	 * kernel, install a handler, join a registry.  Called at most once per
	 * command that succeeds, under umb's registration lock.  Returns 0 or
	 * -errno.  Called again in a forked child for every command prepared
	 * in the parent (umb.c's atfork handler): it must then make the
	 * mechanism work for the child, and be idempotent otherwise.
	 */
	int (*prepare)(int cmd);
	/* Run barrier command cmd on every CPU (cpu_id < 0) or on cpu_id only. */
	int (*run)(int cmd, int cpu_id);
};

extern const struct umb_backend umb_backend_kernel;
extern const struct umb_backend umb_backend_mprotect;
extern const struct umb_backend umb_backend_signal;

/* Every mechanism, in the order `auto` tries them, NULL-terminated. */
#define UMB_MAX_BACKENDS 4
extern const struct umb_backend *const umb_backends[UMB_MAX_BACKENDS + 1];

/* The raw system call: >= 0 or -errno. */
int umb_sys_membarrier(int cmd, unsigned int flags, int cpu_id);

/* 1 when running inside gVisor (cached; safe before main()). */
int umb_in_gvisor(void);

/*
 * What selection found, for `umb probe`: the mechanism serving each command
 * (NULL if none) and why each mechanism rejected each command (NULL where it
 * accepted, or was not tried because UMB_BACKEND forced another).
 */
struct umb_selection {
	int error;				/* -EINVAL: bad UMB_BACKEND */
	const char *forced;			/* UMB_BACKEND, or NULL for auto */
	const struct umb_backend *by_cmd[UMB_NCMDS];
	const char *why[UMB_MAX_BACKENDS][UMB_NCMDS]; /* [backend][cmd] */
};
const struct umb_selection *umb_selection(void);

#endif /* UMB_BACKEND_H */
