/* SPDX-License-Identifier: MIT */
/*
 * umb bench: the latency of every barrier command on every mechanism, and of
 * the peers umb is measured against, versus how many other threads run or
 * sleep.
 *
 * The library picks its mechanism before main() (UMB_BACKEND), so each
 * mechanism is measured in a worker: this program re-executed with
 * UMB_BACKEND set and `--worker NAME`.  A worker starts each thread
 * configuration, times single calls of each command for a small budget and
 * writes the samples to its stdout, one line per (command, configuration).
 * Workers of every mechanism take turns, once per repeat, so drift spreads
 * over all of them; the parent pools the samples and reports median and
 * p10-p90.
 *
 * Peers: the raw system call; a naive "signal every thread, spin until each
 * acknowledged" barrier (what a user-space barrier costs without care); and
 * liburcu-memb's synchronize_rcu(), loaded with dlopen when present, its
 * load threads registered as readers (running ones loop over read-side
 * critical sections).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umb.h>

#include "backend.h"
#include "barrier.h"
#include "measure.h"
#include "out.h"

#define MAX_COUNTS 16
#define MAX_SAMPLES 2000
#define MIN_SAMPLES 3

/* Peers: measured alongside umb's mechanisms, never chosen by umb. */
static const char *const peer_names[] = {
	"raw-syscall", "naive-signal", "liburcu-memb",
};
#define N_PEERS (sizeof(peer_names) / sizeof(peer_names[0]))

struct options {
	const char *mechs[UMB_MAX_BACKENDS + N_PEERS];
	int n_mechs;
	int counts[MAX_COUNTS];
	int n_counts;
	const char *commands;	/* comma-separated, NULL: all */
	int repeat;
	int budget_ms;		/* per command, configuration and repeat */
	int json;
	const char *svg;
};

/* --commands: a name matches itself or a longer name ending in "_NAME". */
static int command_wanted(const char *list, const char *command)
{
	char buf[256], *save, *tok;
	size_t clen = strlen(command);

	if (!list)
		return 1;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t tlen = strlen(tok);

		if (!strcasecmp(tok, command) ||
		    (tlen < clen && command[clen - tlen - 1] == '_' &&
		     !strcasecmp(tok, command + clen - tlen)))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Worker: one mechanism, every command it honours, every configuration. */

struct op {
	const char *command;
	int (*run)(int cmd);
	int cmd;
	int failed;
};

static struct load *current_load;	/* the naive barrier signals these */

static int run_umb(int cmd)
{
	return umb_membarrier(cmd, 0, 0);
}

static int run_raw(int cmd)
{
	return umb_sys_membarrier(cmd, 0, 0);
}

/*
 * The naive barrier: a fence, a signal to every other thread, spin until
 * each handler acknowledged, a fence.  Each handler's fence pairs with the
 * caller's first fence; the acknowledgement (a seq_cst RMW) orders it
 * before the caller's second.
 */
static _Atomic unsigned long naive_acks;

static void naive_handler(int sig)
{
	(void)sig;
	smp_mb();	/* pairs with smp_mb() before tgkill in run_naive() */
	atomic_fetch_add(&naive_acks, 1);
}

static int run_naive(int cmd)
{
	int n = current_load ? load_threads(current_load) : 0;
	unsigned long target;
	pid_t pid = getpid();

	(void)cmd;
	smp_mb();	/* pairs with smp_mb() in naive_handler() */
	target = atomic_load(&naive_acks) + (unsigned long)n;
	for (int i = 0; i < n; i++)
		if (syscall(SYS_tgkill, pid, load_tid(current_load, i), SIGUSR2))
			return -errno;
	while (atomic_load(&naive_acks) < target)
		cpu_relax();
	smp_mb();	/* the handlers' fences happened before this point */
	return 0;
}

static int naive_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = naive_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR2, &sa, NULL) ? -errno : 0;
}

static struct {
	void (*synchronize)(void);
	void (*register_thread)(void);
	void (*unregister_thread)(void);
	void (*read_lock)(void);
	void (*read_unlock)(void);
} urcu;

