/*
 * bindbench: measures what the proxy ws2_32.dll adds to socket() + bind()
 * to port 0 + closesocket(), against the same calls made directly on Wine's
 * builtin ws2_32.dll in the same process, with no reservations and with
 * 10,000 TCP and 10,000 UDP reservations present.  A benchmark: it reports
 * the ratio of the medians and never fails because of it.
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

#include "benchioctl.h"

#include "portres/proxy.h"

/* per protocol; each runtime port holds a descriptor of the server, whose
 * limit is often 20,000: two protocols of 10,000 would not fit */
#define RESERVATIONS    8000
#define DEFAULT_OPS     150     /* socket + bind + close per timed block */
#define DEFAULT_ROUNDS  101     /* timed blocks per side; odd, for the median */
#define MAX_ROUNDS      1001
#define TARGET_RATIO    1.05

/* the three functions as one ws2_32 module exports them */
struct ws_funcs
{
    const char *name;
    SOCKET (WINAPI *p_socket)( int family, int type, int protocol );
    int (WINAPI *p_bind)( SOCKET s, const struct sockaddr *addr, int len );
    int (WINAPI *p_closesocket)( SOCKET s );
};

struct kind
{
    const char *name;
    int family;
    int type;
    int protocol;
};

static const struct kind kinds[] =
{
    { "tcp4", AF_INET,  SOCK_STREAM, IPPROTO_TCP },
    { "udp4", AF_INET,  SOCK_DGRAM,  IPPROTO_UDP },
    { "tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP },
    { "udp6", AF_INET6, SOCK_DGRAM,  IPPROTO_UDP },
};

static double ticks_per_us;
static unsigned int ops = DEFAULT_OPS;
static unsigned int rounds = DEFAULT_ROUNDS;

static void fatal( const char *format, ... ) __attribute__((format(printf, 1, 2), noreturn));

static void fatal( const char *format, ... )
{
    va_list args;

    printf( "bindbench: " );
    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    fflush( stdout );
    exit( 1 );
}

static double elapsed_us( const LARGE_INTEGER *start, const LARGE_INTEGER *end )
{
    return (double)(end->QuadPart - start->QuadPart) / ticks_per_us;
}

static BOOL get_funcs( HMODULE module, const char *name, struct ws_funcs *funcs )
{
    funcs->name = name;
    funcs->p_socket = (void *)GetProcAddress( module, "socket" );
    funcs->p_bind = (void *)GetProcAddress( module, "bind" );
    funcs->p_closesocket = (void *)GetProcAddress( module, "closesocket" );
    return funcs->p_socket && funcs->p_bind && funcs->p_closesocket;
}

/* the wildcard address with port 0 of a family */
static int any_address( int family, SOCKADDR_STORAGE *storage )
{
    memset( storage, 0, sizeof(*storage) );
    if (family == AF_INET)
    {
        struct sockaddr_in *addr = (struct sockaddr_in *)storage;

        addr->sin_family = AF_INET;
        addr->sin_addr.s_addr = htonl( INADDR_ANY );
        addr->sin_port = 0;
        return sizeof(*addr);
    }
    else
    {
        struct sockaddr_in6 *addr = (struct sockaddr_in6 *)storage;

        addr->sin6_family = AF_INET6;
        addr->sin6_addr = in6addr_any;
        addr->sin6_port = 0;
        return sizeof(*addr);
    }
}

/* one timed block of socket + bind to port 0 + closesocket; microseconds per operation */
static double time_block( const struct ws_funcs *funcs, const struct kind *kind,
                          const struct sockaddr *addr, int len )
{
    LARGE_INTEGER start, end;
    unsigned int i;
    SOCKET s;

    QueryPerformanceCounter( &start );
    for (i = 0; i < ops; i++)
    {
        s = funcs->p_socket( kind->family, kind->type, kind->protocol );
        if (s == INVALID_SOCKET)
            fatal( "%s: socket through the %s failed, error %d\n", kind->name, funcs->name, WSAGetLastError() );
        if (funcs->p_bind( s, addr, len ))
            fatal( "%s: bind to port 0 through the %s failed, error %d\n", kind->name, funcs->name,
                   WSAGetLastError() );
        if (funcs->p_closesocket( s ))
            fatal( "%s: closesocket through the %s failed, error %d\n", kind->name, funcs->name,
                   WSAGetLastError() );
    }
    QueryPerformanceCounter( &end );
    return elapsed_us( &start, &end ) / ops;
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

/* R rounds of one block per side, alternating which side goes first;
 * prints the medians and returns their ratio */
static double measure( const struct kind *kind, unsigned int reservations,
                       const struct ws_funcs *builtin, const struct ws_funcs *proxy )
{
    static double builtin_us[MAX_ROUNDS], proxy_us[MAX_ROUNDS];
    SOCKADDR_STORAGE storage;
    const struct sockaddr *addr = (const struct sockaddr *)&storage;
    double builtin_median, proxy_median, ratio;
    unsigned int r;
    int len;

    len = any_address( kind->family, &storage );

    /* warm-up: caches, the heap, Wine's handle table */
    time_block( builtin, kind, addr, len );
    time_block( proxy, kind, addr, len );

    for (r = 0; r < rounds; r++)
    {
        if (r % 2)
        {
            proxy_us[r] = time_block( proxy, kind, addr, len );
            builtin_us[r] = time_block( builtin, kind, addr, len );
        }
        else
        {
            builtin_us[r] = time_block( builtin, kind, addr, len );
            proxy_us[r] = time_block( proxy, kind, addr, len );
        }
    }

    builtin_median = median( builtin_us, rounds );
    proxy_median = median( proxy_us, rounds );
    ratio = proxy_median / builtin_median;
    printf( "bind: %-5s port 0, %5u reserved per protocol        %9.2f us %9.2f us  %6.3f  <= %.2f  %s\n",
            kind->name, reservations, builtin_median, proxy_median, ratio, TARGET_RATIO,
            ratio <= TARGET_RATIO ? "met" : "NOT MET" );
    fflush( stdout );
    return ratio;
}

/* RESERVATIONS single-port wildcard reservations on one socket, through the proxy */
static void acquire_reservations( SOCKET s, const char *protocol )
{
    struct bench_port_instance instance;
    struct bench_port_range range;
    LARGE_INTEGER start, end;
    unsigned int i, port, lowest = 65535, highest = 0;
    DWORD size;
    double us;

    QueryPerformanceCounter( &start );
    for (i = 0; i < RESERVATIONS; i++)
    {
        range.start = 0;    /* wildcard: the system chooses */
        range.count = 1;
        memset( &instance, 0, sizeof(instance) );
        size = 0;
        if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &instance, sizeof(instance),
                      &size, NULL, NULL ))
            fatal( "%s reservation %u of %u: SIO_ACQUIRE_PORT_RESERVATION failed, error %d\n",
                   protocol, i + 1, RESERVATIONS, WSAGetLastError() );
        port = ntohs( instance.start );
        if (instance.count != 1 || !port)
            fatal( "%s reservation %u of %u: got start %u count %u\n", protocol, i + 1, RESERVATIONS,
                   port, instance.count );
        if (port < lowest) lowest = port;
        if (port > highest) highest = port;
    }
    QueryPerformanceCounter( &end );
    us = elapsed_us( &start, &end );
    printf( "acquired %u %s reservations of 1 port in %.2f s (%.1f us each), ports %u-%u\n",
            RESERVATIONS, protocol, us / 1e6, us / RESERVATIONS, lowest, highest );
    fflush( stdout );
}

