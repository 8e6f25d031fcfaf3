/* SPDX-License-Identifier: MIT */
/* Output helpers shared by the umb subcommands: JSON, errno names, clocks. */
#ifndef UMB_TOOLS_OUT_H
#define UMB_TOOLS_OUT_H

#include <stdio.h>
#include <stdint.h>
#include <time.h>

/* A streaming JSON writer: objects and arrays nest; key is NULL in arrays. */
struct json {
	FILE *f;
	int depth;
	unsigned long long need_comma;	/* one bit per depth */
};

void json_init(struct json *j, FILE *f);
void json_open(struct json *j, const char *key, char bracket);	/* '{' '[' */
void json_close(struct json *j, char bracket);			/* '}' ']' */
void json_str(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, long long value);
void json_num(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, int value);

/* "0", "340", "-EPERM": a membarrier result as a reader wants it. */
const char *result_name(int value, char buf[32]);

/* "PRIVATE_EXPEDITED", "REGISTER_GLOBAL_EXPEDITED", or NULL. */
const char *command_name(int cmd);

/* Every membarrier command value, QUERY first (the kernel's order). */
extern const int all_commands[];
extern const int n_all_commands;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Subcommands: argv[0] is the subcommand's name; returns the exit code. */
int cmd_probe(int argc, char **argv);
int cmd_conform(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_litmus(int argc, char **argv);

/* Exit codes of every subcommand. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

#endif
