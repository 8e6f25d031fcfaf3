#!/bin/bash
# in-gvisor.sh CMD [ARG...]: run a host program inside gVisor and exit with
# its status; 77 (skip) when runsc is missing or we are not root.
# `runsc do` runs CMD in a sandbox over the host's root file system, with the
# host environment.  runsc writes a regular-file stdout from offset 0 (over
# what the caller had written), so its output goes through a pipe.
command -v runsc >/dev/null || { echo "skip: runsc (gVisor) is not installed" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: runsc do needs root" >&2; exit 77; }
runsc --network=none do "$@" | cat
exit "${PIPESTATUS[0]}"
