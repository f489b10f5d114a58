#!/bin/sh
#
# Tests of netsh.exe under Wine, run as a user runs it: "portres-wine netsh
# ..." in a fresh prefix, where portres-install has put our netsh.exe into
# system32.  Checks Windows' output and messages, that the Linux side sees
# the same reservations, and the errors.  Prints PASS and FAIL lines
# and "RESULT passed=N failed=N skipped=N" last.
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
# Usage: programs/netsh/tests/netsh_test.sh [--i386]   (the build tree is
# found from the script's place; WINESERVER, WINEDEBUG and PORTRES_SERVER
# are respected; WINEPREFIX and WINE, a Wine without any installed bridge
# (tools/wine-view), are our own).  --i386 runs the same tests on the
# 32-bit netsh.exe, the one that portres-install put into syswow64, named
# by its path there, with a 32-bit program holding the runtime reservation
# (the 32-bit suite, tests/run-tests --i386, does).

top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tests/prefixlib.sh"
# the netsh that runs: system32's, found as "netsh", or syswow64's
netsh_cmd=netsh
netsh_file=system32/netsh.exe
netsh_ours=$top/programs/netsh/netsh.exe
holdres=$top/programs/netsh/tests/holdres.exe
if [ "$1" = --i386 ]; then
    netsh_cmd='C:\windows\syswow64\netsh.exe'
    netsh_file=syswow64/netsh.exe
    netsh_ours=$top/programs/netsh/i386/netsh.exe
    holdres=$top/programs/netsh/i386/tests/holdres.exe
fi
require_built "$netsh_ours" "$holdres" portres

dir=$(mktemp -d /tmp/portres-netsh-XXXXXX)
own_wine "$dir/wine"
WINEPREFIX=$dir/prefix
WINEDEBUG=${WINEDEBUG:-fixme-all}
export WINEPREFIX WINEDEBUG
server=${PORTRES_SERVER:-$top/server/portres-server}
out=$dir/out
err=$dir/err
expected=$dir/expected
# the current directory is where Wine looks for "netsh" first: an empty one,
# so that the one that runs is system32's
cd "$dir" || exit 1

# Wine's own messages (kernelbase) for the Win32 errors, beside Windows' ones
SHARING='^(The process cannot access the file because it is being used by another process|Sharing violation)\.$'
INVALID='^(The parameter is incorrect|Invalid parameter)\.$'
NOT_FOUND='^Element not found\.$'
ACCESS_DENIED='^(Access is denied|Access denied)\.$'
UNSUPPORTED="only implements the excludedportrange and dynamicport commands of 'interface ipv4|ipv6'"

trap 'cleanup; exit 1' HUP INT TERM

# Runs netsh with portres-wine, as from a prompt that Windows' "Run as
# administrator" started (netsh_as KIND runs it --elevated, --limited, or
# with Wine's own token when KIND is empty); its exit status is in $status,
# its output in $out without the CRs of Windows' line ends (the raw one in
# $out.raw).  Wine's output goes to files, never into a pipe: the
# wineserver and the services keep a pipe open for as long as they live.
netsh_as()
{
    kind=$1
    shift
    "$top/portres-wine" $kind "$netsh_cmd" "$@" >"$out.raw" 2>"$err" </dev/null
    status=$?
    tr -d '\r' <"$out.raw" >"$out"
}

netsh() { netsh_as --elevated "$@"; }

# runs the Linux admin command of the same prefix
portres()
{
    "$top/portres" "$@" >"$out" 2>"$err"
    status=$?
}

# whether $out is exactly the text on stdin
same_output() { cat >"$expected" && cmp -s "$expected" "$out"; }

# whether the first line of $out matches a regular expression
first_line() { head -n 1 "$out" | grep -Eq "$1"; }

empty_table()
{
    printf '\nProtocol %s Port Exclusion Ranges\n\nStart Port    End Port\n----------    --------\n\n* - Administered port exclusions.\n\n' "$1"
}

# ---------------------------------------------------------------------------
# our netsh is the one that runs

netsh /?
[ $status = 0 ] && grep -q 'excludedportrange' "$out" && grep -q "portres" "$out"
result $? "netsh /? runs portres' netsh ($netsh_cmd; prefix created, exit status 0)"

cmp -s "$WINEPREFIX/drive_c/windows/$netsh_file" "$netsh_ours" &&
    grep -qi '^"netsh.exe"="native,builtin"' "$WINEPREFIX/user.reg"
result $? "$netsh_file is ours, with the override netsh.exe=native,builtin"

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && empty_table tcp | same_output
result $? "show excludedportrange in a new prefix: the empty table"

# ---------------------------------------------------------------------------
# add, show, delete

