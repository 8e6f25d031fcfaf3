/* SPDX-License-Identifier: MIT */
/*
 * umb_membarrier(): the kernel's argument rules and registration state, and
 * the per-command choice of mechanism.
 *
 * Registration is umb's own, kept as the kernel keeps mm->membarrier_state:
 * per process, inherited across fork (it is ordinary memory), cleared by exec
 * (a new image starts with a fresh library).  A REGISTER command prepares the
 * mechanism chosen for its barrier command; the barrier command then fails
 * with -EPERM until its own REGISTER succeeded.  Separately, the library
 * prepares PRIVATE_EXPEDITED for umb_heavy() before main() (registering with
 * the kernel costs a grace period once the process has threads); that is not
 * a registration the caller made and GET_REGISTRATIONS does not show it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "barrier.h"

const int umb_cmd_value[UMB_NCMDS] = {
	[UMB_CMD_GLOBAL] = MEMBARRIER_CMD_GLOBAL,
	[UMB_CMD_GLOBAL_EXPEDITED] = MEMBARRIER_CMD_GLOBAL_EXPEDITED,
	[UMB_CMD_PRIVATE_EXPEDITED] = MEMBARRIER_CMD_PRIVATE_EXPEDITED,
	[UMB_CMD_SYNC_CORE] = MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	[UMB_CMD_RSEQ] = MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
};

const char *const umb_cmd_name[UMB_NCMDS] = {
	[UMB_CMD_GLOBAL] = "GLOBAL",
	[UMB_CMD_GLOBAL_EXPEDITED] = "GLOBAL_EXPEDITED",
	[UMB_CMD_PRIVATE_EXPEDITED] = "PRIVATE_EXPEDITED",
	[UMB_CMD_SYNC_CORE] = "PRIVATE_EXPEDITED_SYNC_CORE",
	[UMB_CMD_RSEQ] = "PRIVATE_EXPEDITED_RSEQ",
};

const struct umb_backend *const umb_backends[UMB_MAX_BACKENDS + 1] = {
	&umb_backend_kernel,
	&umb_backend_mprotect,
	&umb_backend_signal,
	NULL,
};

int umb_light_needs_fence = 1;	/* until a mechanism serves umb_heavy() */

static struct umb_selection selection;
static pthread_once_t selection_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

/* Barrier commands prepared by their mechanism (1 << index). */
static _Atomic unsigned int prepared;
/* Barrier commands the caller registered (the kernel's *_READY bits). */
static _Atomic unsigned int registered;
/* What GET_REGISTRATIONS answers (REGISTER_* command bits). */
static _Atomic unsigned int reported;
/* QUERY's answer, fixed by selection. */
static int query_mask = -ENOSYS;
/* Why umb_heavy() has no mechanism (0: it has one); set before main(). */
static int heavy_ready_error;

int umb_cmd_index(int cmd)
{
	/* Barrier commands are single bits 0, 1, 3, 5 and 7. */
	static const signed char index_of_bit[8] = {
		UMB_CMD_GLOBAL, UMB_CMD_GLOBAL_EXPEDITED, -1,
		UMB_CMD_PRIVATE_EXPEDITED, -1, UMB_CMD_SYNC_CORE, -1, UMB_CMD_RSEQ,
	};

	if (cmd <= 0 || cmd > MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ||
	    (cmd & (cmd - 1)))
		return -1;
	return index_of_bit[__builtin_ctz((unsigned int)cmd)];
}

static int backend_index(const char *name)
{
	for (int i = 0; umb_backends[i]; i++)
		if (!strcmp(umb_backends[i]->name, name))
			return i;
	return -1;
}

static void select_mechanisms(void)
{
	const char *env = getenv("UMB_BACKEND");
	int only = -1;

	if (env && *env && strcmp(env, "auto")) {
		only = backend_index(env);
		if (only < 0) {
			selection.error = -EINVAL;
			return;
		}
		selection.forced = umb_backends[only]->name;
	}
	/* A forced mechanism is the only one probed: UMB_BACKEND=signal never
	 * issues the system call, which matters under seccomp RET_KILL. */
	for (int b = 0; umb_backends[b]; b++) {
		if (only >= 0 && b != only)
			continue;
		unsigned int honours = umb_backends[b]->probe(selection.why[b]);

		for (int i = 0; i < UMB_NCMDS; i++)
			if ((honours & (1u << i)) && !selection.by_cmd[i])
				selection.by_cmd[i] = umb_backends[b];
	}
}

