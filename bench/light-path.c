/* SPDX-License-Identifier: MIT */
/*
 * The fast side of an asymmetric fence, as a user writes it: store, then
 * umb_light(), then load.  light-disasm.py disassembles light_path() and
 * traces which of its instructions run.
 */
#include <stdio.h>

#include <umb.h>

volatile int light_path_x, light_path_y;

__attribute__((noinline)) int light_path(void)
{
	light_path_x = 1;
	umb_light();
	return light_path_y;
}

int main(void)
{
	printf("mechanism %s, umb_light_needs_fence = %d\n", umb_backend_name(),
	       umb_light_needs_fence);
	return light_path();
}