static int run_urcu(int cmd)
{
	(void)cmd;
	urcu.synchronize();
	return 0;
}

static void urcu_spin(void)
{
	urcu.read_lock();
	urcu.read_unlock();
}

static const struct load_hooks urcu_hooks = {
	.enter = NULL, .leave = NULL, .spin = urcu_spin,
};
static struct load_hooks urcu_reader_hooks;

static const char *urcu_setup(void)
{
	static const char *const names[] = { "liburcu-memb.so.8", "liburcu-memb.so" };
	void *h = NULL;

	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return "liburcu-memb.so not found (Debian: liburcu-dev)";
	*(void **)&urcu.synchronize = dlsym(h, "urcu_memb_synchronize_rcu");
	*(void **)&urcu.register_thread = dlsym(h, "urcu_memb_register_thread");
	*(void **)&urcu.unregister_thread = dlsym(h, "urcu_memb_unregister_thread");
	*(void **)&urcu.read_lock = dlsym(h, "urcu_memb_read_lock");
	*(void **)&urcu.read_unlock = dlsym(h, "urcu_memb_read_unlock");
	if (!urcu.synchronize || !urcu.register_thread || !urcu.unregister_thread ||
	    !urcu.read_lock || !urcu.read_unlock)
		return "liburcu-memb lacks the urcu_memb_* symbols (liburcu < 0.13)";
	urcu_reader_hooks = urcu_hooks;
	urcu_reader_hooks.enter = urcu.register_thread;
	urcu_reader_hooks.leave = urcu.unregister_thread;
	return NULL;
}

/* Cheapest first: the order of rows, lines and legend entries. */
static const int display_order[UMB_NCMDS] = {
	UMB_CMD_PRIVATE_EXPEDITED, UMB_CMD_SYNC_CORE, UMB_CMD_RSEQ,
	UMB_CMD_GLOBAL_EXPEDITED, UMB_CMD_GLOBAL,
};

/* Fills ops for mechanism mech; returns NULL or why it cannot run here. */
static const char *worker_ops(const char *mech, const char *commands,
			      struct op *ops, int *n_ops,
			      const struct load_hooks **hooks)
{
	*n_ops = 0;
	*hooks = NULL;
	if (!strcmp(mech, "naive-signal")) {
		if (naive_setup())
			return "cannot install a SIGUSR2 handler";
		if (command_wanted(commands, "PRIVATE_EXPEDITED"))
			ops[(*n_ops)++] = (struct op){ "PRIVATE_EXPEDITED", run_naive,
						       MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0 };
		return NULL;
	}
	if (!strcmp(mech, "liburcu-memb")) {
		const char *why = urcu_setup();

		if (why)
			return why;
		*hooks = &urcu_reader_hooks;
		if (command_wanted(commands, "synchronize_rcu"))
			ops[(*n_ops)++] = (struct op){ "synchronize_rcu", run_urcu, 0, 0 };
		return NULL;
	}
	if (!strcmp(mech, "raw-syscall")) {
		int mask = umb_sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);

		if (mask < 0)
			return "membarrier(2) QUERY fails";
		for (int k = 0; k < UMB_NCMDS; k++) {
			int i = display_order[k], cmd = umb_cmd_value[i];

			if (!(mask & cmd) || !command_wanted(commands, umb_cmd_name[i]))
				continue;
			if (cmd != MEMBARRIER_CMD_GLOBAL &&
			    umb_sys_membarrier(cmd << 1, 0, 0))
				continue;
			ops[(*n_ops)++] = (struct op){ umb_cmd_name[i], run_raw, cmd, 0 };
		}
		return NULL;
	}
	/* One of umb's mechanisms, forced through UMB_BACKEND by the parent. */
	const struct umb_selection *sel = umb_selection();
	int honours = 0;

	for (int k = 0; k < UMB_NCMDS; k++) {
		int i = display_order[k], cmd = umb_cmd_value[i];

		if (!sel->by_cmd[i] || strcmp(sel->by_cmd[i]->name, mech))
			continue;
		honours = 1;
		if (!command_wanted(commands, umb_cmd_name[i]))
			continue;
		if (cmd != MEMBARRIER_CMD_GLOBAL && umb_membarrier(cmd << 1, 0, 0))
			continue;
		ops[(*n_ops)++] = (struct op){ umb_cmd_name[i], run_umb, cmd, 0 };
	}
	if (!honours) {
		for (int b = 0; umb_backends[b]; b++)
			if (!strcmp(umb_backends[b]->name, mech) &&
			    sel->why[b][UMB_CMD_PRIVATE_EXPEDITED])
				return sel->why[b][UMB_CMD_PRIVATE_EXPEDITED];
		return "honours no barrier command here";
	}
	return NULL;
}

