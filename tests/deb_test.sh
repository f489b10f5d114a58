#!/bin/sh
#
# The Debian package as a user meets it, for each release given:
#
#   tests/deb_test.sh [RELEASE...]      (default: bookworm trixie; make check-deb)
#
# For each release, a fresh Debian system made with debootstrap (through
# tests/run-in-debian, in a directory of our own, removed afterwards when
# all passed), with a user and a Wine prefix of the user's made by
# "wineboot -i"; then, inside it: "apt install ./portres_*.deb" (the one
# that tools/make-deb left in deb/), "portres install" in the prefix,
# "portres check", a plain "wine portdemo.exe" (a runtime reservation), a
# persistent reservation made with "portres add" that a plain "wine netsh"
# lists, "portres uninstall" (the prefix's system32 has Wine's files again,
# byte for byte), "apt purge portres", and last the file system compared
# with the one before the install: nothing may be left or changed outside
# the prefix, except what apt and dpkg keep of their own work (their logs,
# caches and status).  The Wine parts run in a network namespace with
# loopback only.  Prints PASS and FAIL lines and "RESULT passed=N failed=N
# skipped=N" last, and exits with status 1 when a check failed (so does
# make check-deb).  Needs root (debootstrap, chroot, mounts).
#
# tests/deb_test.sh --inside DIR is the part that runs inside the system:
# DIR holds the package and portdemo.exe.
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

passed=0
failed=0
skipped=0

result()
{
    if [ "$1" = 0 ]; then
        echo "PASS $2"
        passed=$((passed + 1))
    else
        echo "FAIL $2"
        failed=$((failed + 1))
        [ -z "$3" ] || [ ! -f "$3" ] || sed 's/^/    /' "$3" | tail -n 30
    fi
}

# ---------------------------------------------------------------------------
# inside the fresh system, as root

# Everything of the file system but the prefix, the test's own files and
# what apt and dpkg keep of their own work: "TYPE MODE PATH" for each
# entry, with the checksum of each regular file.
snapshot()
{
    find / -xdev \( -path /check-deb -o -path /build -o -path /home/user/prefix \
                    -o -path /var/log -o -path /var/cache/apt -o -path /var/cache/debconf \
                    -o -path /var/cache/ldconfig -o -path /var/lib/apt -o -path /var/lib/dpkg \) -prune \
         -o -printf '%y %m %p\n' | sort >"$1"
    find / -xdev \( -path /check-deb -o -path /build -o -path /home/user/prefix \
                    -o -path /var/log -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg \
                    -o -path /etc/ld.so.cache \) -prune \
         -o -type f -print0 | sort -z | xargs -0 md5sum >>"$1"
}

# runs a command as the user, in the prefix, with its output in $out and $err
as_user()
{
    setpriv --reuid=user --regid=user --init-groups env -i HOME=/home/user USER=user LOGNAME=user \
        PATH=/usr/local/bin:/usr/bin:/bin WINEPREFIX=/home/user/prefix WINEDEBUG=-all \
        WINEDLLOVERRIDES='mscoree,mshtml=' "$@" >"$out" 2>"$err" </dev/null
}

# the same in a network namespace with loopback only, for the programs
# that use the network
as_user_net()
{
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
        setpriv --reuid=user --regid=user --init-groups env -i HOME=/home/user USER=user LOGNAME=user \
        PATH=/usr/local/bin:/usr/bin:/bin WINEPREFIX=/home/user/prefix WINEDEBUG=-all \
        WINEDLLOVERRIDES='mscoree,mshtml=' "$@" >"$out" 2>"$err" </dev/null
}

# stops the user's wineserver and portres server
stop_servers()
{
    as_user sh -c 'wineserver -k; portres-server -k' || true
}

