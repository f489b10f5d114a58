#!/bin/sh
#
# "portres install", "check" and "uninstall" for 32-bit programs, as root
# runs them on a Wine with a 32-bit side (wine32): install puts the i686
# proxies, netsh.exe and the bridge's placeholder into the prefix's
# syswow64, and the i386 bridge (portres.dll, portres.so) into the DLL
# directory of Wine's 32-bit side, which it asks Wine for; then a plain
# "wine" (Debian's: the 32-bit loader, no WINEDLLPATH) runs the 32-bit
# portdemo.exe with working reservations, and the 64-bit one too; check
# sees all of it and notices a missing i386 bridge, which install puts
# back; uninstall leaves system32 and syswow64 as Wine made them, byte for
# byte, and the 32-bit portdemo fails again as under stock Wine.  The test
# runs a Wine of its own (tools/wine-view), so that Wine's DLL directories
# are its own, not the system's.  Part of the 32-bit suite
# (tests/run-tests --i386): needs wine32 and a kernel that runs i386 code
# (natively or through qemu-user).  Prints PASS and FAIL lines and
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
# Usage: tests/install_i386_test.sh   (the build tree is found from the
# script's place; WINEDEBUG and PORTRES_SERVER are respected, WINE,
# WINESERVER and WINEPREFIX are our own)

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/prefixlib.sh"
require_built portres programs/portres/portres-install dlls/ws2_32/ws2_32.dll dlls/portres/portres.dll \
    dlls/portres/portres.so dlls/ws2_32/i386/ws2_32.dll dlls/iphlpapi/i386/iphlpapi.dll \
    dlls/portres/i386/portres.dll dlls/portres/i386/portres.so programs/netsh/i386/netsh.exe \
    programs/portdemo/portdemo.exe programs/portdemo/i386/portdemo.exe

dir=$(mktemp -d /tmp/portres-install32-XXXXXX)
own_wine "$dir/wine"
# a plain "wine" as Debian's runs it once wine32 is installed: the 32-bit
# loader, for programs of either width
if [ -x "$(dirname "$WINE")/wine" ]; then
    WINE=$(dirname "$WINE")/wine
    WINELOADER=$WINE
fi
wineserver=$(dirname "$WINE")/wineserver
WINESERVER=$wineserver
WINEPREFIX=$dir/prefix
WINEDEBUG=${WINEDEBUG:-fixme-all}
server=${PORTRES_SERVER:-$top/server/portres-server}
# the bridge finds the build's server; nothing finds the bridge but Wine's
# own directories
PORTRES_SERVER=$server
unset WINEDLLPATH
export WINE WINELOADER WINESERVER WINEPREFIX WINEDEBUG PORTRES_SERVER
sys32=$WINEPREFIX/drive_c/windows/system32
wow=$WINEPREFIX/drive_c/windows/syswow64
backup=$WINEPREFIX/portres-backup
out=$dir/out
err=$dir/err
cd "$dir" || exit 1
trap 'cleanup; exit 1' HUP INT TERM

# the DLL directories of our Wine: the 64-bit one, and its 32-bit side
# (wine-view mirrors the installed Wine's)
dlldir64=$(dirname "$(dirname "$(ls "$dir"/wine/usr/lib/*/wine/x86_64-unix/ntdll.so | head -n 1)")")
dlldir32=$(dirname "$(dirname "$(ls "$dir"/wine/usr/lib/*/wine/i386-unix/ntdll.so 2>/dev/null | head -n 1)")")

# the files install puts into system32 and syswow64: "FILE OURS"
OUR_FILES="system32/ws2_32.dll $top/dlls/ws2_32/ws2_32.dll
system32/iphlpapi.dll $top/dlls/iphlpapi/iphlpapi.dll
system32/netsh.exe $top/programs/netsh/netsh.exe
system32/portres.dll $top/dlls/portres/portres.dll
syswow64/ws2_32.dll $top/dlls/ws2_32/i386/ws2_32.dll
syswow64/iphlpapi.dll $top/dlls/iphlpapi/i386/iphlpapi.dll
syswow64/netsh.exe $top/programs/netsh/i386/netsh.exe
syswow64/portres.dll $top/dlls/portres/i386/portres.dll"
# the bridge in Wine's directories: "FILE OURS"
BRIDGE_FILES="$dlldir64/x86_64-windows/portres.dll $top/dlls/portres/portres.dll
$dlldir64/x86_64-unix/portres.so $top/dlls/portres/portres.so
$dlldir32/i386-windows/portres.dll $top/dlls/portres/i386/portres.dll
$dlldir32/i386-unix/portres.so $top/dlls/portres/i386/portres.so"

# portres, run_wine, flush_registry and all_ours are prefixlib's