static void measure(struct op *op, int threads, enum load_kind kind,
		    uint64_t budget_ns)
{
	static uint64_t t[MAX_SAMPLES];
	uint64_t start = now_ns();
	size_t n = 0;

	while (n < MAX_SAMPLES && (n < MIN_SAMPLES || now_ns() - start < budget_ns)) {
		uint64_t t0 = now_ns();
		int ret = op->run(op->cmd);

		t[n++] = now_ns() - t0;
		if (ret < 0) {
			char buf[32];

			printf("X\t%s\tfails with %s\n", op->command, result_name(ret, buf));
			op->failed = 1;
			return;
		}
	}
	printf("S\t%s\t%d\t%s", op->command, threads, load_kind_name[kind]);
	for (size_t i = 0; i < n; i++)
		printf("%c%llu", i ? ' ' : '\t', (unsigned long long)t[i]);
	printf("\n");
}

static int worker(const char *mech, const struct options *o)
{
	struct op ops[UMB_NCMDS + 1];
	int n_ops;
	const struct load_hooks *hooks;
	const char *why = worker_ops(mech, o->commands, ops, &n_ops, &hooks);

	if (why) {
		printf("N\t%s\n", why);
		return EXIT_OK;
	}
	for (int c = 0; c < o->n_counts; c++) {
		for (int kind = LOAD_RUNNING; kind <= LOAD_SLEEPING; kind++) {
			if (!o->counts[c] && kind == LOAD_SLEEPING)
				continue;	/* measured once, reported as both */
			current_load = load_start(o->counts[c], (enum load_kind)kind, hooks);
			if (!current_load) {
				printf("N\tcannot start %d threads: %s\n", o->counts[c],
				       strerror(errno));
				return EXIT_FAILED;
			}
			for (int i = 0; i < n_ops; i++)
				if (!ops[i].failed)
					measure(&ops[i], o->counts[c], (enum load_kind)kind,
						(uint64_t)o->budget_ms * 1000000u);
			load_stop(current_load);
			current_load = NULL;
			printf("P\n");
			fflush(stdout);
		}
	}
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Parent: run the workers, pool their samples, report. */

struct series {
	char mech[32];
	char command[32];
	int peer;
	int threads;
	enum load_kind kind;
	uint64_t *v;
	size_t n, cap;
	uint64_t median, p10, p90;
};

static struct series *all_series;
static size_t n_series, cap_series;

static int is_peer(const char *mech)
{
	for (size_t i = 0; i < N_PEERS; i++)
		if (!strcmp(peer_names[i], mech))
			return 1;
	return 0;
}

static struct series *series_for(const char *mech, const char *command,
				 int threads, enum load_kind kind)
{
	struct series *s;

	for (size_t i = 0; i < n_series; i++) {
		s = &all_series[i];
		if (!strcmp(s->mech, mech) && !strcmp(s->command, command) &&
		    s->threads == threads && s->kind == kind)
			return s;
	}
	if (n_series == cap_series) {
		cap_series = cap_series ? 2 * cap_series : 64;
		all_series = realloc(all_series, cap_series * sizeof(*all_series));
		if (!all_series) {
			perror("umb bench");
			exit(EXIT_FAILED);
		}
	}
	s = &all_series[n_series++];
	memset(s, 0, sizeof(*s));
	snprintf(s->mech, sizeof(s->mech), "%s", mech);
	snprintf(s->command, sizeof(s->command), "%s", command);
	s->peer = is_peer(mech);
	s->threads = threads;
	s->kind = kind;
	return s;
}

static void add_sample(struct series *s, uint64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			perror("umb bench");
			exit(EXIT_FAILED);
		}
	}
	s->v[s->n++] = v;
}