inside()
{
    files=$1
    out=$files/out
    err=$files/err
    sys32=/home/user/prefix/drive_c/windows/system32
    deb=$(ls "$files"/portres_*.deb)
    export DEBIAN_FRONTEND=noninteractive

    # the package's dependencies, unversioned: apt picks the release's
    deps=$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g' | tr -s ' ' '\n' | sort -u | tr '\n' ' ')
    { apt-get update -q && apt-get install -y -q --no-install-recommends $deps iproute2 file; } >"$files/apt-deps.log" 2>&1
    result $? "apt-get installs the package's dependencies ($(echo $deps | tr -s ' '))" "$files/apt-deps.log"
    useradd -m user >"$out" 2>&1
    as_user sh -c 'wineboot -i && wineserver -w'
    [ -f "$sys32/ws2_32.dll" ] && [ -f /home/user/prefix/system.reg ]
    result $? "the user makes a Wine prefix with wineboot -i" "$err"
    for file in ws2_32.dll iphlpapi.dll netsh.exe portres.dll; do
        if [ -f "$sys32/$file" ]; then md5sum "$sys32/$file"; else echo "none $sys32/$file"; fi
    done >"$files/system32.before"
    snapshot "$files/fs.before"

    apt install -y -q "$deb" >"$files/apt-install.log" 2>&1
    result $? "apt install ./$(basename "$deb")" "$files/apt-install.log"
    # the snapshot sees what the package brings (else the last comparison
    # would prove nothing)
    snapshot "$files/fs.installed"
    grep -q ' /usr/lib/portres/ws2_32\.dll$' "$files/fs.installed" &&
        grep -q ' /usr/lib/x86_64-linux-gnu/wine/x86_64-unix/portres\.so$' "$files/fs.installed" &&
        ! grep -q '/usr/lib/portres' "$files/fs.before"
    result $? "the file system's snapshot sees the package's files, the proxies and the bridge in Wine's DLL directory" "$files/fs.installed"
    # the 32-bit files: the i686 proxies and netsh.exe, and the i386 bridge
    # where wine32 loads a 32-bit process's builtins and unixlibs from
    for file in /usr/lib/portres/i386/ws2_32.dll /usr/lib/portres/i386/iphlpapi.dll /usr/lib/portres/i386/netsh.exe \
                /usr/lib/i386-linux-gnu/wine/i386-windows/portres.dll /usr/lib/i386-linux-gnu/wine/i386-unix/portres.so; do
        [ -f "$file" ] || echo "missing: $file"
    done >"$files/i386.log"
    # the bridge's unixlib is i386 code: file 5.44 (Debian 12) calls it
    # "Intel 80386", file 5.46 (Debian 13) "Intel i386"
    file -L /usr/lib/portres/i386/portres.so >>"$files/i386.log" 2>&1
    ! grep -q '^missing: ' "$files/i386.log" && grep -Eq ': *ELF 32-bit .*, Intel (80386|i386),' "$files/i386.log"
    result $? "the package holds the 32-bit files: i686 proxies and netsh.exe, the i386 bridge in Wine's 32-bit DLL directory" "$files/i386.log"

    as_user portres install
    status=$?
    [ $status = 0 ] && grep -q 'installed into prefix' "$out"
    result $? "portres install in the user's prefix: exit status 0 (the bridge is in Wine's DLL directory)" "$err"

    as_user portres check
    [ $? = 0 ]
    result $? "portres check: exit status 0" "$err"

    as_user_net wine /check-deb/portdemo.exe
    tr -d '\r' <"$out" >"$out.txt"
    grep -qx 'portdemo: success' "$out.txt"
    result $? "a plain wine portdemo.exe reserves ports: portdemo: success" "$out.txt"

    as_user_net sh -c 'portres add tcp 47000 8 && wine netsh int ipv4 show excludedportrange protocol=tcp'
    tr -d '\r' <"$out" >"$out.txt"
    grep -Eq '^ *47000 +47007 +\*' "$out.txt"
    result $? "portres add tcp 47000 8, and a plain wine netsh lists the reservation" "$out.txt"
    as_user_net portres delete tcp 47000 8
    result $? "portres delete tcp 47000 8" "$err"
    stop_servers

    as_user portres uninstall
    result $? "portres uninstall: exit status 0" "$err"
    for file in ws2_32.dll iphlpapi.dll netsh.exe portres.dll; do
        if [ -f "$sys32/$file" ]; then md5sum "$sys32/$file"; else echo "none $sys32/$file"; fi
    done >"$files/system32.after"
    cmp -s "$files/system32.before" "$files/system32.after" &&
        [ ! -e /home/user/prefix/portres-backup ] && [ ! -e /home/user/prefix/portres-install.log ]
    result $? "uninstall gives system32 back Wine's files, byte for byte, and leaves no backup or log" "$files/system32.after"

    apt purge -y -q portres >"$files/apt-purge.log" 2>&1
    result $? "apt purge portres" "$files/apt-purge.log"
    stop_servers
    snapshot "$files/fs.after"
    diff "$files/fs.before" "$files/fs.after" >"$files/fs.diff"
    result $? "after the purge, the file system outside the prefix is as before the install" "$files/fs.diff"
    echo "RESULT passed=$passed failed=$failed skipped=$skipped"
}

