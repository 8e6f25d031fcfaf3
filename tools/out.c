/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <umb.h>

#include "out.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma = 0;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_key(struct json *j, const char *key)
{
	unsigned long long bit = 1ull << j->depth;

	if (j->need_comma & bit)
		fputc(',', j->f);
	j->need_comma |= bit;
	if (j->depth)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key) {
		json_string(j->f, key);
		fputs(": ", j->f);
	}
}

void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	fputc(bracket, j->f);
	j->depth++;
	j->need_comma &= ~(1ull << j->depth);
}

void json_close(struct json *j, char bracket)
{
	int had_items = !!(j->need_comma & (1ull << j->depth));

	j->depth--;
	if (had_items)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->f);
	if (!j->depth)
		fputc('\n', j->f);
}

void json_str(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value)
		json_string(j->f, value);
	else
		fputs("null", j->f);
}

void json_int(struct json *j, const char *key, long long value)
{
	json_key(j, key);
	fprintf(j->f, "%lld", value);
}

void json_num(struct json *j, const char *key, double value)
{
	json_key(j, key);
	if (value != value)
		fputs("null", j->f);
	else
		fprintf(j->f, "%.6g", value);
}

void json_bool(struct json *j, const char *key, int value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->f);
}

const char *result_name(int value, char buf[32])
{
	static const struct { int err; const char *name; } names[] = {
		{ EINVAL, "-EINVAL" }, { EPERM, "-EPERM" }, { ENOSYS, "-ENOSYS" },
		{ ENOMEM, "-ENOMEM" }, { EBUSY, "-EBUSY" }, { EAGAIN, "-EAGAIN" },
		{ ETIMEDOUT, "-ETIMEDOUT" }, { EINTR, "-EINTR" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (value == -names[i].err)
			return names[i].name;
	snprintf(buf, 32, "%d", value);
	return buf;
}

const int all_commands[] = {
	MEMBARRIER_CMD_QUERY,
	MEMBARRIER_CMD_GLOBAL,
	MEMBARRIER_CMD_GLOBAL_EXPEDITED,
	MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED,
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
	MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
	MEMBARRIER_CMD_GET_REGISTRATIONS,
};
const int n_all_commands = sizeof(all_commands) / sizeof(all_commands[0]);

const char *command_name(int cmd)
{
	static const char *const names[] = {
		"QUERY", "GLOBAL", "GLOBAL_EXPEDITED",
		"REGISTER_GLOBAL_EXPEDITED", "PRIVATE_EXPEDITED",
		"REGISTER_PRIVATE_EXPEDITED", "PRIVATE_EXPEDITED_SYNC_CORE",
		"REGISTER_PRIVATE_EXPEDITED_SYNC_CORE",
		"PRIVATE_EXPEDITED_RSEQ", "REGISTER_PRIVATE_EXPEDITED_RSEQ",
		"GET_REGISTRATIONS",
	};

	for (int i = 0; i < n_all_commands; i++)
		if (all_commands[i] == cmd)
			return names[i];
	return NULL;
}