/* "S\tcommand\tthreads\tkind\tns ns ...": samples of one configuration. */
static void parse_samples(const char *mech, char *line)
{
	char *save, *command = strtok_r(line, "\t", &save);
	char *threads = strtok_r(NULL, "\t", &save);
	char *kind = strtok_r(NULL, "\t", &save);
	char *values = strtok_r(NULL, "\n", &save);
	struct series *s[2];
	int n_s = 0;

	if (!command || !threads || !kind || !values)
		return;
	for (int k = LOAD_RUNNING; k <= LOAD_SLEEPING; k++)
		if (!strcmp(kind, load_kind_name[k]) || !atoi(threads))
			s[n_s++] = series_for(mech, command, atoi(threads),
					      (enum load_kind)k);
	for (char *p = values, *end; *p; p = end) {
		uint64_t v = strtoull(p, &end, 10);

		if (end == p)
			break;
		for (int i = 0; i < n_s; i++)
			add_sample(s[i], v);
	}
}

struct progress {
	int tty;
	int done, total;
};

static void progress_show(struct progress *p, const char *what)
{
	const int width = 30;
	int filled;

	if (!p->tty)
		return;
	filled = p->total ? width * p->done / p->total : width;
	fprintf(stderr, "\r[%.*s%*s] %3d%% %-16s", filled,
		"##############################", width - filled, "",
		p->total ? 100 * p->done / p->total : 100, what);
	fflush(stderr);
}

/* One worker: this program again, with UMB_BACKEND set for umb's own. */
static void run_worker(const char *mech, const struct options *o, char **argv0,
		       struct progress *prog, int first_repeat)
{
	char counts[MAX_COUNTS * 12] = "", budget[16];
	size_t used = 0;
	int fds[2], status;
	pid_t pid;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	for (int i = 0; i < o->n_counts; i++)
		used += (size_t)snprintf(counts + used, sizeof(counts) - used, "%s%d",
					 i ? "," : "", o->counts[i]);
	snprintf(budget, sizeof(budget), "%d", o->budget_ms);
	fflush(NULL);
	if (pipe(fds)) {
		perror("umb bench: pipe");
		exit(EXIT_FAILED);
	}
	pid = fork();
	if (pid < 0) {
		perror("umb bench: fork");
		exit(EXIT_FAILED);
	}
	if (!pid) {
		char *args[] = { argv0[0], "bench", "--worker", (char *)mech,
				 "--threads", counts, "--budget-ms", budget,
				 o->commands ? "--commands" : NULL,
				 (char *)o->commands, NULL };

		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (is_peer(mech))
			setenv("UMB_LAZY", "1", 1);	/* umb stays out of the way */
		else
			setenv("UMB_BACKEND", mech, 1);
		execv("/proc/self/exe", args);
		fprintf(stderr, "umb bench: cannot re-exec: %s\n", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == 'S' && line[1] == '\t') {
			parse_samples(mech, line + 2);
		} else if (line[0] == 'P') {
			prog->done++;
			progress_show(prog, mech);
		} else if (first_repeat && line[0] == 'X') {
			char *tab = strchr(line + 2, '\t');

			if (tab)
				*tab = ' ';
			fprintf(stderr, "%sumb bench: %s: %s\n",
				prog->tty ? "\r\033[K" : "", mech, line + 2);
		} else if (first_repeat && line[0] == 'N') {
			fprintf(stderr, "%sumb bench: skipping %s: %s\n",
				prog->tty ? "\r\033[K" : "", mech, line + 2);
		}
	}
	free(line);
	if (f)
		fclose(f);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "%sumb bench: the %s worker failed (status %#x)\n",
			prog->tty ? "\r\033[K" : "", mech, status);
}