if [ "$1" = --inside ]; then
    inside "$2"
    exit 0
fi

# ---------------------------------------------------------------------------
# outside: a fresh system for each release

top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- bookworm trixie
if [ ! -f "$top/programs/portdemo/portdemo.exe" ]; then
    echo "FAIL programs/portdemo/portdemo.exe is not built: run make"
    echo "RESULT passed=0 failed=1 skipped=0"
    exit 1
fi
base=$(mktemp -d "${PORTRES_DEB_TEST_DIR:-/var/tmp}/portres-check-deb.XXXXXX")
all_passed=0
all_failed=0
all_skipped=0
for release in "$@"; do
    case "$release" in
        here) release=$(. /etc/os-release && echo "$VERSION_CODENAME") ;;
    esac
    case "$release" in
        bookworm) number=12 ;;
        trixie) number=13 ;;
        *) echo "FAIL $release: not a supported release (bookworm, trixie)"; all_failed=$((all_failed + 1)); continue ;;
    esac
    deb=$(ls "$top"/deb/portres_*+deb${number}_amd64.deb 2>/dev/null | tail -n 1)
    if [ -z "$deb" ]; then
        echo "FAIL $release: no deb/portres_*+deb${number}_amd64.deb: run make deb"
        all_failed=$((all_failed + 1))
        continue
    fi
    start=$(date +%s)
    echo "deb_test: $release: a fresh Debian $number system in $base/debian-$release"
    # make the system, then put the package and the example into it
    if ! PORTRES_DEBIAN_CACHE=$base "$top/tests/run-in-debian" --dir check-deb "$release" true >"$base/make-$release.log" 2>&1; then
        tail -n 20 "$base/make-$release.log"
        echo "FAIL $release: debootstrap failed ($base/make-$release.log)"
        all_failed=$((all_failed + 1))
        continue
    fi
    root=$base/debian-$release
    mkdir -p "$root/check-deb"
    cp "$deb" "$top/programs/portdemo/portdemo.exe" "$root/check-deb/"
    PORTRES_DEBIAN_CACHE=$base "$top/tests/run-in-debian" --dir check-deb "$release" \
        sh -c 'tests/deb_test.sh --inside /check-deb' >"$base/test-$release.log" 2>&1
    sed "s/^\(PASS\|FAIL\) /\1 $release: /" "$base/test-$release.log" | grep -v '^RESULT'
    counts=$(sed -n 's/^RESULT passed=\([0-9]*\) failed=\([0-9]*\) skipped=\([0-9]*\)$/\1 \2 \3/p' "$base/test-$release.log")
    if [ -z "$counts" ]; then
        echo "FAIL $release: the test inside the system did not finish ($base/test-$release.log)"
        counts="0 1 0"
    fi
    read -r p f s <<EOF
$counts
EOF
    all_passed=$((all_passed + p)); all_failed=$((all_failed + f)); all_skipped=$((all_skipped + s))
    echo "deb_test: $release: $(($(date +%s) - start)) s"
done
if [ $all_failed = 0 ]; then
    rm -rf "$base"
else
    echo "deb_test: the systems and their logs stay in $base"
fi
echo "RESULT passed=$all_passed failed=$all_failed skipped=$all_skipped"
[ $all_failed = 0 ]
