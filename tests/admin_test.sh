#!/bin/sh
#
# Tests of the portres administration command, as a user runs it
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
# Usage: tests/admin_test.sh PORTRES PORTRES-SERVER

portres=$1
server=$2
passed=0
failed=0
skipped=0
# a block of ports that nothing holds now
base=$("$(dirname "$0")/free_ports" 8) || exit 1
WINEPREFIX=$(mktemp -d /tmp/portres-admin-XXXXXX)/prefix  # not created: portres must create it
export WINEPREFIX PORTRES_SERVER="$server"
out=$WINEPREFIX.out
err=$WINEPREFIX.err

result()
{
    if [ "$1" = 0 ]; then echo "PASS $2"; passed=$((passed + 1))
    else echo "FAIL $2"; failed=$((failed + 1)); sed 's/^/    /' "$out" "$err"; fi
}

# run portres; the exit status and output are in $status, $out, $err
run()
{
    "$portres" "$@" >"$out" 2>"$err"
    status=$?
}

run add tcp $base 8
grep -Eq '^0x[0-9a-f]{16}$' "$out" && [ $status = 0 ]
result $? "add prints a token"
token=$(cat "$out")

run show tcp
grep -Eq "^ +$base +$((base + 7)) +\\*\$" "$out" && grep -q 'Administered port exclusions' "$out" && [ $status = 0 ]
result $? "show lists the persistent range"

run show udp
! grep -Eq "^ +$base " "$out" && [ $status = 0 ]
result $? "udp is kept apart"

run lookup tcp $base 8
[ "$(cat "$out")" = "$token" ] && [ $status = 0 ]
result $? "lookup prints the same token"

"$server" -k >"$out" 2>"$err"
status=$?
[ $status = 0 ]
result $? "portres-server -k stops the server that keeps the persistent range"
run show tcp
grep -Eq "^ +$base +$((base + 7)) +\\*\$" "$out" && [ $status = 0 ]
result $? "the reservation survives portres-server -k"

run lookup tcp $base 8
[ "$(cat "$out")" = "$token" ]
result $? "the token survives portres-server -k"

run add tcp $((base + 4)) 2
[ $status != 0 ] && grep -q 'reserved or in use' "$err"
result $? "overlapping add is refused"

run add tcp 65530 10
[ $status != 0 ] && grep -q 'past 65535' "$err"
result $? "a range past 65535 is refused"

run add tcp abc 1
[ $status != 0 ] && grep -q 'not a number' "$err"
result $? "a start that is not a number is refused"

run add tcp 100 0
[ $status != 0 ] && grep -q 'out of range' "$err"
result $? "count 0 is refused"

# strtoul skips blanks and takes a sign: " -18446744073709486081" wraps to 65535
for arg in " -18446744073709486081" " 100" "+100" "100 " "-1"; do
    run add tcp "$arg" 1
    [ $status != 0 ] && grep -q 'not a number' "$err"
    result $? "start '$arg' is refused as not a number"
    run dynamicport tcp "$arg" 1000
    [ $status != 0 ] && grep -q 'not a number' "$err"
    result $? "dynamicport start '$arg' is refused as not a number"
done

run add sctp 100 1
[ $status != 0 ] && grep -q 'unknown protocol' "$err"
result $? "an unknown protocol is refused"

run add tcp 100
[ $status != 0 ] && grep -q 'usage' "$err"
result $? "missing arguments are refused"

run frobnicate
[ $status != 0 ] && grep -q 'unknown command' "$err"
result $? "an unknown command is refused"

run delete tcp $base 7
[ $status != 0 ] && grep -q 'exactly' "$err"
result $? "delete needs the exact range"

run delete tcp $base 8
[ $status = 0 ]
result $? "delete"

run show tcp
[ $status = 0 ] && ! grep -Eq "^ +$base " "$out"
result $? "show no longer lists a deleted range"

run dynamicport udp 20000 1000
[ $status = 0 ]
result $? "dynamicport sets the range"

run dynamicport udp
grep -q 'Start Port *: 20000' "$out" && grep -q 'Number of Ports *: 1000' "$out"
result $? "dynamicport shows the range"

run dynamicport udp 1000 1000
[ $status != 0 ] && grep -q '1025' "$err"
result $? "dynamicport refuses a start below 1025"

# the server directory is the user's alone: portres refuses it otherwise
dir=/tmp/.portres-$(id -u)/server-$(stat -c %D "$WINEPREFIX")-$(printf %x "$(stat -c %i "$WINEPREFIX")")
chmod 0755 "$dir"
run show tcp
[ $status = 1 ] && grep -q "^portres: $dir has insecure permissions" "$err"
result $? "a server directory open to others is refused"
chmod 0700 "$dir"

mv "$dir" "$dir.moved" && ln -s "$dir.moved" "$dir"
run show tcp
[ $status = 1 ] && grep -q "^portres: $dir is a symbolic link" "$err"
result $? "a server directory that is a symbolic link is refused"
rm -f "$dir" && mv "$dir.moved" "$dir"

if [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$dir"
    run show tcp
    [ $status = 1 ] && grep -q "^portres: $dir is not owned by you" "$err"
    result $? "a server directory of another user is refused"
    chown 0:0 "$dir"
else
    echo "SKIP a server directory of another user: needs root"
    skipped=$((skipped + 1))
fi

run show tcp
[ $status = 0 ]
result $? "the mended server directory is used again"

run add udp $base 4
run checkstate
[ $status = 0 ] && grep -Eq '^clients +1$' "$out" && grep -Eq '^udp +0 runtime, 1 persistent$' "$out" &&
    grep -Eq '^state +consistent$' "$out"
result $? "checkstate counts and finds the state consistent"

"$server" -k
rm -rf "$dir"
rm -rf "$(dirname "$WINEPREFIX")"
echo "RESULT passed=$passed failed=$failed skipped=$skipped"
[ $failed = 0 ]
