/* SPDX-License-Identifier: MIT */
/*
 * A program built against an installed umb, as C and as C++ (see
 * install-consumer.sh): the header, the version, and one barrier of each
 * kind through the library.
 */
#include <stdio.h>

#include <umb.h>

int main(void)
{
	int mask = umb_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);

	if (umb_version() != UMB_VERSION_NUMBER) {
		fprintf(stderr, "header %d, library %d\n", UMB_VERSION_NUMBER, umb_version());
		return 1;
	}
	if (mask < 0) {
		fprintf(stderr, "QUERY: %d\n", mask);
		return 1;
	}
	umb_light();
	if (umb_heavy()) {
		fprintf(stderr, "umb_heavy failed\n");
		return 1;
	}
	printf("consumer: umb %d.%d.%d, mechanism %s\n", UMB_VERSION_MAJOR,
	       UMB_VERSION_MINOR, UMB_VERSION_PATCH, umb_backend_name());
	return 0;
}