static void summarize(void)
{
	for (size_t i = 0; i < n_series; i++) {
		struct series *s = &all_series[i];

		s->median = percentile(s->v, s->n, 50);
		s->p10 = percentile(s->v, s->n, 10);
		s->p90 = percentile(s->v, s->n, 90);
	}
}

/* "266 ns", "1.23 us", "23.1 ms": three significant digits. */
static const char *unit_for(double ns, double *scale)
{
	if (ns >= 1e6) {
		*scale = 1e6;
		return "ms";
	}
	if (ns >= 1e3) {
		*scale = 1e3;
		return "us";
	}
	*scale = 1;
	return "ns";
}

static void format_3(char *buf, size_t len, double v)
{
	snprintf(buf, len, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
}

static void cell_text(char *buf, size_t len, const struct series *s)
{
	double scale;
	const char *unit = unit_for((double)s->median, &scale);
	char m[24], lo[24], hi[24];

	format_3(m, sizeof(m), (double)s->median / scale);
	format_3(lo, sizeof(lo), (double)s->p10 / scale);
	format_3(hi, sizeof(hi), (double)s->p90 / scale);
	snprintf(buf, len, "%s %s [%s-%s]", m, unit, lo, hi);
}

/* Series are created in the order workers report them; rows keep it. */
static int same_line(const struct series *a, const struct series *b)
{
	return !strcmp(a->mech, b->mech) && !strcmp(a->command, b->command) &&
	       a->kind == b->kind;
}

/* Series i is the first of its line (mechanism, command, kind) of this kind. */
static int starts_line(size_t i, int kind)
{
	if (all_series[i].kind != (enum load_kind)kind)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (same_line(&all_series[j], &all_series[i]))
			return 0;
	return 1;
}

static void print_table(const struct options *o)
{
	printf("barrier latency: median [p10-p90] of single calls; columns: other threads\n");
	printf("%-13s %-28s %-8s", "mechanism", "command", "kind");
	for (int c = 0; c < o->n_counts; c++)
		printf(" %24d", o->counts[c]);
	printf("\n");
	for (int kind = LOAD_RUNNING; kind <= LOAD_SLEEPING; kind++) {
		if (kind)
			printf("\n");
		for (size_t i = 0; i < n_series; i++) {
			const struct series *s = &all_series[i];

			if (!starts_line(i, kind))
				continue;
			printf("%-13s %-28s %-8s", s->mech, s->command, load_kind_name[kind]);
			for (int c = 0; c < o->n_counts; c++) {
				char text[96] = "-";

				for (size_t j = 0; j < n_series; j++)
					if (same_line(&all_series[j], s) &&
					    all_series[j].threads == o->counts[c])
						cell_text(text, sizeof(text), &all_series[j]);
				printf(" %24s", text);
			}
			printf("\n");
		}
	}
}

static void print_json(void)
{
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '[');
	for (size_t i = 0; i < n_series; i++) {
		const struct series *s = &all_series[i];

		json_open(&j, NULL, '{');
		json_str(&j, "mechanism", s->mech);
		json_bool(&j, "peer", s->peer);
		json_str(&j, "command", s->command);
		json_int(&j, "threads", s->threads);
		json_str(&j, "thread_kind", load_kind_name[s->kind]);
		json_int(&j, "median_ns", (long long)s->median);
		json_int(&j, "p10_ns", (long long)s->p10);
		json_int(&j, "p90_ns", (long long)s->p90);
		json_int(&j, "samples", (long long)s->n);
		json_close(&j, '}');
	}
	json_close(&j, ']');
}

/* ------------------------------------------------------------------ */
/* SVG: log-scale latency against thread count, one panel per kind. */

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
	"#e377c2", "#17becf",
};
static const char *const dashes[] = { "", "8 4", "2 3", "10 3 2 3", "4 4", "1 5" };

#define SVG_W 1330
#define SVG_H 560
#define PANEL_W 370
#define PANEL_H 400
#define PANEL_TOP 70
#define PANEL_LEFT 80
#define PANEL_GAP 60

