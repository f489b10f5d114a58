/*
 * A Windows program's reservation across a crash of the reservation server
 *
 * Not a conformance test: Windows keeps reservations in its kernel, and
 * has no server to kill.  tests/servercrash_test.sh starts this program
 * as "servercrash_test.exe servercrash DIR", DIR being a directory that
 * they share; files in it carry the steps:
 *   held     we write "START COUNT PORT": we hold the block START+COUNT,
 *            and an associated socket bound to PORT
 *   crashed  the script writes "killed OLD NEW" once it has killed the
 *            server OLD and seen the server NEW (another pid) take its
 *            place, anything else when it could not
 *   after    we write "START COUNT PORT" once our calls after the crash
 *            are done, PORT bound by a second associated socket; the
 *            script checks which server answered them
 *   release  the script says go on: we release the block
 * Our next calls must behave as if nothing had happened; a run in which
 * the script killed nothing fails here too.
 *
 * Copyright 2026 The portres authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with this library; if not, write to the Free Software
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301, USA
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

#include "wine/test.h"
#include "steps.h"

#define BLOCK 16

static int token_ioctl( SOCKET s, DWORD code, ULONG64 token )
{
    INET_PORT_RESERVATION_TOKEN in;
    DWORD bytes;

    in.Token = token;
    WSASetLastError( 0xdeadbeef );
    return WSAIoctl( s, code, &in, sizeof(in), NULL, 0, &bytes, NULL, NULL ) ? WSAGetLastError() : 0;
}

/* 0 or the WSA error; the port bound in *got */
static int bind_port( SOCKET s, USHORT port, USHORT *got )
{
    struct sockaddr_in addr;
    int len = sizeof(addr);

    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_port = htons( port );
    WSASetLastError( 0xdeadbeef );
    if (bind( s, (struct sockaddr *)&addr, sizeof(addr) )) return WSAGetLastError();
    if (got && !getsockname( s, (struct sockaddr *)&addr, &len )) *got = ntohs( addr.sin_port );
    return 0;
}

/* write "START COUNT PORT" to DIR\name */
static BOOL tell_script( const char *dir, const char *name, USHORT start, USHORT port )
{
    char line[64];

    snprintf( line, sizeof(line), "%u %u %u", start, BLOCK, port );
    return step_tell( dir, name, line );
}

static void test_crash( const char *dir )
{
    struct port_instance inst;
    INET_PORT_RANGE range;
    SOCKET s, a, b, c;
    USHORT start, port_a = 0, port_b = 0, other;
    unsigned long old_pid = 0, new_pid = 0;
    char word[256];
    DWORD bytes;
    BOOL killed;
    int ret;

    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    a = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    b = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    c = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    ok( s != INVALID_SOCKET && a != INVALID_SOCKET && b != INVALID_SOCKET && c != INVALID_SOCKET,
        "socket failed, error %d\n", WSAGetLastError() );

    /* a wildcard block, and a socket associated with it that binds in it */
    range.StartPort = 0;
    range.NumberOfPorts = BLOCK;
    memset( &inst, 0, sizeof(inst) );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL );
    ok( !ret, "acquire failed, error %d\n", WSAGetLastError() );
    if (ret) return;
    start = ntohs( inst.StartPort );
    ok( !token_ioctl( a, SIO_ASSOCIATE_PORT_RESERVATION, inst.Token ), "associate failed\n" );
    ok( !bind_port( a, 0, &port_a ), "bind of the associated socket failed\n" );
    ok( port_a >= start && port_a < start + BLOCK, "associated socket got port %u, the block is %u+%u\n",
        port_a, start, BLOCK );

    ok( tell_script( dir, "held", start, port_a ), "cannot write %s\\held, error %lu\n", dir, GetLastError() );
    ok( step_wait( dir, "crashed", word, sizeof(word) ), "no word from the script about the crash\n" );
    killed = sscanf( word, "killed %lu %lu", &old_pid, &new_pid ) == 2 && old_pid && new_pid &&
             old_pid != new_pid;
    ok( killed, "the script killed no server: \"%s\"\n", word );
    if (killed) trace( "server %lu killed, server %lu in its place\n", old_pid, new_pid );

    /* the token, the association and the reservation are still there */
    ret = token_ioctl( b, SIO_ASSOCIATE_PORT_RESERVATION, inst.Token );
    ok( !ret, "associate after the crash failed, error %d\n", ret );
    ret = bind_port( b, 0, &port_b );
    ok( !ret, "bind of an associated socket after the crash failed, error %d\n", ret );
    ok( port_b >= start && port_b < start + BLOCK && port_b != port_a,
        "associated socket got port %u after the crash, the block is %u+%u, %u taken\n", port_b, start, BLOCK,
        port_a );
    for (other = start; other == port_a || other == port_b; other++);
    ret = bind_port( c, other, NULL );
    ok( ret == WSAEACCES, "explicit bind into the block after the crash: error %d\n", ret );

    /* the script sees which server answered us, and that it lists the block */
    ok( tell_script( dir, "after", start, port_b ), "cannot write %s\\after, error %lu\n", dir, GetLastError() );
    ok( step_wait( dir, "release", word, sizeof(word) ), "no word from the script to release\n" );

    /* and the release works */
    ret = token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, inst.Token );
    ok( !ret, "release after the crash failed, error %d\n", ret );
    ret = bind_port( c, other, NULL );
    ok( !ret, "explicit bind into the released block: error %d\n", ret );

    closesocket( c );
    closesocket( b );
    closesocket( a );
    closesocket( s );
}

START_TEST(servercrash)
{
    WSADATA data;
    char **argv;
    int argc;

    argc = winetest_get_mainargs( &argv );
    ok( argc >= 3, "usage: servercrash_test.exe servercrash DIR\n" );
    if (argc < 3) return;
    ok( !WSAStartup( MAKEWORD(2, 2), &data ), "WSAStartup failed\n" );
    test_crash( argv[2] );
    WSACleanup();
}
