#!/bin/sh
#
# Tests of "portres install", "portres check" and "portres uninstall" (the
# admin command runs programs/portres/portres-install) in a fresh Wine
# prefix of our own: install puts the build's proxies into system32 and sets
# their DllOverrides, check sees that, a plain "wine portdemo.exe" then gets
# port reservations; check notices a damaged prefix and install repairs it,
# also after "wine wineboot -u"; uninstall puts Wine's own files back,
# byte for byte, and removes the overrides, after which portdemo fails as
# under stock Wine.  The bridge is reached through WINEDLLPATH, as
# portres-wine does, until a plain "portres install" (what root runs) puts
# it into Wine's own DLL directory: the test runs a Wine of its own
# (tools/wine-view), so that this is its own directory, not the system's,
# which the test checks it leaves alone.  Also the faults of issue 22:
# install right after "wineboot -i" (before the wineserver wrote
# system.reg) does not make the prefix again; check fails when a plain wine
# cannot reach the bridge and blames no wineboot; a prefix's uninstall
# leaves the bridge in Wine's directory to the other prefixes; uninstall
# leaves no portres-install.log; portres' usage lists --no-system.  Prints
# PASS and FAIL lines and "RESULT passed=N failed=N skipped=N" last.
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
# Usage: tests/install_test.sh   (the build tree is found from the
# script's place; WINESERVER, WINEDEBUG, WINEDLLPATH and PORTRES_SERVER
# are respected, WINE and WINEPREFIX are our own)

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/prefixlib.sh"
wineserver=${WINESERVER:-wineserver}
require_built portres programs/portres/portres-install dlls/ws2_32/ws2_32.dll dlls/iphlpapi/iphlpapi.dll \
    dlls/portres/portres.dll dlls/portres/portres.so programs/netsh/netsh.exe programs/portdemo/portdemo.exe

dir=$(mktemp -d /tmp/portres-install-XXXXXX)
own_wine "$dir/wine"
WINEPREFIX=$dir/prefix
WINEDEBUG=${WINEDEBUG:-fixme-all}
server=${PORTRES_SERVER:-$top/server/portres-server}
# a plain "wine prog.exe" reaches the bridge and the server as under
# portres-wine: the bridge through WINEDLLPATH, the server through
# PORTRES_SERVER (the bridge is not put into Wine's own directory)
PORTRES_SERVER=$server
WINEDLLPATH=$top/dlls/portres${WINEDLLPATH:+:$WINEDLLPATH}
export WINEPREFIX WINEDEBUG PORTRES_SERVER WINEDLLPATH
sys32=$WINEPREFIX/drive_c/windows/system32
backup=$WINEPREFIX/portres-backup
# Wine's own files of system32, as wineboot made them before any install
orig=$dir/orig
out=$dir/out
err=$dir/err
cd "$dir" || exit 1

# the files install puts into system32: "FILE OURS" (ours in the build)
OUR_FILES="ws2_32.dll $top/dlls/ws2_32/ws2_32.dll
iphlpapi.dll $top/dlls/iphlpapi/iphlpapi.dll
netsh.exe $top/programs/netsh/netsh.exe
portres.dll $top/dlls/portres/portres.dll"
# the DllOverrides names of the proxies
OVERRIDE_NAMES="ws2_32 iphlpapi netsh.exe"

trap 'cleanup; exit 1' HUP INT TERM

# The admin command (prefixlib's portres) gets, for "install", --no-system until the last part: a plain "portres install"
# copies the bridge (portres.dll, portres.so) into Wine's own DLL directory
# (/usr/lib/x86_64-linux-gnu/wine on Debian, here the one of our own Wine)
# when it can write there, as root can.  portres' usage does not list
# --no-system, but portres passes its arguments on to portres-install,
# which takes it; the first test makes sure that they get there.
# (portres, run_wine and flush_registry are prefixlib's.)

# a plain "wine portdemo.exe", not portres-wine: the proxies of the prefix
# must do it
portdemo() { run_wine "$top/programs/portdemo/portdemo.exe"; }