netsh int ipv4 add excludedportrange protocol=tcp startport=47000 numberofports=8
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "add excludedportrange prints Ok."

grep -q "$(printf 'Ok.\r')" "$out.raw"
result $? "the output has Windows' line ends"

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && same_output <<'EOF'

Protocol tcp Port Exclusion Ranges

Start Port    End Port
----------    --------
     47000       47007     *

* - Administered port exclusions.

EOF
result $? "show excludedportrange lists the exclusion with *, in Windows' layout"

portres show tcp
[ $status = 0 ] && grep -Eq '^ +47000 +47007 +\*$' "$out"
result $? "portres show tcp sees netsh's exclusion"

netsh int ipv6 show excludedportrange tcp
[ $status = 0 ] && grep -q '^     47000       47007     \*$' "$out"
result $? "ipv6 shows the exclusion made through ipv4 (positional protocol)"

netsh INT IPV4 SHOW EXCLUDEDPORTRANGE PROTOCOL=TCP
[ $status = 0 ] && grep -q '^     47000       47007     \*$' "$out"
result $? "keywords are case-insensitive"

netsh interface ipv4 show excludedportrange protocol=udp
[ $status = 0 ] && empty_table udp | same_output
result $? "udp exclusions are kept apart"

netsh int ipv6 add excludedportrange udp 47100 3
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "add with positional values through ipv6"

portres show udp
[ $status = 0 ] && grep -Eq '^ +47100 +47102 +\*$' "$out"
result $? "portres show udp sees it"

netsh int ipv4 show excludedportrange protocol=tcp store=persistent
[ $status = 0 ] && grep -q '^     47000       47007     \*$' "$out" && ! grep -q 47100 "$out"
result $? "show with store=persistent"

# ---------------------------------------------------------------------------
# a runtime reservation of a program: shown without *, not netsh's to delete

"$top/portres-wine" "$holdres" 47500 4 "Z:$(printf '%s' "$dir/stop" | tr / '\\')" \
    >"$dir/holdres.out" 2>"$dir/holdres.err" </dev/null &
holder=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^acquired' "$dir/holdres.out" 2>/dev/null && kill -0 $holder 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
if grep -q '^acquired' "$dir/holdres.out"; then
    netsh int ipv4 show excludedportrange protocol=tcp
    [ $status = 0 ] && grep -q '^     47500       47503$' "$out" && grep -q '^     47000       47007     \*$' "$out"
    result $? "a program's runtime reservation is shown without *"

    netsh int ipv4 show excludedportrange protocol=tcp store=persistent
    [ $status = 0 ] && ! grep -q 47500 "$out" && grep -q '^     47000       47007     \*$' "$out"
    result $? "store=persistent leaves the runtime reservation out"

    netsh int ipv4 add excludedportrange protocol=tcp startport=47501 numberofports=1
    [ $status != 0 ] && first_line "$SHARING"
    result $? "an add over a runtime reservation fails with the sharing violation message"

    netsh int ipv4 delete excludedportrange protocol=tcp startport=47500 numberofports=4
    [ $status != 0 ] && first_line "$ACCESS_DENIED"
    result $? "deleting a runtime reservation is denied"
else
    status=none
    cp "$dir/holdres.out" "$out"
    cp "$dir/holdres.err" "$err"
    result 1 "holdres.exe holds a runtime reservation"
fi
: >"$dir/stop"
wait $holder

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && ! grep -q 47500 "$out"
result $? "the runtime reservation is gone with its program"

# ---------------------------------------------------------------------------
# elevation: changes need an elevated netsh, reading does not

netsh_as --limited int ipv4 add excludedportrange protocol=tcp startport=47400 numberofports=2
[ $status = 1 ] && first_line "$ACCESS_DENIED"
result $? "not elevated: add excludedportrange is refused with the access denied message"

netsh_as --limited int ipv4 delete excludedportrange protocol=tcp startport=47000 numberofports=8
[ $status = 1 ] && first_line "$ACCESS_DENIED"
result $? "not elevated: delete excludedportrange is refused with the access denied message"

netsh_as --limited int ipv4 set dynamicport tcp start=50000 num=1000
[ $status = 1 ] && first_line "$ACCESS_DENIED"
result $? "not elevated: set dynamicport is refused with the access denied message"

netsh_as --limited int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && grep -q '^     47000       47007     \*$' "$out" && ! grep -q 47400 "$out"
result $? "not elevated: show excludedportrange works, and the refused add left nothing"

netsh_as --limited int ipv4 show dynamicport tcp
[ $status = 0 ] && grep -q '^Start Port      : 49152$' "$out"
result $? "not elevated: show dynamicport works, and the refused set changed nothing"

