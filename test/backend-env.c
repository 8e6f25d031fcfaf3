/* SPDX-License-Identifier: MIT */
/* UMB_BACKEND that names no mechanism: every entry point says -EINVAL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umb.h>

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); return 1; } } while (0)

int main(int argc, char **argv)
{
	if (argc < 2) {
		/* The library reads UMB_BACKEND before main(): re-exec. */
		setenv("UMB_BACKEND", "bogus", 1);
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		perror("exec");
		return 1;
	}
	errno = 0;
	EXPECT(umb_membarrier(MEMBARRIER_CMD_QUERY, 0, 0) == -EINVAL);
	EXPECT(umb_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == -EINVAL);
	EXPECT(umb_heavy() == -EINVAL);
	EXPECT(umb_sync_core() == -EINVAL);
	EXPECT(umb_rseq_fence(-1) == -EINVAL);
	EXPECT(umb_light_needs_fence);	/* heavy is no barrier: light fences */
	EXPECT(!strcmp(umb_backend_name(), "none"));
	EXPECT(!umb_command_backend(MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	EXPECT(errno == 0);		/* umb never sets errno */
	printf("UMB_BACKEND=bogus: every entry point -EINVAL\n");
	return 0;
}
