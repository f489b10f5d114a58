#!/bin/sh
#
# The port reservation types of wine/include/mstcpip-types.h against the
# SDK's: tests/mstcpip_types.c, which uses them as C and C++ code written
# against the Windows SDK do, must compile with -Wall -Werror both against
# MinGW-w64's mstcpip.h and against Wine's mstcpip.h (libwine-dev) with the
# fragment inserted before its "#ifndef USE_WS_PREFIX", as tools/wine-patches
# inserts it.  A compiler that is missing is a failure.
#
# Copyright 2026 The portres authors
#
# This library is free software; you can redistribute it and/or
# modify it under the terms of the GNU Lesser General Public
# License as published by the Free Software Foundation; either
# version 2.1 of the License, or (at your option) any later version.
#
# This library is distributed in the hope that it will be useful,
# but WITHOUT ANY WARRANTY; without even the implied warranty of
# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
# Lesser General Public License for more details.
#
# You should have received a copy of the GNU Lesser General Public
# License along with this library; if not, write to the Free Software
# Foundation, Inc., 51 Franklin St, Fifth Floor, Boston, MA 02110-1301, USA
#
# Usage: tests/mstcpip_test.sh
# WINE_INCLUDE names Wine's include directory (default /usr/include/wine/wine,
# which holds windows/ and msvcrt/).

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/tests/mstcpip_types.c
fragment=$top/wine/include/mstcpip-types.h
wine_include=${WINE_INCLUDE:-/usr/include/wine/wine}
passed=0
failed=0
skipped=0
tmp=$(mktemp -d /tmp/portres-mstcpip-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# compile NAME COMPILER LANGUAGE FLAGS...: the source compiles, warnings are errors
compile()
{
    name=$1 compiler=$2 lang=$3
    shift 3
    if ! command -v "$compiler" >/dev/null 2>&1; then
        echo "FAIL $name: $compiler is not installed: run tools/install-deps"
        failed=$((failed + 1))
        return
    fi
    if "$compiler" -x "$lang" -Wall -Werror "$@" -c "$src" -o "$tmp/out.o" >"$tmp/log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $compiler -x $lang -Wall -Werror $* -c $src"
        sed 's/^/    /' "$tmp/log"
        failed=$((failed + 1))
    fi
}

# Wine's mstcpip.h with the fragment, in a directory searched before Wine's
wine_ok=
if [ -f "$wine_include/windows/mstcpip.h" ] && [ -d "$wine_include/msvcrt" ]; then
    mkdir "$tmp/include"
    if awk -v fragment="$fragment" '
        /^#ifndef USE_WS_PREFIX$/ && !done { while ((getline line < fragment) > 0) print line; print ""; done = 1 }
        { print }
        END { exit !done }' "$wine_include/windows/mstcpip.h" >"$tmp/include/mstcpip.h"; then
        wine_ok=1
    else
        echo "FAIL $wine_include/windows/mstcpip.h has no \"#ifndef USE_WS_PREFIX\" line"
        failed=$((failed + 1))
    fi
else
    echo "FAIL Wine's headers: $wine_include/windows/mstcpip.h or $wine_include/msvcrt is missing: run tools/install-deps (libwine-dev)"
    failed=$((failed + 1))
fi
# Wine's headers alone, with Wine's C runtime headers, as Wine's PE modules are built
wine_pe="-nostdinc -I$tmp/include -I$wine_include/windows -I$wine_include/msvcrt -DEXPECT_WINE_HEADERS"

for arch in x86_64 i686; do
    compile "MinGW-w64 $arch, C" "$arch-w64-mingw32-gcc" c -DEXPECT_MINGW_HEADERS
    compile "MinGW-w64 $arch, C++" "$arch-w64-mingw32-g++" c++ -DEXPECT_MINGW_HEADERS
    [ -n "$wine_ok" ] || continue
    compile "Wine + fragment, $arch, C" "$arch-w64-mingw32-gcc" c $wine_pe
    compile "Wine + fragment, $arch, C++" "$arch-w64-mingw32-g++" c++ $wine_pe
done

if [ -n "$wine_ok" ]; then
    # without Microsoft extensions (MinGW's gcc turns them on by default),
    # and with the host compiler, as Wine's Unix-side code includes mstcpip.h
    compile "Wine + fragment, x86_64, C, -fno-ms-extensions" x86_64-w64-mingw32-gcc c -fno-ms-extensions $wine_pe
    compile "Wine + fragment, host gcc, C" "${CC:-gcc}" c -I"$tmp/include" -I"$wine_include/windows" -DEXPECT_WINE_HEADERS
fi

echo "RESULT passed=$passed failed=$failed skipped=$skipped"
[ $failed = 0 ]