# A plain "wine netsh" runs with the token Wine starts programs with:
# Wine 8.0 an administrator's elevated one, Wine 9.0 and later the limited
# one, as Windows' UAC does (docs/wine-internals.md)
wine_major=$("$WINE" --version 2>/dev/null | sed -n 's/^wine-\([0-9]*\).*/\1/p')
netsh_as "" int ipv4 add excludedportrange protocol=tcp startport=47400 numberofports=2
if [ "${wine_major:-0}" -ge 9 ]; then
    [ $status = 1 ] && first_line "$ACCESS_DENIED"
    result $? "wine-$wine_major: a plain netsh is not elevated: add is refused"
else
    [ $status = 0 ] && printf 'Ok.\n\n' | same_output
    result $? "wine-$wine_major: a plain netsh is elevated: add works"
    netsh int ipv4 delete excludedportrange protocol=tcp startport=47400 numberofports=2
fi

# ---------------------------------------------------------------------------
# errors from the server

netsh int ipv4 add excludedportrange protocol=tcp startport=47004 numberofports=2
[ $status != 0 ] && first_line "$SHARING"
result $? "an overlapping add fails with the sharing violation message"

netsh int ipv4 add excludedportrange protocol=udp startport=47100 numberofports=3
[ $status != 0 ] && first_line "$SHARING"
result $? "adding the same range again fails with the sharing violation message"

netsh int ipv4 delete excludedportrange protocol=tcp startport=47000 numberofports=4
[ $status != 0 ] && first_line "$NOT_FOUND"
result $? "delete needs the exact range: Element not found."

netsh int ipv4 delete excludedportrange protocol=tcp startport=48000 numberofports=8
[ $status != 0 ] && first_line "$NOT_FOUND"
result $? "delete of a range that does not exist: Element not found."

netsh int ipv4 add excludedportrange protocol=tcp startport=47200 numberofports=0
[ $status != 0 ] && first_line "$INVALID"
result $? "numberofports=0: the invalid parameter message"

netsh int ipv4 add excludedportrange protocol=tcp startport=65530 numberofports=10
[ $status != 0 ] && first_line "$INVALID"
result $? "a range past 65535: the invalid parameter message"

netsh int ipv4 add excludedportrange protocol=tcp startport=0 numberofports=1
[ $status != 0 ] && first_line "$INVALID"
result $? "startport=0: the invalid parameter message"

# ---------------------------------------------------------------------------
# bad input

netsh int ipv4 add excludedportrange protocol=tcp startport=abc numberofports=2
[ $status != 0 ] && first_line "^'abc' is not an acceptable value for startport\.$" &&
    sed -n 2p "$out" | grep -Eq "$INVALID"
result $? "startport=abc is not an acceptable value"

netsh int ipv4 add excludedportrange protocol=tcp startport=70000 numberofports=2
[ $status != 0 ] && first_line "^'70000' is not an acceptable value for startport\.$"
result $? "startport=70000 is not an acceptable value"

netsh int ipv4 add excludedportrange protocol=tcp startport=47200 numberofports=-1
[ $status != 0 ] && first_line "^'-1' is not an acceptable value for numberofports\.$"
result $? "numberofports=-1 is not an acceptable value"

netsh int ipv4 show excludedportrange protocol=icmp
[ $status != 0 ] && first_line "^'icmp' is not an acceptable value for protocol\.$"
result $? "protocol=icmp is not an acceptable value"

netsh int ipv4 add excludedportrange protocol=tcp startport=47200 numberofports=2 store=forever
[ $status != 0 ] && first_line "^'forever' is not an acceptable value for store\.$"
result $? "store=forever is not an acceptable value"

netsh int ipv4 add excludedportrange protocol=tcp startport=47200
[ $status != 0 ] && first_line '^One or more essential parameters were not entered\.$' &&
    grep -q '^Usage: add excludedportrange' "$out"
result $? "a missing numberofports: essential parameters message and usage"

netsh int ipv4 show excludedportrange
[ $status != 0 ] && first_line '^One or more essential parameters were not entered\.$'
result $? "a missing protocol: essential parameters message"

netsh int ipv4 add excludedportrange protocol=tcp startport=47200 numberofports=2 colour=red
[ $status != 0 ] && first_line '^The syntax supplied for this command is not valid\.'
result $? "an unknown tag: syntax message"

netsh int ipv4 add excludedportrange tcp 47200 2 persistent extra
[ $status != 0 ] && first_line '^The syntax supplied for this command is not valid\.'
result $? "too many values: syntax message"