# "FILE CHECKSUM" or "FILE none" of the files install replaces
prefix_files()
{
    echo "$OUR_FILES" | while read -r file ours; do
        if [ -f "$WINEPREFIX/drive_c/windows/$file" ]; then
            echo "$file $(cksum <"$WINEPREFIX/drive_c/windows/$file")"
        else
            echo "$file none"
        fi
    done
}


# ---------------------------------------------------------------------------
# a stock prefix

status=none
[ -n "$dlldir32" ] && [ -f "$dlldir32/i386-windows/ntdll.dll" ] &&
    [ ! -e "$dlldir32/i386-unix/portres.so" ] && [ ! -e "$dlldir64/x86_64-unix/portres.so" ]
result $? "our Wine has a 32-bit side (${dlldir32:-none}) and no bridge in either DLL directory"

run_wine wineboot -i
flush_registry
[ $status = 0 ] && [ -f "$wow/ws2_32.dll" ] && [ -f "$sys32/ws2_32.dll" ]
result $? "wine wineboot -i makes a 64-bit prefix with a syswow64"
prefix_files >"$dir/files.before"

run_wine "$top/programs/portdemo/i386/portdemo.exe"
[ $status != 0 ] && grep -q 'SIO_ACQUIRE_PORT_RESERVATION failed, error 10045$' "$out"
result $? "before install, a plain wine runs the 32-bit portdemo.exe as stock Wine does (WSAEOPNOTSUPP, 10045)"

# ---------------------------------------------------------------------------
# install, as root runs it: both bridges into Wine's directories

portres install
[ $status = 0 ] && grep -q "installed into prefix $WINEPREFIX" "$out"
result $? "portres install: exit status 0"

status=none
all_ours "$OUR_FILES" "$WINEPREFIX/drive_c/windows/"
result $? "system32 and syswow64 have the build's 64-bit and i686 files (not: $(tr '\n' ' ' <"$dir/differ"))"

all_ours "$BRIDGE_FILES" ""
result $? "the 64-bit bridge is in $dlldir64, the i386 one in $dlldir32, Wine's 32-bit side (not: $(tr '\n' ' ' <"$dir/differ"))"

grep -qxF "winedlldir32 $dlldir32" "$backup/state" && grep -qxF "winedlldir $dlldir64" "$backup/state"
result $? "install asked Wine for both DLL directories (state: $(grep '^winedlldir' "$backup/state" | tr '\n' ' '))"

portres check
[ $status = 0 ] && grep -q "prefix $WINEPREFIX is installed" "$out"
result $? "portres check: exit status 0, installed"

run_wine "$top/programs/portdemo/i386/portdemo.exe"
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "a plain wine runs the 32-bit portdemo.exe with reservations: portdemo: success"

run_wine "$top/programs/portdemo/portdemo.exe"
[ $status = 0 ] && grep -qx 'portdemo: success' "$out"
result $? "and the 64-bit portdemo.exe: portdemo: success"

# ---------------------------------------------------------------------------
# check notices a missing i386 bridge, install puts it back

rm -f "$dlldir32/i386-unix/portres.so"
portres check
[ $status = 1 ] && grep -q 'i386-unix/portres\.so' "$err"
result $? "the i386 bridge's portres.so gone from Wine's 32-bit directory: check exits 1 and names it"

portres install
[ $status = 0 ] && cmp -s "$dlldir32/i386-unix/portres.so" "$top/dlls/portres/i386/portres.so"
result $? "install puts it back"

portres check
[ $status = 0 ]
result $? "check after the repair: exit status 0"

# ---------------------------------------------------------------------------
# uninstall

"$wineserver" -k >/dev/null 2>&1
"$server" -k >/dev/null 2>&1
portres uninstall
[ $status = 0 ] && grep -q "uninstalled from prefix $WINEPREFIX" "$out" && [ ! -e "$backup" ]
result $? "portres uninstall: exit status 0, the backup is gone"

status=none
prefix_files >"$dir/files.after"
diff "$dir/files.before" "$dir/files.after" >"$out"
result $? "system32 and syswow64 are as Wine made them, byte for byte"

flush_registry
! awk '/^\[/ { s = (index(tolower($0), "[software\\\\wine\\\\dlloverrides]") == 1); next } s' "$WINEPREFIX/user.reg" |
    grep -qiE '^"(ws2_32|iphlpapi|netsh\.exe)"='
result $? "the DllOverrides of ws2_32, iphlpapi and netsh.exe are gone from user.reg"

run_wine "$top/programs/portdemo/i386/portdemo.exe"
[ $status != 0 ] && grep -q 'SIO_ACQUIRE_PORT_RESERVATION failed, error 10045$' "$out"
result $? "after uninstall, the 32-bit portdemo.exe fails as under stock Wine (WSAEOPNOTSUPP, 10045)"

cleanup
finish
