/*
 * portdemo: an example Windows console program that uses a runtime port
 * reservation the way the Windows documentation describes it.  It reserves
 * a block of TCP ports, lets a second socket take a port from that block,
 * and gives the block back.  Run under Wine it shows whether the port
 * reservation ioctls of ws2_32 work.
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

#include <stdio.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION    0x98000064
#define SIO_RELEASE_PORT_RESERVATION    0x98000065
#define SIO_ASSOCIATE_PORT_RESERVATION  0x98000066
#endif

#define BLOCK_SIZE 8

/* The request, the answer and the token argument of the three ioctls, with
 * the layouts of INET_PORT_RANGE, INET_PORT_RESERVATION_INSTANCE and
 * INET_PORT_RESERVATION_TOKEN.  Own types are used because the SDK's
 * instance structure has anonymous members in C. */
struct port_range
{
    USHORT start;           /* network byte order */
    USHORT count;
};

struct port_instance
{
    USHORT start;           /* network byte order */
    USHORT count;
    ULONG padding;
    ULONG64 token;
};

struct port_token
{
    ULONG64 token;
};

static int fail( const char *what )
{
    printf( "portdemo: %s failed, error %d\n", what, WSAGetLastError() );
    return 1;
}

static int run( SOCKET *reserver, SOCKET *user )
{
    struct port_instance instance;
    struct port_range range;
    struct port_token token;
    struct sockaddr_in addr;
    unsigned int first, last, port;
    int len;
    DWORD size;

    *reserver = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    if (*reserver == INVALID_SOCKET) return fail( "socket" );

    /* StartPort 0 lets the system choose where the block lies */
    range.start = 0;
    range.count = BLOCK_SIZE;
    memset( &instance, 0, sizeof(instance) );
    if (WSAIoctl( *reserver, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &instance,
                  sizeof(instance), &size, NULL, NULL ))
        return fail( "SIO_ACQUIRE_PORT_RESERVATION" );

    first = ntohs( instance.start );
    last = first + instance.count - 1;
    printf( "reserved tcp ports %u-%u, token 0x%08lx%08lx\n", first, last,
            (unsigned long)(instance.token >> 32), (unsigned long)(instance.token & 0xffffffff) );

    /* a socket associated with the reservation gets its port from it */
    *user = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    if (*user == INVALID_SOCKET) return fail( "socket" );
    token.token = instance.token;
    if (WSAIoctl( *user, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &size, NULL, NULL ))
        return fail( "SIO_ASSOCIATE_PORT_RESERVATION" );

    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    addr.sin_port = 0;
    if (bind( *user, (struct sockaddr *)&addr, sizeof(addr) )) return fail( "bind" );

    len = sizeof(addr);
    if (getsockname( *user, (struct sockaddr *)&addr, &len )) return fail( "getsockname" );
    port = ntohs( addr.sin_port );
    printf( "associated socket bound to 127.0.0.1:%u, %s the reserved block\n", port,
            port >= first && port <= last ? "inside" : "outside" );

    closesocket( *user );
    *user = INVALID_SOCKET;

    if (WSAIoctl( *reserver, SIO_RELEASE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &size, NULL, NULL ))
        return fail( "SIO_RELEASE_PORT_RESERVATION" );
    printf( "released the reservation\n" );

    if (port < first || port > last)
    {
        printf( "portdemo: the bound port is not in the reserved block\n" );
        return 1;
    }
    return 0;
}

int main( void )
{
    SOCKET reserver = INVALID_SOCKET, user = INVALID_SOCKET;
    WSADATA data;
    int ret;

    ret = WSAStartup( MAKEWORD(2, 2), &data );
    if (ret)
    {
        printf( "portdemo: WSAStartup failed, error %d\n", ret );
        return 1;
    }

    ret = run( &reserver, &user );
    if (user != INVALID_SOCKET) closesocket( user );
    if (reserver != INVALID_SOCKET) closesocket( reserver );
    WSACleanup();

    if (!ret) printf( "portdemo: success\n" );
    return ret;
}