static SOCKET open_socket( int type, int protocol, const char *name )
{
    SOCKET s = socket( AF_INET, type, protocol );

    if (s == INVALID_SOCKET) fatal( "%s socket for the reservations: error %d\n", name, WSAGetLastError() );
    return s;
}

static const char *wine_version( void )
{
    const char * (CDECL *p_wine_get_version)( void );
    HMODULE ntdll = GetModuleHandleW( L"ntdll.dll" );

    p_wine_get_version = ntdll ? (void *)GetProcAddress( ntdll, "wine_get_version" ) : NULL;
    return p_wine_get_version ? p_wine_get_version() : "none (not Wine)";
}

int main( int argc, char **argv )
{
    struct ws_funcs builtin, proxy;
    HMODULE proxy_module, builtin_module;
    SOCKET tcp_reserver, udp_reserver;
    LARGE_INTEGER frequency;
    const char *worst_name = "";
    unsigned int i, worst_reservations = 0;
    double ratio, worst = 0;
    WSADATA data;
    int ret, pass;

    if (argc > 1) ops = atoi( argv[1] );
    if (argc > 2) rounds = atoi( argv[2] );
    if (argc > 3 || !ops || !rounds || rounds > MAX_ROUNDS)
    {
        printf( "usage: bindbench [OPS-PER-BLOCK [ROUNDS (1-%u)]]\n", MAX_ROUNDS );
        return 2;
    }

    QueryPerformanceFrequency( &frequency );
    ticks_per_us = (double)frequency.QuadPart / 1e6;

    /* The imported ws2_32, found from the address of an import: looked up by
     * name, the first lookup after the start of the process gives Wine's
     * builtin even when the proxy is loaded (the loader's cache of the last
     * module found by base name).  Then Wine's builtin, found the way the
     * proxy finds it. */
    if (!GetModuleHandleExW( GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                             (const WCHAR *)socket, &proxy_module ))
        proxy_module = NULL;
    builtin_module = proxy_load_builtin( GetModuleHandleW( NULL ), L"ws2_32.dll" );
    if (!proxy_module || !builtin_module)
        fatal( "cannot find ws2_32.dll (imported %p, Wine's builtin %p)\n", proxy_module, builtin_module );
    if (proxy_module == builtin_module)
        fatal( "the proxy ws2_32.dll is not loaded: the imported ws2_32 is Wine's builtin "
               "(run under ./portres-wine)\n" );
    if (!get_funcs( proxy_module, "proxy", &proxy ) || !get_funcs( builtin_module, "builtin", &builtin ))
        fatal( "socket, bind or closesocket is missing from a ws2_32.dll\n" );

    ret = WSAStartup( MAKEWORD(2, 2), &data );
    if (ret) fatal( "WSAStartup failed, error %d\n", ret );

    printf( "bindbench: socket + bind to port 0 + closesocket, proxy ws2_32 against Wine %s's builtin\n",
            wine_version() );
    printf( "%u operations per block, %u rounds per side alternating which goes first, "
            "median per operation\n", ops, rounds );
    printf( "%-52s %12s %12s  %6s  %-7s\n", "row", "builtin", "proxy", "ratio", "target" );
    fflush( stdout );

    tcp_reserver = open_socket( SOCK_STREAM, IPPROTO_TCP, "tcp" );
    udp_reserver = open_socket( SOCK_DGRAM, IPPROTO_UDP, "udp" );

    for (pass = 0; pass < 2; pass++)
    {
        unsigned int reservations = pass ? RESERVATIONS : 0;

        if (pass)
        {
            acquire_reservations( tcp_reserver, "tcp" );
            acquire_reservations( udp_reserver, "udp" );
        }
        for (i = 0; i < ARRAYSIZE(kinds); i++)
        {
            ratio = measure( &kinds[i], reservations, &builtin, &proxy );
            if (ratio > worst)
            {
                worst = ratio;
                worst_name = kinds[i].name;
                worst_reservations = reservations;
            }
        }
    }

    /* closing the sockets releases their reservations */
    closesocket( tcp_reserver );
    closesocket( udp_reserver );
    WSACleanup();

    printf( "worst ratio %.3f (%s reservations=%u), target <= %.2f: %s\n", worst, worst_name,
            worst_reservations, TARGET_RATIO, worst <= TARGET_RATIO ? "met" : "not met" );
    fflush( stdout );
    return 0;
}