netsh int ipv4 add excludedportrange protocol=tcp protocol=udp startport=47200 numberofports=2
[ $status != 0 ] && first_line '^The syntax supplied for this command is not valid\.'
result $? "a tag given twice: syntax message"

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && ! grep -q 47200 "$out"
result $? "none of the bad commands added anything"

# ---------------------------------------------------------------------------
# store=active, delete

netsh int ipv4 add excludedportrange protocol=tcp startport=47300 numberofports=2 store=active
[ $status != 0 ] && grep -q 'store=active is not available' "$out"
result $? "add with store=active is refused with a message"

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && ! grep -q 47300 "$out"
result $? "the refused active exclusion was not added"

netsh int ipv4 delete excludedportrange protocol=tcp startport=47000 numberofports=8 store=active
[ $status != 0 ] && grep -q 'store=active is not available' "$out"
result $? "delete with store=active is refused with a message"

netsh int ipv4 delete excludedportrange protocol=tcp startport=47000 numberofports=8
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "delete excludedportrange prints Ok."

netsh int ipv4 show excludedportrange protocol=tcp
[ $status = 0 ] && empty_table tcp | same_output
result $? "the deleted exclusions are gone"

portres show tcp
[ $status = 0 ] && ! grep -q 47000 "$out"
result $? "portres show tcp sees them gone"

netsh int ipv6 delete excludedportrange udp 47100 3
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "delete with positional values through ipv6"

# ---------------------------------------------------------------------------
# the dynamic port range

netsh int ipv4 show dynamicport tcp
[ $status = 0 ] && same_output <<'EOF'

Protocol tcp Dynamic Port Range
---------------------------------
Start Port      : 49152
Number of Ports : 16384

EOF
result $? "show dynamicport: Windows' default range, in Windows' layout"

netsh int ipv4 set dynamicport udp start=50000 num=1000
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "set dynamicport prints Ok."

netsh int ipv6 show dynamicportrange protocol=udp
[ $status = 0 ] && grep -q '^Start Port      : 50000$' "$out" && grep -q '^Number of Ports : 1000$' "$out"
result $? "show dynamicportrange shows the new range"

portres dynamicport udp
[ $status = 0 ] && grep -q '^Start Port      : 50000$' "$out" && grep -q '^Number of Ports : 1000$' "$out"
result $? "portres dynamicport udp sees it"

netsh int ipv4 show dynamicport tcp
[ $status = 0 ] && grep -q '^Start Port      : 49152$' "$out"
result $? "the tcp range is kept apart"

netsh int ipv4 set dynamicport udp start=100 num=1000
[ $status != 0 ] && first_line "$INVALID"
result $? "a dynamic range below 1025: the invalid parameter message"

netsh int ipv4 set dynamicport udp start=50000 num=10
[ $status != 0 ] && first_line "$INVALID"
result $? "a dynamic range of fewer than 255 ports: the invalid parameter message"

netsh int ipv4 set dynamicport udp start=50000
[ $status != 0 ] && first_line '^One or more essential parameters were not entered\.$'
result $? "set dynamicport without num: essential parameters message"

netsh int ipv4 set dynamicportrange protocol=udp startport=49152 numberofports=16384
[ $status = 0 ] && printf 'Ok.\n\n' | same_output
result $? "set dynamicportrange back to the default"

# ---------------------------------------------------------------------------
# what this netsh does not do

netsh wlan show profiles
[ $status != 0 ] && [ "$(wc -l <"$out")" = 1 ] && grep -qF "$UNSUPPORTED" "$out"
result $? "another context: a one-line message, non-zero exit status"

netsh int ipv4 show config
[ $status != 0 ] && [ "$(wc -l <"$out")" = 1 ] && grep -qF "$UNSUPPORTED" "$out"
result $? "another command of interface ipv4: a one-line message"

netsh int ipv4 reset
[ $status != 0 ] && grep -qF "$UNSUPPORTED" "$out"
result $? "interface ipv4 reset is not available"

netsh
[ $status != 0 ] && grep -q '^Usage: netsh interface ipv4|ipv6' "$out"
result $? "netsh without arguments prints the usage"

netsh int ipv4 add excludedportrange /?
[ $status = 0 ] && grep -q '^Usage: add excludedportrange' "$out"
result $? "a command's /? prints its usage"

# without portres-wine and the bridge in Wine's own directory (our Wine
# has none), the bridge cannot be loaded: netsh says how to get it
(unset WINEDLLPATH; "$WINE" "$netsh_cmd" int ipv4 show excludedportrange tcp >"$out.raw" 2>"$err" </dev/null)
status=$?
tr -d '\r' <"$out.raw" >"$out"
[ $status != 0 ] && grep -q "portres-wine" "$out"
result $? "without the bridge: a message saying how to get it"

cleanup
finish
