#!/bin/sh
# Verify one spin model and compare the verdict with the expectation.
#
#   run-model.sh MODEL.pml expect-pass|expect-fail [-DMACRO ...]
#
# expect-pass: exhaustive search, no error of any kind.
# expect-fail: spin must find a violation of the SB assertion (the
#              assertion naming r_light); any other error does not count.
# A search truncated by the depth limit or by memory fails either way.
# Exit 0: outcome as expected; 1: not as expected; 77: spin or cc missing.

set -u

usage() {
	echo "usage: $0 MODEL.pml expect-pass|expect-fail [-DMACRO ...]" >&2
	exit 1
}

[ $# -ge 2 ] || usage
model=$1
expect=$2
shift 2
case $expect in
expect-pass|expect-fail) ;;
*) usage ;;
esac
for macro in "$@"; do
	case $macro in
	-D*) ;;
	*) usage ;;
	esac
done

SPIN=${SPIN:-spin}
CC=${CC:-cc}
if ! command -v "$SPIN" >/dev/null 2>&1; then
	echo "$0: skipped: $SPIN not found" >&2
	exit 77
fi
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "$0: skipped: C compiler $CC not found" >&2
	exit 77
fi

case $model in
/*) ;;
*) model=$PWD/$model ;;
esac
[ -r "$model" ] || { echo "$0: cannot read $model" >&2; exit 1; }

name=$(basename "$model" .pml)
if [ $# -eq 0 ]; then
	variant=good
else
	variant=$(echo "$*" | sed 's/-D//g; s/ /+/g')
fi

depth=${MODEL_DEPTH:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/umb-model.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

verdict() {
	echo "model=$name variant=$variant expect=${expect#expect-} states=$1 verdict=$2${3:+ ($3)}"
}

cd "$work" || exit 1
if ! "$SPIN" "$@" -a "$model" >spin.out 2>&1; then
	cat spin.out >&2
	verdict - FAIL "spin -a failed"
	exit 1
fi
# -w: gcc warns about array indexes it cannot bound; pan checks them itself.
if ! "$CC" -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=1024 -o pan pan.c >cc.out 2>&1; then
	cat cc.out >&2
	verdict - FAIL "cc failed"
	exit 1
fi
./pan -m"$depth" -w22 >pan.out 2>&1
states=$(sed -n 's/^ *\([0-9e+.]*\) states, stored.*/\1/p' pan.out | head -n 1)
errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -n 1)
[ -n "$states" ] || states=-

if grep -q 'max search depth too small' pan.out; then
	verdict "$states" FAIL "search truncated at depth $depth"
	exit 1
fi
if grep -qE 'out of memory|MEMLIM' pan.out || [ -z "$errors" ]; then
	cat pan.out >&2
	verdict "$states" FAIL "pan did not finish"
	exit 1
fi

if [ "$expect" = expect-pass ]; then
	if [ "$errors" -eq 0 ]; then
		verdict "$states" PASS "no violation"
		exit 0
	fi
	grep 'pan:1:' pan.out >&2
	verdict "$states" FAIL "unexpected error"
	exit 1
fi

if grep 'pan:1:' pan.out | grep -q 'assertion violated.*r_light'; then
	verdict "$states" PASS "SB violation found"
	exit 0
fi
grep 'pan:1:' pan.out >&2
verdict "$states" FAIL "no SB violation found"
exit 1
