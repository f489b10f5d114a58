/*
 * resbench: the cost of the reservation ioctls as a Windows program sees
 * them: WSAIoctl(SIO_ACQUIRE_PORT_RESERVATION) of one wildcard port and
 * WSAIoctl(SIO_RELEASE_PORT_RESERVATION) of its token, through the proxy
 * ws2_32, the bridge and the server, in alternating blocks, and releases
 * of a token nobody holds (the road without the work); then acquires and
 * releases again on a UDP socket, whose descriptor Wine caches in the
 * process (a TCP socket's only once it is connected), as msquic's are
 * (the road without the round trip to the wineserver that a socket's
 * identity costs otherwise).  It prints the
 * median microseconds per ioctl of each kind; run-bench sets them against
 * the floors that srvbench measures natively around it, and never fails
 * because of a ratio.
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
 * Foundation, Inc., 51 Franklin St, Fifth Floor, Boston, MA 02110-1301, USA
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

#include "benchioctl.h"

#define DEFAULT_OPS     500
#define DEFAULT_ROUNDS  21
#define MAX_OPS         10000
#define MAX_ROUNDS      1001

static double ticks_per_us;
static unsigned int ops = DEFAULT_OPS;
static unsigned int rounds = DEFAULT_ROUNDS;
static ULONG64 tokens[MAX_OPS];

static void fatal( const char *format, ... ) __attribute__((format(printf, 1, 2), noreturn));

static void fatal( const char *format, ... )
{
    va_list args;

    printf( "resbench: " );
    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    fflush( stdout );
    exit( 1 );
}

static double now_us( void )
{
    LARGE_INTEGER now;

    QueryPerformanceCounter( &now );
    return (double)now.QuadPart / ticks_per_us;
}

/* ops wildcard one-port acquires; microseconds per ioctl */
static double time_acquires( SOCKET s )
{
    struct bench_port_instance instance;
    struct bench_port_range range;
    unsigned int i;
    double start = now_us();
    DWORD size;

    for (i = 0; i < ops; i++)
    {
        range.start = 0;
        range.count = 1;
        if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &instance, sizeof(instance),
                      &size, NULL, NULL ))
            fatal( "SIO_ACQUIRE_PORT_RESERVATION failed, error %d\n", WSAGetLastError() );
        tokens[i] = instance.token;
    }
    return (now_us() - start) / ops;
}

/* the releases of what time_acquires got; microseconds per ioctl */
static double time_releases( SOCKET s )
{
    unsigned int i;
    double start = now_us();
    DWORD size;

    for (i = 0; i < ops; i++)
        if (WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &tokens[i], sizeof(tokens[i]), NULL, 0, &size, NULL, NULL ))
            fatal( "SIO_RELEASE_PORT_RESERVATION failed, error %d\n", WSAGetLastError() );
    return (now_us() - start) / ops;
}

/* releases of a token nobody holds: the whole road of a request (proxy,
 * bridge, server) with nothing to do at its end; microseconds per ioctl */
static double time_unknown_releases( SOCKET s )
{
    ULONG64 token = 0x5eed;
    unsigned int i;
    double start = now_us();
    DWORD size;

    for (i = 0; i < ops; i++)
        if (!WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &size, NULL, NULL ))
            fatal( "SIO_RELEASE_PORT_RESERVATION of an unknown token succeeded\n" );
    return (now_us() - start) / ops;
}

static int compare_doubles( const void *a, const void *b )
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median( double *values, unsigned int count )
{
    qsort( values, count, sizeof(*values), compare_doubles );
    if (count % 2) return values[count / 2];
    return (values[count / 2 - 1] + values[count / 2]) / 2;
}

int main( int argc, char **argv )
{
    static double acquire_us[MAX_ROUNDS], release_us[MAX_ROUNDS], unknown_us[MAX_ROUNDS];
    static double acquire_udp_us[MAX_ROUNDS], release_udp_us[MAX_ROUNDS];
    LARGE_INTEGER frequency;
    unsigned int r;
    WSADATA data;
    SOCKET s, u;
    int ret;

    if (argc > 1) ops = atoi( argv[1] );
    if (argc > 2) rounds = atoi( argv[2] );
    if (argc > 3 || !ops || ops > MAX_OPS || !rounds || rounds > MAX_ROUNDS)
    {
        printf( "usage: resbench [OPS-PER-BLOCK (1-%u) [ROUNDS (1-%u)]]\n", MAX_OPS, MAX_ROUNDS );
        return 2;
    }
    QueryPerformanceFrequency( &frequency );
    ticks_per_us = (double)frequency.QuadPart / 1e6;
    if ((ret = WSAStartup( MAKEWORD(2, 2), &data ))) fatal( "WSAStartup failed, error %d\n", ret );
    if ((s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )) == INVALID_SOCKET)
        fatal( "socket failed, error %d\n", WSAGetLastError() );
    if ((u = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP )) == INVALID_SOCKET)
        fatal( "socket failed, error %d\n", WSAGetLastError() );

    time_acquires( s );  /* warm-up: the connection to the server, the heap */
    time_releases( s );
    time_acquires( u );
    time_releases( u );
    for (r = 0; r < rounds; r++)
    {
        acquire_us[r] = time_acquires( s );
        release_us[r] = time_releases( s );
        unknown_us[r] = time_unknown_releases( s );
        acquire_udp_us[r] = time_acquires( u );
        release_udp_us[r] = time_releases( u );
    }
    printf( "acquire %.3f\n", median( acquire_us, rounds ) );
    printf( "release %.3f\n", median( release_us, rounds ) );
    printf( "unknown %.3f\n", median( unknown_us, rounds ) );
    printf( "acquire-udp %.3f\n", median( acquire_udp_us, rounds ) );
    printf( "release-udp %.3f\n", median( release_udp_us, rounds ) );
    fflush( stdout );
    closesocket( u );
    closesocket( s );
    WSACleanup();
    return 0;
}
