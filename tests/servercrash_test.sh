#!/bin/sh
#
# A Windows program's reservation across a SIGKILL of the reservation
# server, proven step by step: dlls/ws2_32/tests/servercrash_test.exe runs
# under portres-wine, acquires a block, associates a socket with it, binds
# it, and says so in a file; we then find the pid of the server that holds
# the prefix's lock, kill it with "portres-server -k9", make sure that
# process is gone and that a server with another pid holds the lock (the
# keeper, the same one as before, starts it), and tell the program so, with
# both pids.  The program's next calls must behave as if nothing had
# happened; once they are done, the server that answered them must be the
# new one, and "portres show tcp" must list the program's block.  Then the
# program releases it.  Prints PASS and FAIL lines and
# "RESULT passed=N failed=N skipped=N" last; the program's own checks are
# counted from its summary line.  Nothing killed means FAIL, never PASS.
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
# Usage: tests/servercrash_test.sh [--i386]   (the build tree is found from
# the script's place; WINEPREFIX, the prefix to use, must be set; WINE
# (passed on to portres-wine), WINESERVER, WINEDEBUG and PORTRES_SERVER are
# respected).  --i386 runs the 32-bit build of the program (the 32-bit
# suite, tests/run-tests --i386, does).

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/prefixlib.sh"
wineserver=${WINESERVER:-wineserver}
server=${PORTRES_SERVER:-$top/server/portres-server}
exe=$top/dlls/ws2_32/tests/servercrash_test.exe
width=64-bit
if [ "$1" = --i386 ]; then
    exe=$top/dlls/ws2_32/tests/i386/servercrash_test.exe
    width=32-bit
fi

if [ -z "$WINEPREFIX" ]; then
    echo "FAIL WINEPREFIX is not set: the test runs in the prefix it is given"
    failed=$((failed + 1))
    finish
fi
export WINEPREFIX
require_built "$exe" portres "$server" portres-wine tests/server_pids

# the files we and the program exchange, the program's output, ours
xdir=$(mktemp -d /tmp/portres-servercrash-XXXXXX)
out=$xdir/out
err=$xdir/err
: >"$out"
: >"$err"
status=0
prog_pid=

finish_up()
{
    # the prefix's Wine processes, our program among them, if it hangs
    "$wineserver" -k >/dev/null 2>&1
    [ -z "$prog_pid" ] || wait "$prog_pid" 2>/dev/null
    rm -rf "$xdir"
}
trap 'finish_up; exit 1' HUP INT TERM

# check STATUS DESCRIPTION: prefixlib's result, then $out and $err emptied,
# so that a failure shows only the output of the commands since the last
check()
{
    result "$@"
    : >"$out"
    : >"$err"
}

# the pids of the prefix's server (the holder of its lock) and of its
# keeper, 0 for one that does not run
server_pid() { set -- $("$top/tests/server_pids" "$server_dir"); echo "${1:-0}"; }
keeper_pid() { set -- $("$top/tests/server_pids" "$server_dir"); echo "${2:-0}"; }

# whether a process has ended: gone, or a zombie nobody has reaped yet
process_gone()
{
    [ -e "/proc/$1" ] || return 0
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# wait_for SECONDS COMMAND...: until the command succeeds; 1 on timeout
wait_for()
{
    limit=$(($1 * 10))
    shift
    tries=0
    until "$@"; do
        [ $tries -lt $limit ] || return 1
        sleep 0.1
        tries=$((tries + 1))
    done
}

# a file from the program, or the program's end (then it will not come)
program_said() { [ -f "$xdir/$1" ] || ! kill -0 "$prog_pid" 2>/dev/null; }

# tell the program something: written aside, then renamed into place
tell_program()
{
    echo "$2" >"$xdir/$1.tmp" && mv "$xdir/$1.tmp" "$xdir/$1"
}

new_server() { now=$(server_pid); [ "$now" != 0 ] && [ "$now" != "$before" ]; }

# ---------------------------------------------------------------------------
# 1. the program holds a reservation

"$top/portres-wine" "$exe" servercrash "Z:$xdir" >"$xdir/program.log" 2>&1 </dev/null &
prog_pid=$!
wait_for 300 program_said held
[ -f "$xdir/held" ]
check $? "servercrash_test.exe ($width) holds a reservation"
set -- $(cat "$xdir/held" 2>/dev/null) 0 0 0
start=$1 count=$2 given=$3
key=server-$(stat -c %D "$WINEPREFIX")-$(printf %x "$(stat -c %i "$WINEPREFIX")")
server_dir=/tmp/.portres-$(id -u)/$key

# ---------------------------------------------------------------------------
# 2. its server dies, and the keeper starts the next one

before=$(server_pid)
keeper=$(keeper_pid)
[ "$before" != 0 ] && [ "$keeper" != 0 ]
check $? "a server (pid $before) and its keeper (pid $keeper) run while the program holds ports $start+$count"

"$server" -k9 >"$out" 2>"$err"
kill_status=$?
[ $kill_status = 0 ]
check $? "portres-server -k9 kills the server (exit status $kill_status)"
killed=1
if [ "$before" != 0 ] && wait_for 10 process_gone "$before"; then
    check 0 "the server's process $before is gone"
else
    check 1 "the server's process (pid $before) is gone: there was none, or it lives on"
    killed=0
fi
if wait_for 10 new_server; then
    after=$(server_pid)
    check 0 "a new server (pid $after, was $before) holds the lock"
else
    after=$(server_pid)
    check 1 "a new server holds the lock (the lock is held by pid $after, was $before)"
    killed=0
fi
[ "$keeper" != 0 ] && [ "$(keeper_pid)" = "$keeper" ]
check $? "the keeper (pid $keeper) that held the ports meanwhile lives on"
if [ $killed = 1 ] && [ $kill_status = 0 ]; then
    tell_program crashed "killed $before $after"
else
    tell_program crashed "failed: server $before before, $after after, portres-server -k9 exit status $kill_status"
fi

# ---------------------------------------------------------------------------
# 3. the new server answers the program, and us

wait_for 60 program_said after
[ -f "$xdir/after" ]
check $? "servercrash_test.exe's calls after the crash returned"
now=$(server_pid)
[ "$now" != 0 ] && [ "$now" = "$after" ] && [ "$now" != "$before" ]
check $? "the server that answered them is the new one (the lock is held by pid $now)"
"$top/portres" show tcp >"$out" 2>"$err"
show_status=$?
[ $show_status = 0 ] && grep -Eq "^ +$start +$((start + count - 1)) +\\(pid [0-9]+\\)\$" "$out" &&
    [ "$(server_pid)" = "$after" ] && [ "$after" != "$before" ]
check $? "the new server (pid $after) lists the program's block $start-$((start + count - 1)) in portres show tcp"

# ---------------------------------------------------------------------------
# 4. the program releases its block and ends; its own checks

tell_program release go
if wait_for 60 eval '! kill -0 "$prog_pid" 2>/dev/null'; then
    wait "$prog_pid"
    status=$?
else
    echo "FAIL servercrash_test.exe did not end; killing the prefix's Wine processes"
    failed=$((failed + 1))
    "$wineserver" -k >/dev/null 2>&1
    wait "$prog_pid"
    status=$?
fi
prog_pid=
sed 's/^/    program: /' "$xdir/program.log" | tr -d '\r'
wine_test_result servercrash_test.exe "$xdir/program.log" $status

finish_up
finish
