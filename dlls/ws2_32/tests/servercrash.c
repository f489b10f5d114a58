/*
 * A Windows program's reservation across a crash of the reservation server
 *
 * Not a conformance test: Windows keeps reservations in its kernel, and
 * has no server to kill.  tests/run-tests starts this program with a file
 * name, kills portres-server with SIGKILL when the file says the program
 * holds its reservation, and tells it to go on; the program's next calls
 * must behave as if nothing had happened.
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

#define BLOCK 16

/* MinGW's mstcpip.h has the reservation definitions; Wine's has none */
#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION    0x98000064
#define SIO_RELEASE_PORT_RESERVATION    0x98000065
#define SIO_ASSOCIATE_PORT_RESERVATION  0x98000066
typedef struct { USHORT StartPort; USHORT NumberOfPorts; } INET_PORT_RANGE;
typedef struct { ULONG64 Token; } INET_PORT_RESERVATION_TOKEN;
#endif

/* INET_PORT_RESERVATION_INSTANCE, whose members MinGW leaves unnamed */
struct port_instance
{
    USHORT  StartPort;       /* network byte order */
    USHORT  NumberOfPorts;
    ULONG   Padding;
    ULONG64 Token;
};

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

/* tell the script what is held, and wait until it has killed the server */
static BOOL wait_for_crash( const char *path, USHORT start, USHORT given )
{
    char tmp[MAX_PATH + 8], go[MAX_PATH + 8];
    FILE *file;
    int i;

    snprintf( tmp, sizeof(tmp), "%s.tmp", path );
    snprintf( go, sizeof(go), "%s.go", path );
    if (!(file = fopen( tmp, "w" ))) return FALSE;
    fprintf( file, "%u %u %u\n", start, BLOCK, given );
    fclose( file );
    if (!MoveFileA( tmp, path )) return FALSE;
    for (i = 0; i < 6000; i++)
    {
        if (GetFileAttributesA( go ) != INVALID_FILE_ATTRIBUTES) return TRUE;
        Sleep( 10 );
    }
    return FALSE;
}

static void test_crash( const char *path )
{
    struct port_instance inst;
    INET_PORT_RANGE range;
    SOCKET s, a, b, c;
    USHORT start, port_a = 0, port_b = 0, other;
    DWORD bytes;
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

    ok( wait_for_crash( path, start, port_a ), "the server was not killed\n" );

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
    ok( argc >= 3, "usage: servercrash_test.exe servercrash FILE\n" );
    if (argc < 3) return;
    ok( !WSAStartup( MAKEWORD(2, 2), &data ), "WSAStartup failed\n" );
    test_crash( argv[2] );
    WSACleanup();
}
