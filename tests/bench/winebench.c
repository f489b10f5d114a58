/*
 * winebench: what the port reservation ioctls, a port-0 bind and a lookup
 * of a persistent reservation cost a Windows program in whatever Wine runs
 * it, against FIONBIO, a socket ioctl that Wine sends to its server,
 * measured in the same process
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

/*
 * Prints one line per measure, the median over the rounds of the mean
 * microseconds per operation of a block:
 *   fionbio  WSAIoctl(FIONBIO)
 *   acquire  SIO_ACQUIRE_PORT_RESERVATION of a wildcard block of 4 ports
 *   release  SIO_RELEASE_PORT_RESERVATION of one of them
 *   bind     socket, bind to port 0, closesocket (TCP, IPv4)
 * A stock Wine has no reservations: there acquire and release print
 * "unsupported" and only fionbio and bind are measured.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

#include "benchioctl.h"

#define OPS         200
#define ROUNDS      15

static double ticks_per_us;
static ULONG64 tokens[OPS];

static double now_us( void )
{
    LARGE_INTEGER now;

    QueryPerformanceCounter( &now );
    return (double)now.QuadPart / ticks_per_us;
}

static int compare_doubles( const void *a, const void *b )
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median( double *values )
{
    qsort( values, ROUNDS, sizeof(*values), compare_doubles );
    return values[ROUNDS / 2];
}

static double time_fionbio( SOCKET s )
{
    double start = now_us();
    u_long arg;
    DWORD size;
    int i;

    for (i = 0; i < OPS; i++)
    {
        arg = i & 1;
        if (WSAIoctl( s, FIONBIO, &arg, sizeof(arg), NULL, 0, &size, NULL, NULL )) return -1;
    }
    return (now_us() - start) / OPS;
}

/* OPS acquires; 0 when the first one fails */
static double time_acquires( SOCKET s )
{
    struct bench_port_instance instance;
    struct bench_port_range range;
    double start = now_us();
    DWORD size;
    int i;

    for (i = 0; i < OPS; i++)
    {
        range.start = 0;
        range.count = 4;
        if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &instance, sizeof(instance),
                      &size, NULL, NULL ))
            return -1;
        tokens[i] = instance.token;
    }
    return (now_us() - start) / OPS;
}

static double time_releases( SOCKET s )
{
    double start = now_us();
    DWORD size;
    int i;

    for (i = 0; i < OPS; i++)
        if (WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &tokens[i], sizeof(tokens[i]), NULL, 0, &size, NULL, NULL ))
            return -1;
    return (now_us() - start) / OPS;
}

static double time_binds( void )
{
    struct sockaddr_in addr;
    double start = now_us();
    SOCKET s;
    int i;

    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    for (i = 0; i < OPS; i++)
    {
        if ((s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )) == INVALID_SOCKET) return -1;
        if (bind( s, (struct sockaddr *)&addr, sizeof(addr) )) return -1;
        closesocket( s );
    }
    return (now_us() - start) / OPS;
}

/* OPS lookups of a persistent reservation that does not exist: the road of
 * every persistent reservation call (in Wine, NSI to nsiproxy.sys and its
 * request to the server) with nothing in the registry; -1 without the
 * function */
static double time_lookups( ULONG (WINAPI *lookup)( USHORT, USHORT, ULONG64 * ) )
{
    double start = now_us();
    ULONG64 token;
    int i;

    if (!lookup) return -1;
    for (i = 0; i < OPS; i++)
        if (lookup( htons( 47990 ), 3, &token ) != ERROR_NOT_FOUND) return -1;
    return (now_us() - start) / OPS;
}

static void report( const char *name, double *values )
{
    int i;

    for (i = 0; i < ROUNDS; i++)
    {
        if (values[i] < 0)
        {
            printf( "%s unsupported\n", name );
            return;
        }
    }
    printf( "%s %.3f\n", name, median( values ) );
}

int main( void )
{
    static double fionbio[ROUNDS], acquire[ROUNDS], release[ROUNDS], binds[ROUNDS], lookups[ROUNDS];
    ULONG (WINAPI *lookup)( USHORT, USHORT, ULONG64 * );
    LARGE_INTEGER frequency;
    WSADATA data;
    SOCKET s;
    int r;

    QueryPerformanceFrequency( &frequency );
    ticks_per_us = (double)frequency.QuadPart / 1e6;
    if (WSAStartup( MAKEWORD(2, 2), &data )) return 1;
    if ((s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )) == INVALID_SOCKET) return 1;

    lookup = (void *)GetProcAddress( LoadLibraryA( "iphlpapi.dll" ), "LookupPersistentTcpPortReservation" );
    time_fionbio( s );  /* warm-up */
    time_binds();
    time_lookups( lookup );
    for (r = 0; r < ROUNDS; r++)
    {
        fionbio[r] = time_fionbio( s );
        acquire[r] = time_acquires( s );
        release[r] = acquire[r] < 0 ? -1 : time_releases( s );
        binds[r] = time_binds();
        lookups[r] = time_lookups( lookup );
    }
    report( "fionbio", fionbio );
    report( "acquire", acquire );
    report( "release", release );
    report( "bind", binds );
    report( "lookup", lookups );
    fflush( stdout );
    closesocket( s );
    WSACleanup();
    return 0;
}
