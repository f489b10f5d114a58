# Shell functions that the tests under Wine share; sourced, never run.
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

# the counts of a test script, and its last line: finish prints them and
# ends the script
passed=0
failed=0
skipped=0

finish()
{
    echo "RESULT passed=$passed failed=$failed skipped=$skipped"
    exit 0
}

# remove_server_dirs PREFIX: after the prefix's wineserver and portres server
# have stopped, the directories they kept, keyed by the prefix's device and
# inode: portres' in /tmp/.portres-UID, Wine's in /tmp/.wine-UID upstream, in
# /run/user/UID/wine or a /tmp/wine-XXXXXX of its own with Debian's Wine
remove_server_dirs()
{
    key=server-$(stat -c %D "$1")-$(printf %x "$(stat -c %i "$1")")
    for sdir in "/tmp/.portres-$(id -u)/$key" "/tmp/.wine-$(id -u)/$key" "/run/user/$(id -u)/wine/$key" \
                /tmp/wine-*/"$key"; do
        [ -d "$sdir" ] || continue
        rm -rf "$sdir"
        case "$sdir" in /tmp/wine-*) rmdir "$(dirname "$sdir")" 2>/dev/null ;; esac
    done
}

# cleanup: stops the servers of a test's prefix ($WINEPREFIX: the
# wineserver, $WINESERVER or "wineserver", and the portres server $server)
# and removes the test's directory $dir, the prefix's home
# require_built FILE...: each file (a path in the build tree, or absolute)
# is there, or the test fails and ends
require_built()
{
    for file in "$@"; do
        case "$file" in
            /*) ;;
            *) file=$top/$file ;;
        esac
        if [ ! -f "$file" ]; then
            echo "FAIL $file is not built: run make"
            failed=$((failed + 1))
            finish
        fi
    done
}

# own_wine DIR: $WINE (and $WINELOADER) become a Wine of our own in DIR,
# the installed one without any portres bridge in its DLL directory
# (tools/wine-view); without an installed Wine, the test fails and ends.
own_wine()
{
    if ! WINE=$("$top/tools/wine-view" "$1"); then
        echo "FAIL Wine is not installed: run tools/install-deps (or apt-get install wine wine64)"
        failed=$((failed + 1))
        finish
    fi
    WINELOADER=$WINE
    export WINE WINELOADER
}

cleanup()
{
    [ -n "$dir" ] || return
    if [ -d "$WINEPREFIX" ]; then
        "${WINESERVER:-wineserver}" -k >/dev/null 2>&1
        # none left is all we want: "no server is running" (exit 2) is fine
        "$server" -k >/dev/null 2>&1 || true
        remove_server_dirs "$WINEPREFIX"
    fi
    cd / && rm -rf "$dir"
    dir=
}

# result STATUS DESCRIPTION: a PASS or FAIL line, counted in $passed and
# $failed; a failure shows $out and $err, and the exit status in $status
result()
{
    if [ "$1" = 0 ]; then
        echo "PASS $2"
        passed=$((passed + 1))
    else
        echo "FAIL $2 (exit status $status)"
        failed=$((failed + 1))
        sed 's/^/    out: /' "$out"
        sed 's/^/    err: /' "$err"
    fi
}

# The tests of portres install ($top, $out, $err, $dir and $wineserver set):
# portres ARGS...: the admin command, exit status in $status, its output
# in $out and $err
portres()
{
    "$top/portres" "$@" >"$out" 2>"$err" </dev/null
    status=$?
}

# run_wine PROGRAM ARGS...: a Wine program of the prefix with $WINE; exit
# status in $status, output in $out without the CRs of Windows' line ends,
# Wine's messages in $err.  Wine's output goes to files, never into a pipe:
# the wineserver and the services keep a pipe open for as long as they live.
run_wine()
{
    "$WINE" "$@" >"$out.raw" 2>"$err" </dev/null
    status=$?
    tr -d '\r' <"$out.raw" >"$out"
}

# flush_registry: waits until the wineserver has written the registry to
# user.reg and system.reg (it does when it exits); kills it when something
# keeps it
flush_registry()
{
    if command -v timeout >/dev/null 2>&1; then
        timeout 60 "$wineserver" -w >>"$dir/wineserver.log" 2>&1 ||
            "$wineserver" -k >>"$dir/wineserver.log" 2>&1
    else
        "$wineserver" -w >>"$dir/wineserver.log" 2>&1
    fi
}

# all_ours LINES PREFIX: whether each "FILE OURS" line of LINES has
# PREFIXFILE equal to OURS; the files that are not are listed in $dir/differ
all_ours()
{
    : >"$dir/differ"
    echo "$1" | while read -r file ours; do
        cmp -s "$2$file" "$ours" || echo "$file" >>"$dir/differ"
    done
    [ ! -s "$dir/differ" ]
}

# wine_test_result NAME LOG STATUS: the counts of a Windows test program
# of the Wine test framework (NAME, exit status STATUS) from the summary
# line of its output LOG, added to ours, with a PASS or FAIL line of its
# own; a program that printed no summary fails
wine_test_result()
{
    summary=$(tr -d '\r' <"$2" | grep -E '^[0-9a-f]+:[a-z_0-9]+: [0-9]+ tests executed' | tail -n 1)
    if [ -z "$summary" ]; then
        echo "FAIL $1 printed no summary (exit status $3)"
        failed=$((failed + 1))
        return
    fi
    set -- "$1" "$3" $(echo "$summary" |
        sed -E 's/.*: ([0-9]+) tests executed \(([0-9]+) marked as todo, [0-9]+ as flaky, ([0-9]+) failures?\), ([0-9]+) skipped.*/\1 \3 \4/')
    passed=$((passed + $3 - $4))
    failed=$((failed + $4))
    skipped=$((skipped + $5))
    if [ "$4" = 0 ] && [ "$2" = 0 ]; then
        echo "PASS $1: $3 checks, none failed, $5 skipped"
    else
        echo "FAIL $1: $3 checks, $4 failed, $5 skipped (exit status $2)"
        [ "$4" != 0 ] || failed=$((failed + 1))
    fi
}