# the values of [Software\\Wine\\DllOverrides] in user.reg, in lower case
overrides()
{
    awk '
        /^\[/ { section = (index(tolower($0), "[software\\\\wine\\\\dlloverrides]") == 1); next }
        section && /^"/ { print tolower($0) }
    ' "$WINEPREFIX/user.reg"
}

# whether user.reg has NAME=native,builtin for every proxy
overrides_set()
{
    overrides >"$dir/overrides" || return 1
    for name in $OVERRIDE_NAMES; do
        grep -qxF "\"$name\"=\"native,builtin\"" "$dir/overrides" || return 1
    done
}

# whether user.reg has no value at all for any of the proxies
overrides_gone()
{
    overrides >"$dir/overrides" || return 1
    for name in $OVERRIDE_NAMES; do
        ! grep -qF "\"$name\"=" "$dir/overrides" || return 1
    done
}

# Whether the files of system32 are the build's; the ones that are not are
# listed in $dir/differ.
ours_in_system32() { all_ours "$OUR_FILES" "$sys32/"; }

# "NAME CRC SIZE" or "NAME none" for the bridge's files in Wine's own DLL
# directory ($wine_dlldir, when we found it)
system_bridge()
{
    [ -n "$wine_dlldir" ] || return 0
    for file in x86_64-windows/portres.dll x86_64-unix/portres.so; do
        if [ -e "$wine_dlldir/$file" ]; then
            echo "$file $(cksum <"$wine_dlldir/$file")"
        else
            echo "$file none"
        fi
    done
}

# ---------------------------------------------------------------------------
# the arguments of portres reach portres-install (so --no-system does)

portres check --portres-test-no-such-option
[ $status = 2 ] && grep -q '^usage: portres-install .*--no-system' "$err"
result $? "portres passes its options on to portres-install, which knows --no-system"
if [ $status != 2 ]; then
    echo "FAIL not installing: portres install --no-system might write into Wine's own DLL directory"
    failed=$((failed + 1))
    cleanup
    finish
fi

"$top/portres" help >"$out" 2>"$err" </dev/null
status=$?
[ $status = 0 ] && grep -q 'install \[--no-system\]' "$out"
result $? "portres help lists install's --no-system"

# ---------------------------------------------------------------------------
# 1. install into a fresh prefix

# a stock prefix, as a user has it; wineboot without our WINEDLLPATH, so
# that it puts nothing of ours into system32
(unset WINEDLLPATH; run_wine wineboot -i; exit $status)
status=$?
# system.reg comes only when the wineserver saves the registry, which it
# does when it exits, 3 seconds after its last program
[ -f "$WINEPREFIX/system.reg" ] && early= || early=1
[ $status = 0 ] && [ -f "$sys32/ws2_32.dll" ] && [ -f "$sys32/iphlpapi.dll" ]
result $? "wine wineboot -i creates a fresh prefix"

# Wine's own files, to compare with after uninstall
mkdir -p "$orig"
for file in ws2_32.dll iphlpapi.dll netsh.exe portres.dll; do
    if [ -f "$sys32/$file" ]; then
        cp -p "$sys32/$file" "$orig/$file"
    else
        : >"$orig/$file.none"
    fi
done

# install right away, while the wineserver still holds the new registry
portres install --no-system
[ $status = 0 ] && grep -q "installed into prefix $WINEPREFIX" "$out"
result $? "portres install --no-system into a fresh prefix: exit status 0"

if [ -n "$early" ]; then
    ! grep -q 'creating the Wine prefix' "$err" && ! grep -q 'wineboot' "$WINEPREFIX/portres-install.log"
    result $? "install right after wineboot -i, before system.reg is written, does not make the prefix again"
else
    echo "SKIP install right after wineboot -i: the wineserver had already written system.reg"
    skipped=$((skipped + 1))
fi
status=none
[ -f "$WINEPREFIX/system.reg" ] && ! grep -q '^#arch=win32' "$WINEPREFIX/system.reg"
result $? "install waited for the wineserver to write system.reg (a 64-bit prefix)"

# Wine's own DLL directory, from WINEDLLDIR0 in a Wine process's environment
# (as portres-install finds it): what the bridge is there before install
(unset WINEDLLPATH; run_wine cmd /c set)
wine_dlldir=$(sed -n 's/^WINEDLLDIR0=\\??\\//p' "$out" | tr '\\' /)
case "$wine_dlldir" in
    [A-Za-z]:/*)
        drive=$(printf '%s\n' "${wine_dlldir%%:*}" | tr '[:upper:]' '[:lower:]')
        root=$(cd -P "$WINEPREFIX/dosdevices/$drive:" 2>/dev/null && pwd -P) || root=
        if [ -n "$root" ]; then wine_dlldir=${root%/}/${wine_dlldir#?:/}; else wine_dlldir=; fi
        ;;
    unix/*) wine_dlldir=${wine_dlldir#unix} ;;
    *) wine_dlldir= ;;
esac
[ -f "$wine_dlldir/x86_64-windows/ntdll.dll" ] || wine_dlldir=
# the installed Wine's directory, which our Wine's mirrors and nothing here
# may change
host_dlldir=${wine_dlldir#"$dir/wine"}
[ -n "$wine_dlldir" ] && [ "$host_dlldir" != "$wine_dlldir" ] &&
    [ ! -e "$wine_dlldir/x86_64-windows/portres.dll" ] && [ ! -e "$wine_dlldir/x86_64-unix/portres.so" ]
result $? "the prefix runs a Wine of the test's own, without a bridge in its DLL directory ${wine_dlldir:-(not found)} (install --no-system put none there)"
host_bridge() { (wine_dlldir=$host_dlldir; system_bridge); }
host_bridge >"$dir/host.before"

for file in ws2_32.dll iphlpapi.dll netsh.exe; do
    ours=$(echo "$OUR_FILES" | sed -n "s/^$file //p")
    cmp -s "$sys32/$file" "$ours"
    result $? "system32/$file is the build's ${ours#"$top/"}, byte for byte"
done

status=none
flush_registry
overrides_set
result $? "user.reg has the DllOverrides ws2_32, iphlpapi and netsh.exe = native,builtin"

[ -f "$backup/state" ] && ! grep -Eq '^system_(file|bridge) ' "$backup/state" &&
    grep -qxF "winedlldir $wine_dlldir" "$backup/state"
result $? "install --no-system records Wine's DLL directory, for check, and no bridge of Wine's directory"

# ---------------------------------------------------------------------------
# 2. check

portres check
[ $status = 0 ] && grep -q "prefix $WINEPREFIX is installed" "$out"
result $? "portres check right after install, the bridge on WINEDLLPATH: exit status 0, installed"

# after install --no-system, a plain wine without WINEDLLPATH does not
# reach the bridge (part 3 shows it): check must say so
(unset WINEDLLPATH; portres check; exit $status)
status=$?
[ $status = 1 ] && grep -q 'a plain wine cannot reach the bridge' "$err"
result $? "portres check after install --no-system, without the bridge on WINEDLLPATH: exit status 1, a plain wine cannot reach the bridge"

# ---------------------------------------------------------------------------
# 3. a plain "wine prog.exe" gets port reservations

portdemo
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "plain wine portdemo.exe (WINEDLLPATH, PORTRES_SERVER) reserves ports: portdemo: success"

# without the bridge on WINEDLLPATH (and none in our Wine's directory) the
# proxies forward everything to Wine, and the reservation ioctls fail, with
# an err:portres line saying why
(unset WINEDLLPATH; WINEDEBUG=$WINEDEBUG,err+portres portdemo; exit $status)
status=$?
[ $status != 0 ] && ! grep -q 'portdemo: success' "$out" &&
    grep -q 'SIO_ACQUIRE_PORT_RESERVATION failed, error 10045$' "$out" && grep -q 'err:portres' "$err"
result $? "plain wine portdemo.exe without the bridge on WINEDLLPATH: WSAEOPNOTSUPP (10045) and an err:portres line"

# ---------------------------------------------------------------------------
# 4. a damaged prefix: check says so, install repairs it

cp "$backup/ws2_32.dll" "$sys32/ws2_32.dll"
portres check
[ $status != 0 ] && grep -q 'ws2_32\.dll' "$err" && ! grep -q 'wineboot' "$err"
result $? "system32/ws2_32.dll put back to Wine's: check exits non-zero, names ws2_32.dll and blames no wineboot"

portres install --no-system
[ $status = 0 ] && cmp -s "$sys32/ws2_32.dll" "$top/dlls/ws2_32/ws2_32.dll" &&
    cmp -s "$backup/ws2_32.dll" "$orig/ws2_32.dll"
result $? "install again repairs system32/ws2_32.dll (and keeps Wine's file in the backup)"

portres check
[ $status = 0 ]
result $? "check after the repair: exit status 0"

# ---------------------------------------------------------------------------
# 5. a prefix update

# as a user runs it, without our WINEDLLPATH
(unset WINEDLLPATH; run_wine wineboot -u; exit $status)
status=$?
flush_registry
[ $status = 0 ]
result $? "wine wineboot -u updates the prefix"

# What wineboot -u does to our files depends on Wine: Wine 8.0 and 10.0
# rewrite only the files of system32 that carry Wine's builtin or
# placeholder signature, which our proxies do not, so they keep them.
# Whatever it did, check must say so truly, and name each file that is not
# the build's any more.
portres check
if ours_in_system32 && overrides_set; then
    [ $status = 0 ]
    result $? "after wineboot -u, system32 and the overrides are intact: check exits 0"
else
    ok=0
    [ $status != 0 ] || ok=1
    while read -r file; do
        grep -qF "$file" "$err" || ok=1
    done <"$dir/differ"
    [ $ok = 0 ]
    result $? "after wineboot -u changed the prefix (system32 files not ours: $(tr '\n' ' ' <"$dir/differ" | sed 's/ $//')): check exits non-zero and names them"
fi
sed 's/^/    check after wineboot -u: /' "$out" "$err"

portres install --no-system
[ $status = 0 ] && ours_in_system32
result $? "install after wineboot -u: exit status 0, system32 has the build's files"

portres check
[ $status = 0 ]
result $? "check after install after wineboot -u: exit status 0"

portdemo
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "plain wine portdemo.exe after wineboot -u and install: portdemo: success"

# ---------------------------------------------------------------------------
# 6. uninstall

portres uninstall
[ $status = 0 ] && grep -q "uninstalled from prefix $WINEPREFIX" "$out" && [ ! -e "$backup" ]
result $? "portres uninstall: exit status 0, the backup is gone"

status=none
[ ! -e "$WINEPREFIX/portres-install.log" ]
result $? "uninstall leaves no portres-install.log in the prefix"

status=none
ok=0
for file in ws2_32.dll iphlpapi.dll netsh.exe portres.dll; do
    if [ -f "$orig/$file" ]; then
        cmp -s "$sys32/$file" "$orig/$file" || ok=1
    else
        [ ! -e "$sys32/$file" ] || ok=1
    fi
done
[ $ok = 0 ]
result $? "uninstall puts back Wine's system32/ws2_32.dll, iphlpapi.dll and netsh.exe as they were before install, byte for byte"

flush_registry
overrides_gone
result $? "uninstall removes the DllOverrides of ws2_32, iphlpapi and netsh.exe from user.reg"

portres check
[ $status != 0 ] && grep -q 'ws2_32' "$err"
result $? "check after uninstall: exit status non-zero"

# stock Wine's ws2_32 does not know the reservation ioctls: WSAEOPNOTSUPP
portdemo
[ $status != 0 ] && ! grep -q 'portdemo: success' "$out" &&
    grep -q 'SIO_ACQUIRE_PORT_RESERVATION failed, error 10045$' "$out"
result $? "plain wine portdemo.exe after uninstall fails as under stock Wine (WSAEOPNOTSUPP, 10045)"

# ---------------------------------------------------------------------------
# 7. a plain "portres install", as root runs it: the bridge goes into Wine's
# own DLL directory (our Wine's), and a plain wine needs no WINEDLLPATH

portres install
[ $status = 0 ] &&
    cmp -s "$wine_dlldir/x86_64-windows/portres.dll" "$top/dlls/portres/portres.dll" &&
    cmp -s "$wine_dlldir/x86_64-unix/portres.so" "$top/dlls/portres/portres.so"
result $? "portres install: exit status 0, the build's portres.dll and portres.so in Wine's DLL directory"

(unset WINEDLLPATH; portdemo; exit $status)
status=$?
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "plain wine portdemo.exe with the bridge in Wine's DLL directory, no WINEDLLPATH: portdemo: success"

(unset WINEDLLPATH; portres check; exit $status)
status=$?
[ $status = 0 ]
result $? "check with the bridge in Wine's DLL directory: exit status 0"

status=none
! grep -q '^system_file ' "$backup/state"
result $? "install records no file of Wine's DLL directory in the prefix's state: the bridge there is every prefix's"

portres uninstall
[ $status = 0 ] && cmp -s "$wine_dlldir/x86_64-windows/portres.dll" "$top/dlls/portres/portres.dll" &&
    cmp -s "$wine_dlldir/x86_64-unix/portres.so" "$top/dlls/portres/portres.so"
result $? "uninstall leaves the bridge in Wine's DLL directory, which other prefixes use"

# another prefix, made by portres install, still gets reservations through
# the bridge that the first prefix's install put into Wine's directory
first_prefix=$WINEPREFIX
WINEPREFIX=$dir/prefix2
(unset WINEDLLPATH; portres install; exit $status)
status=$?
[ $status = 0 ] && grep -q 'creating the Wine prefix' "$err" && [ -f "$WINEPREFIX/system.reg" ]
result $? "portres install into a second prefix that does not exist yet: makes it, exit status 0"

(unset WINEDLLPATH; portdemo; exit $status)
status=$?
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "plain wine portdemo.exe in the second prefix after the first one's uninstall: portdemo: success"

"$wineserver" -k >/dev/null 2>&1
"$server" -k >/dev/null 2>&1
remove_server_dirs "$WINEPREFIX"
WINEPREFIX=$first_prefix

status=none
host_bridge >"$dir/host.after"
cmp -s "$dir/host.before" "$dir/host.after"
result $? "the installed Wine's own directory $host_dlldir is as before the test"

cleanup
finish