static int prepare_locked(int index)
{
	int ret;

	if (atomic_load(&prepared) & (1u << index))
		return 0;
	ret = selection.by_cmd[index]->prepare(umb_cmd_value[index]);
	if (!ret)
		atomic_fetch_or(&prepared, 1u << index);
	return ret;
}

/* The commands the composition honours, as QUERY reports them. */
static int compute_query_mask(void)
{
	int mask = 0;

	for (int i = 0; i < UMB_NCMDS; i++)
		if (selection.by_cmd[i])
			mask |= umb_cmd_value[i];
	if (!mask)
		return -ENOSYS;
	/* GLOBAL has no REGISTER; the others' REGISTER is the next bit up. */
	mask |= (mask & ~MEMBARRIER_CMD_GLOBAL) << 1;
	return mask | MEMBARRIER_CMD_GET_REGISTRATIONS;
}

static int prepare_heavy(void)
{
	int ret;

	if (!selection.by_cmd[UMB_CMD_PRIVATE_EXPEDITED])
		return selection.error ? selection.error : -ENOSYS;
	pthread_mutex_lock(&register_lock);
	ret = prepare_locked(UMB_CMD_PRIVATE_EXPEDITED);
	pthread_mutex_unlock(&register_lock);
	return ret;
}

/*
 * UMB_LAZY=1 defers preparing umb_heavy()'s mechanism to its first call
 * (umb conform uses it to see an untouched kernel state).  umb_light() is
 * then decided by selection alone; a late failure is returned by umb_heavy().
 */
static void init_once(void)
{
	const char *lazy = getenv("UMB_LAZY");

	select_mechanisms();
	query_mask = compute_query_mask();
	if (lazy && !strcmp(lazy, "1")) {
		umb_light_needs_fence =
			!selection.by_cmd[UMB_CMD_PRIVATE_EXPEDITED];
		return;
	}
	heavy_ready_error = prepare_heavy();
	umb_light_needs_fence = heavy_ready_error != 0;
}

/*
 * A forked child keeps umb's registration (ordinary memory), as the kernel
 * keeps mm->membarrier_state; its mechanisms must follow.  Each command
 * prepared in the parent is prepared again here: a user-space mechanism
 * rebuilds its per-process state (thread list, registry slot, locks held by
 * parent threads that do not exist here), and gVisor, which unlike Linux
 * drops PRIVATE_EXPEDITED registration across fork, is registered again.
 */
static void fork_child(void)
{
	unsigned int was = atomic_load(&prepared);

	pthread_mutex_init(&register_lock, NULL);
	atomic_store(&prepared, 0);
	for (int i = 0; i < UMB_NCMDS; i++)
		if (was & (1u << i))
			prepare_locked(i);
}

/* Before main(), while the process most likely has one thread. */
__attribute__((constructor)) static void umb_init(void)
{
	pthread_once(&selection_once, init_once);
	pthread_atfork(NULL, NULL, fork_child);
}

const struct umb_selection *umb_selection(void)
{
	pthread_once(&selection_once, init_once);
	return &selection;
}

/*
 * What GET_REGISTRATIONS reports for a REGISTER command.  The kernel marks
 * the process MEMBARRIER_STATE_PRIVATE_EXPEDITED for every private
 * registration (SYNC_CORE and RSEQ included) and reports any state bit, so
 * those two show REGISTER_PRIVATE_EXPEDITED as well, without enabling it.
 */
static unsigned int reported_for(int register_cmd)
{
	if (register_cmd == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE ||
	    register_cmd == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)
		return register_cmd | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
	return register_cmd;
}

static int do_register(int index)
{
	int ret;

	if (!selection.by_cmd[index])
		return -EINVAL;
	pthread_mutex_lock(&register_lock);
	ret = prepare_locked(index);
	if (!ret) {
		int register_cmd = umb_cmd_value[index] << 1;

		atomic_fetch_or(&registered, 1u << index);
		atomic_fetch_or(&reported, reported_for(register_cmd));
	}
	pthread_mutex_unlock(&register_lock);
	return ret;
}

