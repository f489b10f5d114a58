/*
 * A bind into another prefix's runtime reservation
 *
 * Not a conformance test: Windows has one table of reservations for the
 * host, and refuses with WSAEACCES a bind into a runtime reservation that
 * the binding process does not own.  Each Wine prefix has a reservation
 * server of its own, so tests/prefixes_test.sh runs this program twice,
 * in two prefixes that share the directory DIR:
 *   prefixes_test.exe prefixes hold DIR
 *            acquires a TCP and a UDP block, writes "TCP UDP" (their
 *            first ports) to DIR\held, waits for DIR\release, releases
 *            both and writes DIR\released
 *   prefixes_test.exe prefixes bind DIR
 *            in the other prefix: binds into both blocks, which must fail
 *            as on Windows, writes DIR\release, waits for DIR\released,
 *            and binds the same ports again, which must now succeed
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
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

#include "wine/test.h"
#include "steps.h"

#define BLOCK 4

static const char *dir;

/* a wildcard block of a socket of the type; its first port, 0 on failure */
static USHORT acquire( SOCKET s, ULONG64 *token )
{
    struct port_instance inst;
    INET_PORT_RANGE range;
    DWORD bytes;

    range.StartPort = 0;
    range.NumberOfPorts = BLOCK;
    memset( &inst, 0, sizeof(inst) );
    if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL ))
        return 0;
    *token = inst.Token;
    return ntohs( inst.StartPort );
}

static int release( SOCKET s, ULONG64 token )
{
    INET_PORT_RESERVATION_TOKEN in;
    DWORD bytes;

    in.Token = token;
    return WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &in, sizeof(in), NULL, 0, &bytes, NULL, NULL ) ?
           WSAGetLastError() : 0;
}

/* an explicit bind of a new socket of the type and family to a port: 0 or the WSA error */
static int bind_new( int family, int type, USHORT port, BOOL reuse )
{
    struct sockaddr_storage addr;
    SOCKET s = socket( family, type, 0 );
    int ret = 0, len;

    if (s == INVALID_SOCKET) return WSAGetLastError();
    if (reuse) setsockopt( s, SOL_SOCKET, SO_REUSEADDR, (const char *)&reuse, sizeof(reuse) );
    memset( &addr, 0, sizeof(addr) );
    if (family == AF_INET)
    {
        ((struct sockaddr_in *)&addr)->sin_family = AF_INET;
        ((struct sockaddr_in *)&addr)->sin_port = htons( port );
        len = sizeof(struct sockaddr_in);
    }
    else
    {
        ((struct sockaddr_in6 *)&addr)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons( port );
        len = sizeof(struct sockaddr_in6);
    }
    WSASetLastError( 0xdeadbeef );
    if (bind( s, (struct sockaddr *)&addr, len )) ret = WSAGetLastError();
    closesocket( s );
    return ret;
}

static void test_hold(void)
{
    SOCKET tcp = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP ), udp = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
    ULONG64 tcp_token = 0, udp_token = 0;
    USHORT tcp_start, udp_start;
    char line[64];

    ok( tcp != INVALID_SOCKET && udp != INVALID_SOCKET, "socket failed, error %d\n", WSAGetLastError() );
    tcp_start = acquire( tcp, &tcp_token );
    ok( tcp_start != 0, "TCP acquire failed, error %d\n", WSAGetLastError() );
    udp_start = acquire( udp, &udp_token );
    ok( udp_start != 0, "UDP acquire failed, error %d\n", WSAGetLastError() );
    if (!tcp_start || !udp_start) return;
    snprintf( line, sizeof(line), "%u %u", tcp_start, udp_start );
    ok( step_tell( dir, "held", line ), "cannot write %s\\held, error %lu\n", dir, GetLastError() );
    ok( step_wait( dir, "release", line, sizeof(line) ), "no word from the other prefix\n" );
    ok( !release( tcp, tcp_token ), "TCP release failed\n" );
    ok( !release( udp, udp_token ), "UDP release failed\n" );
    ok( step_tell( dir, "released", "released" ), "cannot write %s\\released, error %lu\n", dir, GetLastError() );
    closesocket( udp );
    closesocket( tcp );
}

static void test_bind(void)
{
    unsigned int tcp_start = 0, udp_start = 0;
    char line[64];
    int ret;

    ok( step_wait( dir, "held", line, sizeof(line) ), "no word from the holding prefix\n" );
    ok( sscanf( line, "%u %u", &tcp_start, &udp_start ) == 2 && tcp_start && udp_start,
        "the holding prefix wrote \"%s\"\n", line );
    if (!tcp_start || !udp_start) return;

    /* into the other prefix's blocks: refused as Windows refuses them */
    ret = bind_new( AF_INET, SOCK_STREAM, tcp_start, FALSE );
    ok( ret == WSAEACCES, "TCP bind into the other prefix's block %u: error %d\n", tcp_start, ret );
    ret = bind_new( AF_INET, SOCK_STREAM, tcp_start + BLOCK - 1, TRUE );
    ok( ret == WSAEACCES, "TCP bind with SO_REUSEADDR to the block's last port %u: error %d\n",
        tcp_start + BLOCK - 1, ret );
    ret = bind_new( AF_INET6, SOCK_STREAM, tcp_start + 1, FALSE );
    ok( ret == WSAEACCES, "TCP over IPv6 bind into the block, port %u: error %d\n", tcp_start + 1, ret );
    ret = bind_new( AF_INET, SOCK_DGRAM, udp_start + 2, FALSE );
    ok( ret == WSAEACCES, "UDP bind into the other prefix's block %u: error %d\n", udp_start + 2, ret );
    /* and an automatic bind of either protocol still gets a port */
    ret = bind_new( AF_INET, SOCK_STREAM, 0, FALSE );
    ok( !ret, "TCP bind to port 0: error %d\n", ret );
    ret = bind_new( AF_INET, SOCK_DGRAM, 0, FALSE );
    ok( !ret, "UDP bind to port 0: error %d\n", ret );

    /* once the other prefix has released them, the same ports bind */
    ok( step_tell( dir, "release", "release" ), "cannot write %s\\release, error %lu\n", dir, GetLastError() );
    ok( step_wait( dir, "released", line, sizeof(line) ), "no word from the holding prefix after its release\n" );
    ret = bind_new( AF_INET, SOCK_STREAM, tcp_start, FALSE );
    ok( !ret, "TCP bind to %u after the other prefix's release: error %d\n", tcp_start, ret );
    ret = bind_new( AF_INET, SOCK_DGRAM, udp_start + 2, FALSE );
    ok( !ret, "UDP bind to %u after the other prefix's release: error %d\n", udp_start + 2, ret );
}

START_TEST(prefixes)
{
    WSADATA data;
    char **argv;
    int argc;

    argc = winetest_get_mainargs( &argv );
    ok( argc >= 4, "usage: prefixes_test.exe prefixes hold|bind DIR\n" );
    if (argc < 4) return;
    dir = argv[3];
    ok( !WSAStartup( MAKEWORD(2, 2), &data ), "WSAStartup failed\n" );
    if (!strcmp( argv[2], "hold" )) test_hold();
    else test_bind();
    WSACleanup();
}