static int name_index(const char **names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return i;
	names[*n] = name;
	return (*n)++;
}

static void svg_text(FILE *f, double x, double y, const char *anchor, int size,
		     const char *extra, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s>",
		x, y, anchor, size, extra ? " " : "", extra ? extra : "");
	for (; *text; text++) {
		if (*text == '<')
			fputs("&lt;", f);
		else if (*text == '>')
			fputs("&gt;", f);
		else if (*text == '&')
			fputs("&amp;", f);
		else
			fputc(*text, f);
	}
	fputs("</text>\n", f);
}

static int write_svg(const char *path, const struct options *o)
{
	const char *mechs[64], *commands[64];
	int n_mechs = 0, n_commands = 0;
	double lo = INFINITY, hi = 0;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "umb bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n_series && n_mechs < 64 && n_commands < 64; i++) {
		name_index(mechs, &n_mechs, all_series[i].mech);
		name_index(commands, &n_commands, all_series[i].command);
		if (all_series[i].p10 > 0 && all_series[i].p10 < lo)
			lo = (double)all_series[i].p10;
		if (all_series[i].p90 > hi)
			hi = (double)all_series[i].p90;
	}
	if (!(lo < hi)) {
		lo = 10;
		hi = 1e6;
	}
	int dec_lo = (int)floor(log10(lo)), dec_hi = (int)ceil(log10(hi));

	if (dec_hi <= dec_lo)
		dec_hi = dec_lo + 1;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	svg_text(f, SVG_W / 2.0, 30, "middle", 18, "font-weight=\"bold\"",
		 "umb bench: barrier latency vs other threads");
	svg_text(f, SVG_W / 2.0, 50, "middle", 12, "fill=\"#555\"",
		 "median of single calls; bars span p10-p90; log scale");

	for (int kind = LOAD_RUNNING; kind <= LOAD_SLEEPING; kind++) {
		double x0 = PANEL_LEFT + kind * (PANEL_W + PANEL_GAP), y0 = PANEL_TOP;
		char label[64];

#define X_AT(c) (x0 + PANEL_W * ((c) + 0.5) / o->n_counts)
#define Y_AT(ns) (y0 + PANEL_H * (1.0 - (log10(ns) - dec_lo) / (dec_hi - dec_lo)))
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
			"fill=\"none\" stroke=\"#333\"/>\n", x0, y0, PANEL_W, PANEL_H);
		for (int d = dec_lo; d <= dec_hi; d++) {
			static const char *const units[] = { "ns", "us", "ms", "s" };
			double y = Y_AT(pow(10, d));

			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#ccc\"/>\n", x0, x0 + PANEL_W, y, y);
			for (int m = 2; m < 10 && d < dec_hi; m += 3) {	/* 2 and 5 */
				double ym = Y_AT(m * pow(10, d));

				fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
					"stroke=\"#eee\"/>\n", x0, x0 + PANEL_W, ym, ym);
			}
			snprintf(label, sizeof(label), "%.0f %s",
				 pow(10, d % 3), units[d / 3 < 4 ? d / 3 : 3]);
			svg_text(f, x0 - 6, y + 4, "end", 11, NULL, label);
		}
		for (int c = 0; c < o->n_counts; c++) {
			snprintf(label, sizeof(label), "%d", o->counts[c]);
			svg_text(f, X_AT(c), y0 + PANEL_H + 18, "middle", 12, NULL, label);
		}
		snprintf(label, sizeof(label), "other threads, %s", load_kind_name[kind]);
		svg_text(f, x0 + PANEL_W / 2.0, y0 + PANEL_H + 40, "middle", 13, NULL, label);
		if (kind == LOAD_RUNNING) {
			char transform[96];

			snprintf(transform, sizeof(transform),
				 "transform=\"rotate(-90 %.1f %.1f)\"", x0 - 62, y0 + PANEL_H / 2.0);
			svg_text(f, x0 - 62, y0 + PANEL_H / 2.0, "middle", 13, transform,
				 "latency per call");
		}

		for (size_t i = 0; i < n_series; i++) {
			const struct series *s = &all_series[i];
			int mi, ci;

			if (!starts_line(i, kind))
				continue;
			mi = name_index(mechs, &n_mechs, s->mech);
			ci = name_index(commands, &n_commands, s->command);
			const char *color = palette[mi % 8], *dash = dashes[ci % 6];

			fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s points=\"",
				color, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
			for (int c = 0; c < o->n_counts; c++)
				for (size_t j = 0; j < n_series; j++)
					if (same_line(&all_series[j], s) &&
					    all_series[j].threads == o->counts[c] &&
					    all_series[j].median > 0)
						fprintf(f, "%.1f,%.1f ", X_AT(c),
							Y_AT((double)all_series[j].median));
			fputs("\"/>\n", f);
			for (int c = 0; c < o->n_counts; c++)
				for (size_t j = 0; j < n_series; j++) {
					const struct series *p = &all_series[j];
					double x = X_AT(c) + (mi - n_mechs / 2.0) * 2.5;

					if (!same_line(p, s) || p->threads != o->counts[c] ||
					    !p->median || !p->p10)
						continue;
					fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
						"stroke=\"%s\" stroke-opacity=\"0.5\"/>\n", x, x,
						Y_AT((double)p->p10), Y_AT((double)p->p90), color);
					fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
						X_AT(c), Y_AT((double)p->median), color);
				}
		}
