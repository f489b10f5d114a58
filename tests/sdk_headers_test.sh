#!/bin/sh
#
# The headers of the Wine series against the SDK's:
# - the port reservation types of wine/include/mstcpip-types.h:
#   tests/mstcpip_types.c, which uses them as C and C++ code written against
#   the Windows SDK do, must compile with -Wall -Werror both against
#   MinGW-w64's mstcpip.h and against Wine's mstcpip.h (libwine-dev) with the
#   fragment inserted before its "#ifndef USE_WS_PREFIX", as
#   tools/wine-patches inserts it;
# - the persistent port reservation functions of wine/include/iphlpapi.h:
#   tests/iphlpapi_decls.c likewise, against MinGW-w64's iphlpapi.h and
#   Wine's with the declarations inserted before its "typedef enum
#   NET_ADDRESS_FORMAT_ {" (Wine 8.0's piece where the header has no
#   IPHLPAPI_DLL_LINKAGE); and it must not compile against Wine's header
#   as it is, which does not declare them.
# A compiler that is missing is a failure.
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
expect=
tmp=$(mktemp -d /tmp/portres-mstcpip-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# compile NAME COMPILER LANGUAGE FLAGS...: the source $src compiles,
# warnings are errors; with $expect set to "fail", it must not
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
        if [ "$expect" = fail ]; then
            echo "FAIL $name: compiles, but the header should not declare what it uses"
            failed=$((failed + 1))
            return
        fi
        echo "PASS $name"
        passed=$((passed + 1))
    elif [ "$expect" = fail ]; then
        echo "PASS $name (does not compile, as it should not)"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $compiler -x $lang -Wall -Werror $* -c $src"
        sed 's/^/    /' "$tmp/log"
        failed=$((failed + 1))
    fi
}

# insert HEADER ANCHOR PIECE [SEPARATOR]: Wine's HEADER with the file PIECE
# (and the SEPARATOR line) inserted before its first line matching the awk
# pattern ANCHOR, into $tmp/include, a directory searched before Wine's;
# fails when no line matches
insert()
{
    mkdir -p "$tmp/include"
    awk -v piece="$3" -v sep="${4-none}" '
        $0 ~ anchor && !done { while ((getline line < piece) > 0) print line; if (sep != "none") print sep; done = 1 }
        { print }
        END { exit !done }' anchor="$2" "$wine_include/windows/$1" >"$tmp/include/$1"
}

# compile_widths LABEL WINE_LABEL [MINGW_FLAG]: $src as C and C++, for
# x86_64 and i686, against MinGW-w64's headers and, when $wine_ok is set,
# against Wine's with the series' pieces ($wine_pe)
compile_widths()
{
    for arch in x86_64 i686; do
        compile "${1}MinGW-w64 $arch, C" "$arch-w64-mingw32-gcc" c $3
        compile "${1}MinGW-w64 $arch, C++" "$arch-w64-mingw32-g++" c++ $3
        [ -n "$wine_ok" ] || continue
        compile "$1$2, $arch, C" "$arch-w64-mingw32-gcc" c $wine_pe
        compile "$1$2, $arch, C++" "$arch-w64-mingw32-g++" c++ $wine_pe
    done
}

# Wine's mstcpip.h with the fragment, in a directory searched before Wine's
wine_ok=
if [ -f "$wine_include/windows/mstcpip.h" ] && [ -d "$wine_include/msvcrt" ]; then
    if insert mstcpip.h '^#ifndef USE_WS_PREFIX$' "$fragment" ""; then
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

compile_widths "" "Wine + fragment" -DEXPECT_MINGW_HEADERS

if [ -n "$wine_ok" ]; then
    # without Microsoft extensions (MinGW's gcc turns them on by default),
    # and with the host compiler, as Wine's Unix-side code includes mstcpip.h
    compile "Wine + fragment, x86_64, C, -fno-ms-extensions" x86_64-w64-mingw32-gcc c -fno-ms-extensions $wine_pe
    compile "Wine + fragment, host gcc, C" "${CC:-gcc}" c -I"$tmp/include" -I"$wine_include/windows" -DEXPECT_WINE_HEADERS
fi

# iphlpapi.h: Wine's with the declarations of the series inserted
src=$top/tests/iphlpapi_decls.c
wine_ok=
if [ -f "$wine_include/windows/iphlpapi.h" ]; then
    piece="persistent"
    grep -q IPHLPAPI_DLL_LINKAGE "$wine_include/windows/iphlpapi.h" || piece="persistent 8.0"
    awk -v piece="/*@ $piece @*/" '$0 == piece { on = 1; next } /^\/\*@ / { on = 0 } on' \
        "$top/wine/include/iphlpapi.h" >"$tmp/iphlpapi.piece"
    if [ -s "$tmp/iphlpapi.piece" ] &&
       insert iphlpapi.h '^typedef enum NET_ADDRESS_FORMAT_ \\{$' "$tmp/iphlpapi.piece"; then
        wine_ok=1
    else
        echo "FAIL $wine_include/windows/iphlpapi.h has no \"typedef enum NET_ADDRESS_FORMAT_ {\" line, or wine/include/iphlpapi.h no piece \"$piece\""
        failed=$((failed + 1))
    fi
else
    echo "FAIL Wine's headers: $wine_include/windows/iphlpapi.h is missing: run tools/install-deps (libwine-dev)"
    failed=$((failed + 1))
fi
compile_widths "iphlpapi.h, " "Wine + declarations"
expect=fail
compile "iphlpapi.h, Wine as it is, x86_64, C" x86_64-w64-mingw32-gcc c -nostdinc -I"$wine_include/windows" -I"$wine_include/msvcrt"
expect=

echo "RESULT passed=$passed failed=$failed skipped=$skipped"
[ $failed = 0 ]
