#!/bin/sh
# A bind into another prefix's runtime reservation gets Windows' answer,
# WSAEACCES: dlls/ws2_32/tests/prefixes_test.exe holds a TCP and a UDP
# block in the prefix it is given ($WINEPREFIX), and the same program, in a
# second prefix made here, binds into both blocks (refused with
# WSAEACCES, not WSAEADDRINUSE), has the first one release them, and binds
# the same ports again (they bind).  Both programs' checks are counted from
# their summary lines; prints PASS and FAIL lines and
# "RESULT passed=N failed=N skipped=N" last.
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
# Usage: tests/prefixes_test.sh [--i386]   (the build tree is found from
# the script's place; WINEPREFIX, the holding prefix, must be set; WINE,
# WINESERVER, WINEDEBUG and PORTRES_SERVER are respected).  --i386 binds
# from the 32-bit build of the program (the holder stays 64-bit).

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/prefixlib.sh"
server=${PORTRES_SERVER:-$top/server/portres-server}
exe=$top/dlls/ws2_32/tests/prefixes_test.exe
binder=$exe
width=64-bit
if [ "$1" = --i386 ]; then
    binder=$top/dlls/ws2_32/tests/i386/prefixes_test.exe
    width=32-bit
fi

if [ -z "$WINEPREFIX" ]; then
    echo "FAIL WINEPREFIX is not set: the test holds in the prefix it is given"
    failed=$((failed + 1))
    finish
fi
export WINEPREFIX
require_built "$exe" "$binder" portres "$server" portres-wine

first=$WINEPREFIX
dir=$(mktemp -d /tmp/portres-prefixes-XXXXXX)
second=$dir/prefix
xdir=$dir/x
mkdir "$xdir"
out=$dir/out
err=$dir/err
: >"$out"
: >"$err"
holder_pid=

# the second prefix (cleanup's), then the first one's program if it hangs
finish_up()
{
    WINEPREFIX=$second
    cleanup
    WINEPREFIX=$first
    if [ -n "$holder_pid" ]; then
        "${WINESERVER:-wineserver}" -k >/dev/null 2>&1
        wait "$holder_pid" 2>/dev/null
    fi
}
trap 'finish_up; exit 1' HUP INT TERM

# the second prefix is made first: the holder waits for the binder, whose
# start must not include the making of a prefix (minutes on a machine that
# emulates every instruction)
WINEPREFIX=$second "$top/portres-wine" cmd /c exit >"$dir/setup.log" 2>&1 </dev/null
status=$?
[ $status = 0 ]
result $? "the second prefix is made"

WINEPREFIX=$first "$top/portres-wine" "$exe" prefixes hold "Z:$xdir" >"$dir/holder.log" 2>&1 </dev/null &
holder_pid=$!
WINEPREFIX=$second "$top/portres-wine" "$binder" prefixes bind "Z:$xdir" >"$dir/binder.log" 2>&1 </dev/null
status=$?
sed 's/^/    binder: /' "$dir/binder.log" | tr -d '\r'
wine_test_result "prefixes_test.exe bind ($width, second prefix)" "$dir/binder.log" $status

# the binder has told the holder to release; if it could not, the holder
# gives up after five minutes of waiting
wait "$holder_pid"
status=$?
holder_pid=
sed 's/^/    holder: /' "$dir/holder.log" | tr -d '\r'
wine_test_result "prefixes_test.exe hold (64-bit, first prefix)" "$dir/holder.log" $status

finish_up
finish