#undef X_AT
#undef Y_AT
	}

	/* Legend: one entry per mechanism and command, in report order. */
	double lx = PANEL_LEFT + 2 * PANEL_W + PANEL_GAP + 30, ly = PANEL_TOP + 10;

	for (size_t i = 0; i < n_series; i++) {
		const struct series *s = &all_series[i];
		int first = 1;
		char label[80];

		for (size_t j = 0; j < i; j++)
			if (!strcmp(all_series[j].mech, s->mech) &&
			    !strcmp(all_series[j].command, s->command))
				first = 0;
		if (!first)
			continue;
		const char *color = palette[name_index(mechs, &n_mechs, s->mech) % 8];
		const char *dash = dashes[name_index(commands, &n_commands, s->command) % 6];

		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"2\"%s%s%s/>\n", lx, lx + 34, ly - 4, ly - 4, color,
			*dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
		snprintf(label, sizeof(label), "%s%s  %s", s->mech, s->peer ? "*" : "",
			 s->command);
		svg_text(f, lx + 42, ly, "start", 12, NULL, label);
		ly += 19;
	}
	svg_text(f, lx, ly + 8, "start", 11, "fill=\"#555\"", "* peer, not a umb mechanism");
	fputs("</svg>\n", f);
	return fclose(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: umb bench [--backend B[,B...]] [--threads N[,N...]] [--commands C[,C...]]\n"
		"                 [--repeat N] [--json] [--svg FILE]\n"
		"\n"
		"Latency of every barrier command on every available mechanism, and of\n"
		"the peers raw-syscall, naive-signal (signal every thread, spin for the\n"
		"acknowledgements) and liburcu-memb (synchronize_rcu, if the library is\n"
		"installed), against other threads that run or sleep.  Reports median\n"
		"and p10-p90 of single calls pooled over the repeats.\n"
		"\n"
		"  --backend B     mechanisms to measure (default: all):");
	for (int b = 0; umb_backends[b]; b++)
		fprintf(f, " %s", umb_backends[b]->name);
	for (size_t i = 0; i < N_PEERS; i++)
		fprintf(f, " %s", peer_names[i]);
	fprintf(f,
		"\n"
		"  --threads LIST  numbers of other threads (default 0,1,2,8)\n"
		"  --commands LIST PRIVATE_EXPEDITED, SYNC_CORE, RSEQ, GLOBAL_EXPEDITED,\n"
		"                  GLOBAL, synchronize_rcu (default: all)\n"
		"  --repeat N      runs of every mechanism, taking turns (default 3)\n"
		"  --json          a list of {mechanism, peer, command, threads,\n"
		"                  thread_kind, median_ns, p10_ns, p90_ns, samples}\n"
		"  --svg FILE      also draw the latencies as an SVG chart\n"
		"\n"
		"exit codes: 0 success, 1 failure, 2 usage.\n");
}