static int do_barrier(int index, int cpu_id)
{
	const struct umb_backend *b = selection.by_cmd[index];

	if (!b)
		return -EINVAL;
	/* GLOBAL and GLOBAL_EXPEDITED need no registration from the caller
	 * (REGISTER_GLOBAL_EXPEDITED makes a process a target, not a caller). */
	if (index != UMB_CMD_GLOBAL && index != UMB_CMD_GLOBAL_EXPEDITED &&
	    !(atomic_load(&registered) & (1u << index)))
		return -EPERM;
	return b->run(umb_cmd_value[index], cpu_id);
}

int umb_membarrier(int cmd, unsigned int flags, int cpu_id)
{
	int index;

	pthread_once(&selection_once, init_once);
	if (selection.error)
		return selection.error;

	/* The kernel checks flags before anything else. */
	if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) {
		if (flags & ~(unsigned int)MEMBARRIER_CMD_FLAG_CPU)
			return -EINVAL;
	} else if (flags) {
		return -EINVAL;
	}
	if (!(flags & MEMBARRIER_CMD_FLAG_CPU))
		cpu_id = -1;

	if (cmd == MEMBARRIER_CMD_QUERY)
		return query_mask;
	if (query_mask < 0)
		return -ENOSYS;		/* no mechanism at all: as if no syscall */
	if (cmd == MEMBARRIER_CMD_GET_REGISTRATIONS)
		return (int)atomic_load(&reported);

	index = umb_cmd_index(cmd);
	if (index >= 0)
		return do_barrier(index, cpu_id);
	index = (cmd & 1) ? -1 : umb_cmd_index(cmd >> 1);
	if (index >= 0 && index != UMB_CMD_GLOBAL)
		return do_register(index);
	return -EINVAL;
}

/* The sync objects of the ThreadSanitizer annotations (see umb.h). */
char umb_tsan_light_sync, umb_tsan_heavy_sync;

/* Defined only when the process runs under ThreadSanitizer, which then
 * learns what umb_heavy() orders even if this library is not instrumented. */
extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

static int heavy_barrier(void);

int umb_heavy(void)
{
	int ret;

	if (__tsan_release)
		__tsan_release(&umb_tsan_heavy_sync);	/* acquired by umb_light() */
	ret = heavy_barrier();
	if (__tsan_acquire)
		__tsan_acquire(&umb_tsan_light_sync);	/* released by umb_light() */
	return ret;
}

static int heavy_barrier(void)
{
	int ret;

	pthread_once(&selection_once, init_once);
	ret = heavy_ready_error;
	if (!ret && !(atomic_load_explicit(&prepared, memory_order_relaxed) &
		      (1u << UMB_CMD_PRIVATE_EXPEDITED)))
		ret = prepare_heavy();		/* UMB_LAZY=1 */
	if (ret) {
		/* No process-wide barrier: umb_light() is a full fence then,
		 * and so is this side (pairs with the fence in umb_light()). */
		smp_mb();
		return ret;
	}
	return selection.by_cmd[UMB_CMD_PRIVATE_EXPEDITED]->run(
		MEMBARRIER_CMD_PRIVATE_EXPEDITED, -1);
}

/* Register cmd's REGISTER on first use, then run it. */
static int register_and_run(int cmd, unsigned int flags, int cpu_id)
{
	int ret = umb_membarrier(cmd, flags, cpu_id);

	if (ret == -EPERM) {
		ret = umb_membarrier(cmd << 1, 0, 0);
		if (!ret)
			ret = umb_membarrier(cmd, flags, cpu_id);
	}
	return ret;
}

int umb_sync_core(void)
{
	return register_and_run(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

int umb_rseq_fence(int cpu)
{
	if (cpu < 0)
		return register_and_run(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0);
	return register_and_run(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
				MEMBARRIER_CMD_FLAG_CPU, cpu);
}

const char *umb_command_backend(int cmd)
{
	int index = umb_cmd_index(cmd);

	pthread_once(&selection_once, init_once);
	if (index < 0 || selection.error || !selection.by_cmd[index])
		return NULL;
	return selection.by_cmd[index]->name;
}

const char *umb_backend_name(void)
{
	const char *name = umb_command_backend(MEMBARRIER_CMD_PRIVATE_EXPEDITED);

	return name ? name : "none";
}

int umb_version(void)
{
	return UMB_VERSION_NUMBER;
}
