#!/bin/bash
# Installs the build into a temporary prefix and builds a consumer against
# it through pkg-config: C and C++, shared and static (pkg-config --static),
# then runs each.  Also checks that libumb.so exports nothing but umb_*.
# usage: install-consumer.sh BUILD_DIR SOURCE_DIR CC CXX
set -eu
build=$1 src=$2 cc=$3 cxx=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

command -v pkg-config >/dev/null || { echo "pkg-config not installed" >&2; exit 77; }
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name umb.pc)
test -n "$pc" || { echo "umb.pc not installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
# umb.pc names the configured prefix; point pkg-config at the temporary one.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --define-variable=prefix="$prefix" --cflags umb)
libs=$(pkg-config --define-variable=prefix="$prefix" --libs umb)
static_libs=$(pkg-config --define-variable=prefix="$prefix" --static --libs umb)
echo "cflags: $cflags; libs: $libs; static: $static_libs"

$cc -std=c11 -Wall -Wextra -Werror $cflags "$src/test/consumer.c" $libs -o "$tmp/c-shared"
$cxx -x c++ -std=c++11 -Wall -Wextra -Werror $cflags "$src/test/consumer.c" $libs \
	-o "$tmp/cxx-shared"
$cc -std=c11 -Wall -Wextra -Werror -static $cflags "$src/test/consumer.c" $static_libs \
	-o "$tmp/c-static"
$cxx -x c++ -std=c++11 -Wall -Wextra -Werror -static $cflags "$src/test/consumer.c" \
	$static_libs -o "$tmp/cxx-static"

for kind in c-shared cxx-shared; do
	LD_LIBRARY_PATH="$libdir" ldd "$tmp/$kind" | grep -q "$libdir/libumb.so" ||
		{ echo "$kind does not use the installed libumb.so" >&2; exit 1; }
	LD_LIBRARY_PATH="$libdir" "$tmp/$kind"
done
for kind in c-static cxx-static; do
	! ldd "$tmp/$kind" >/dev/null 2>&1 || { echo "$kind is not static" >&2; exit 1; }
	"$tmp/$kind"
done

# Exported symbols: exactly the names src/libumb.map lists, and its version node.
so=$(find "$libdir" -name 'libumb.so.*.*' | head -n 1)
listed=$(sed -n '/global:/,/local:/p' "$src/src/libumb.map" | sed 's,/\*.*\*/,,' |
	tr -d ' \t;' | grep -v -e '^global:' -e '^local:' -e '^$' | sort)
exported=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' |
	grep -v '^UMB_[0-9_.]*$' | sort)
if [ "$listed" != "$exported" ]; then
	echo "libumb.so exports differ from src/libumb.map:" >&2
	diff <(echo "$listed") <(echo "$exported") >&2
	exit 1
fi
echo "exports: $(nm -D --defined-only "$so" | awk '{ print $NF }' | tr '\n' ' ')"