static int known_mech(const char *name)
{
	for (int b = 0; umb_backends[b]; b++)
		if (!strcmp(umb_backends[b]->name, name))
			return 1;
	return is_peer(name);
}

static int parse_list(const char *arg, struct options *o, int mechs)
{
	char buf[256], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (mechs) {
			if (!known_mech(tok) ||
			    o->n_mechs == (int)(sizeof(o->mechs) / sizeof(o->mechs[0]))) {
				fprintf(stderr, "umb bench: unknown mechanism '%s'\n", tok);
				return -1;
			}
			/* Point into argv-lifetime storage: the canonical name. */
			for (int b = 0; umb_backends[b]; b++)
				if (!strcmp(umb_backends[b]->name, tok))
					o->mechs[o->n_mechs] = umb_backends[b]->name;
			for (size_t i = 0; i < N_PEERS; i++)
				if (!strcmp(peer_names[i], tok))
					o->mechs[o->n_mechs] = peer_names[i];
			o->n_mechs++;
		} else {
			char *end;
			long n = strtol(tok, &end, 10);

			if (*end || n < 0 || n > 256 || o->n_counts == MAX_COUNTS) {
				fprintf(stderr, "umb bench: bad thread count '%s'\n", tok);
				return -1;
			}
			o->counts[o->n_counts++] = (int)n;
		}
	}
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	static const int default_counts[] = { 0, 1, 2, 8 };
	struct options o = { .repeat = 3, .budget_ms = 10 };
	const char *worker_mech = NULL;
	struct progress prog = { .tty = isatty(STDERR_FILENO) };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (v && !strcmp(a, "--backend")) {
			if (parse_list(v, &o, 1))
				return EXIT_USAGE;
			i++;
		} else if (v && !strcmp(a, "--threads")) {
			if (parse_list(v, &o, 0))
				return EXIT_USAGE;
			i++;
		} else if (v && !strcmp(a, "--commands")) {
			o.commands = v;
			i++;
		} else if (v && !strcmp(a, "--repeat")) {
			o.repeat = atoi(v);
			i++;
		} else if (v && !strcmp(a, "--svg")) {
			o.svg = v;
			i++;
		} else if (v && !strcmp(a, "--budget-ms")) {	/* per worker call */
			o.budget_ms = atoi(v);
			i++;
		} else if (v && !strcmp(a, "--worker")) {
			worker_mech = v;
			i++;
		} else {
			fprintf(stderr, "umb bench: bad option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (o.repeat < 1 || o.budget_ms < 1) {
		fprintf(stderr, "umb bench: --repeat and --budget-ms take a positive number\n");
		return EXIT_USAGE;
	}
	if (!o.n_counts)
		for (size_t i = 0; i < sizeof(default_counts) / sizeof(default_counts[0]); i++)
			o.counts[o.n_counts++] = default_counts[i];
	if (worker_mech)
		return worker(worker_mech, &o);
	if (!o.n_mechs) {
		for (int b = 0; umb_backends[b]; b++)
			o.mechs[o.n_mechs++] = umb_backends[b]->name;
		for (size_t i = 0; i < N_PEERS; i++)
			o.mechs[o.n_mechs++] = peer_names[i];
	}

	/* Configurations per worker: 0 threads once, the others twice. */
	for (int c = 0; c < o.n_counts; c++)
		prog.total += o.counts[c] ? 2 : 1;
	prog.total *= o.repeat * o.n_mechs;
	for (int r = 0; r < o.repeat; r++)
		for (int m = 0; m < o.n_mechs; m++)
			run_worker(o.mechs[m], &o, argv - 1, &prog, r == 0);
	if (prog.tty)
		fprintf(stderr, "\r\033[K");
	summarize();
	if (o.json)
		print_json();
	else
		print_table(&o);
	if (o.svg && write_svg(o.svg, &o))
		return EXIT_FAILED;
	return n_series ? EXIT_OK : EXIT_FAILED;
}
