/*
 * Ports for the binds that leave the choice to the system
 *
 * A bind to port 0, and the bind that connect, sendto and the like make for
 * an unbound socket, must never land on a reserved port.  Linux chooses
 * these ports itself and cannot be told to avoid a set of them, and a socket
 * cannot be bound twice; so while reserved ports lie in the host's range for
 * automatic binds, the proxy chooses: a random port of that range that is
 * neither in the server's map nor one the host keeps out of automatic binds,
 * bound explicitly, and another one while it is in use.  Otherwise Wine binds
 * as it always has.
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
#include <string.h>

#include <ntstatus.h>
#define WIN32_NO_STATUS
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windef.h>
#include <winbase.h>

#include "ws2_32_private.h"
#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/maplookup.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

/* how many ports in use a bind tries before it gives up with Wine's error */
#define MAX_ATTEMPTS 64
/* how often a process asks again for a map it could not get, in ms */
#define MAP_RETRY_INTERVAL 2000

static SRWLOCK map_lock = SRWLOCK_INIT;
static const struct portres_map *map;
static const ULONG64 *host_reserved;
static unsigned int ephemeral_first, ephemeral_last;
static DWORD map_last_try;

/* the server's map of reserved ports, mapped once for the life of the process */
const struct portres_map *reserved_map( void )
{
    const struct portres_map *ret = __atomic_load_n( &map, __ATOMIC_ACQUIRE );
    struct bridge_get_map_params params;
    DWORD now;

    if (ret) return ret;
    now = GetTickCount() | 1;
    if (map_last_try && now - map_last_try < MAP_RETRY_INTERVAL) return NULL;
    AcquireSRWLockExclusive( &map_lock );
    if (!(ret = map) && (!map_last_try || now - map_last_try >= MAP_RETRY_INTERVAL))
    {
        map_last_try = now;
        memset( &params, 0, sizeof(params) );
        if (!bridge_call( bridge_get_map, &params ))
        {
            host_reserved   = (const ULONG64 *)(ULONG_PTR)params.host_reserved;
            ephemeral_first = params.ephemeral_first;
            ephemeral_last  = params.ephemeral_last;
            ret = (const struct portres_map *)(ULONG_PTR)params.map;
            TRACE( "map %p, automatic binds in %u-%u\n", ret, ephemeral_first, ephemeral_last );
            __atomic_store_n( &map, ret, __ATOMIC_RELEASE );
        }
        else WARN( "no map of reserved ports; binds cannot avoid them\n" );
    }
    ReleaseSRWLockExclusive( &map_lock );
    return ret;
}

/* the words of the map's reserved bitmap for a protocol; 0 means either */
static ULONG64 reserved_word( const struct portres_map *map, unsigned int protocol, unsigned int index )
{
    ULONG64 word = 0;

    if (protocol != PORTRES_PROTO_UDP) word |= __atomic_load_n( &map->reserved[0][index], __ATOMIC_RELAXED );
    if (protocol != PORTRES_PROTO_TCP) word |= __atomic_load_n( &map->reserved[1][index], __ATOMIC_RELAXED );
    return word;
}

/* which protocols have reserved ports in the automatic range: bit 0 TCP, bit 1 UDP */
static unsigned int scan_range( const struct portres_map *map )
{
    unsigned int index, first = ephemeral_first / 64, last = ephemeral_last / 64, bits = 0;
    ULONG64 mask;

    for (index = first; index <= last; index++)
    {
        mask = ~(ULONG64)0;
        if (index == first) mask &= ~(ULONG64)0 << (ephemeral_first % 64);
        if (index == last && ephemeral_last % 64 != 63) mask &= ((ULONG64)2 << (ephemeral_last % 64)) - 1;
        if (reserved_word( map, PORTRES_PROTO_TCP, index ) & mask) bits |= 1;
        if (reserved_word( map, PORTRES_PROTO_UDP, index ) & mask) bits |= 2;
    }
    return bits;
}

/* whether a reserved port of the protocol (0: either) lies in the automatic
 * range; worked out once per generation of the map */
static BOOL range_has_reserved( const struct portres_map *map, unsigned int protocol )
{
    static LONG64 cache;   /* generation << 2 | bits of scan_range(); 0 before the first scan */
    LONG64 cached = __atomic_load_n( &cache, __ATOMIC_RELAXED );
    unsigned int generation = __atomic_load_n( &map->generation, __ATOMIC_ACQUIRE ), bits;

    if (cached && !(generation & 1) && (unsigned int)(cached >> 2) == generation) bits = cached & 3;
    else
    {
        bits = scan_range( map );
        __atomic_thread_fence( __ATOMIC_ACQUIRE );
        /* only a scan no writer overlapped is worth keeping */
        if (!(generation & 1) && __atomic_load_n( &map->generation, __ATOMIC_RELAXED ) == generation)
            __atomic_store_n( &cache, (LONG64)generation << 2 | bits, __ATOMIC_RELAXED );
    }
    if (protocol == PORTRES_PROTO_TCP) return bits & 1;
    if (protocol == PORTRES_PROTO_UDP) return (bits >> 1) & 1;
    return bits != 0;
}

/* a 64-bit random number; good enough to spread ports, and lock-free */
static ULONG64 random64( void )
{
    static LONG64 state;
    LARGE_INTEGER counter;
    ULONG64 x;

    if (!__atomic_load_n( &state, __ATOMIC_RELAXED ))
    {
        QueryPerformanceCounter( &counter );
        InterlockedCompareExchange64( &state, (counter.QuadPart ^ ((LONG64)GetCurrentProcessId() << 32)) | 1, 0 );
    }
    x = InterlockedExchangeAdd64( &state, 0x9e3779b97f4a7c15LL );
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* the ports from port to the end of its word that are reserved for the
 * protocol (0: either) or kept by the host, as bits from bit 0 */
static ULONG64 taken_bits( const struct portres_map *map, unsigned int protocol, unsigned int port )
{
    ULONG64 taken = reserved_word( map, protocol, port / 64 );

    if (host_reserved) taken |= host_reserved[port / 64];
    return taken >> (port % 64);
}

/* A port of the automatic range that no reservation of the protocol (0:
 * either) holds and the host does not keep; 0 when there is none.  A few
 * random tries give every free port the same chance; a crowded range is
 * then scanned from a random place, a word of the map at a time.  Single
 * words of the map need no generation check: a reservation published a
 * moment later would be as late for the bind. */
static unsigned int pick_port( const struct portres_map *map, unsigned int protocol )
{
    unsigned int size = ephemeral_last - ephemeral_first + 1, port, scanned, i;
    ULONG64 taken;

    for (i = 0; i < 8; i++)
    {
        port = ephemeral_first + random64() % size;
        if (!(taken_bits( map, protocol, port ) & 1)) return port;
    }
    for (scanned = 0; scanned < size; )
    {
        port = ephemeral_first + (port - ephemeral_first + 1) % size;
        if (!((taken = taken_bits( map, protocol, port )) & 1)) return port;
        /* skip the run of taken ports up to the end of the word; the bits
         * past the word are zero, so ~taken has a bit set */
        i = __builtin_ctzll( ~taken );
        scanned += i;
        port += i - 1;
        if (port > ephemeral_last) port = ephemeral_last;
    }
    return 0;
}

static void set_port( struct sockaddr *addr, unsigned int port )
{
    if (addr->sa_family == AF_INET) ((struct sockaddr_in *)addr)->sin_port = swap_port( port );
    else ((struct sockaddr_in6 *)addr)->sin6_port = swap_port( port );
}

/* bind to a port chosen here, as the system would have, with SO_REUSEADDR
 * off for the bind: a port that is in use must fail, not be shared */
static int bind_chosen_port( SOCKET s, const struct sockaddr *addr, int len, const struct socket_info *info )
{
    const struct portres_map *map = reserved_map();
    struct sockaddr_storage copy;
    unsigned int attempt, port;
    BOOL off = FALSE, on = TRUE;
    int ret = SOCKET_ERROR, error = WSAEADDRINUSE;

    memcpy( &copy, addr, len );
    if ((info->flags & SOCKET_REUSEADDR) &&
        real.setsockopt( s, SOL_SOCKET, SO_REUSEADDR, (const char *)&off, sizeof(off) ))
        return SOCKET_ERROR;
    for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++)
    {
        if (!(port = pick_port( map, info->protocol ))) break;
        set_port( (struct sockaddr *)&copy, port );
        if (!(ret = real.bind( s, (struct sockaddr *)&copy, len ))) break;
        if ((error = GetLastError()) != WSAEADDRINUSE && error != WSAEACCES) break;
    }
    TRACE( "socket %#Ix: port %u after %u attempts, %d\n", s, port, attempt + 1, ret ? error : 0 );
    if (info->flags & SOCKET_REUSEADDR)
        real.setsockopt( s, SOL_SOCKET, SO_REUSEADDR, (const char *)&on, sizeof(on) );
    if (ret) SetLastError( port ? error : WSAEADDRINUSE );
    return ret;
}

/* the port of a bind address, -1 when it is no IP address of a length
 * Windows takes: programs pass the size of a SOCKADDR_STORAGE or a
 * SOCKADDR_INET as well as that of the family's own address */
static int address_port( const struct sockaddr *addr, int len )
{
    if (!addr || len < (int)sizeof(struct sockaddr_in) || len > (int)sizeof(struct sockaddr_storage) ||
        IsBadReadPtr( addr, len ))
        return -1;
    if (addr->sa_family == AF_INET) return swap_port( ((const struct sockaddr_in *)addr)->sin_port );
    if (addr->sa_family == AF_INET6 && len >= (int)sizeof(struct sockaddr_in6))
        return swap_port( ((const struct sockaddr_in6 *)addr)->sin6_port );
    return -1;
}

/* bind() to port 0 of an ordinary socket */
static int bind_automatic( SOCKET s, struct socket_info *info, const struct sockaddr *addr, int len )
{
    const struct portres_map *map = reserved_map();

    if (!map || info->protocol == SOCKET_PROTO_OTHER || !range_has_reserved( map, info->protocol ))
        return real.bind( s, addr, len );
    if (!(info->flags & SOCKET_KNOWN) && (sockets_lookup( s, info ) || info->protocol == SOCKET_PROTO_OTHER))
        return real.bind( s, addr, len );
    return bind_chosen_port( s, addr, len, info );
}

/* The proxy's one bind decision, for every bind of a socket: bind itself
 * and the implicit binds of connect, sendto and the like.  In order: an
 * address that is no IP address of a length Windows takes goes to Wine as
 * it is, which says what is wrong with it; a socket associated with a
 * reservation binds the port the server gives, or checks; an explicit port
 * inside a runtime reservation is refused with WSAEACCES; port 0 gets a
 * port outside every reservation of the protocol. */
int bind_socket( SOCKET s, struct socket_info *info, const struct sockaddr *addr, int len )
{
    struct sockaddr_storage copy;
    int port = address_port( addr, len ), error;
    BOOL associated;
    USHORT result;

    if (port < 0) return real.bind( s, addr, len );
    if (info->flags & SOCKET_RESERVATION)
    {
        if ((error = reservation_bind_port( s, info, port, &result, &associated )))
        {
            SetLastError( error );
            return SOCKET_ERROR;
        }
        if (associated)
        {
            memcpy( &copy, addr, len );
            set_port( (struct sockaddr *)&copy, result );
            return real.bind( s, (struct sockaddr *)&copy, len );
        }
    }
    if (port) return reservation_port_refused( s, info, port ) ? SOCKET_ERROR : real.bind( s, addr, len );
    return bind_automatic( s, info, addr, len );
}

/* Before connect, sendto and the like: an unbound socket is bound here, so
 * that Wine's implicit bind does not choose a reserved port, and so that a
 * socket associated with a reservation gets its port from it, as Windows
 * does "if and when the socket is bound".  Failures are left for the call
 * itself to report. */
void implicit_bind( SOCKET s, const struct sockaddr *dest, int dest_len, BOOL datagram_only )
{
    const struct portres_map *map;
    struct socket_info info;
    struct sockaddr_in6 any;
    DWORD last_error;
    int len, ret, error = 0;

    sockets_get_for_bind( s, &info );
    if (info.flags & SOCKET_BOUND || info.protocol == SOCKET_PROTO_OTHER) return;
    if (!(info.flags & SOCKET_RESERVATION) &&
        (!(map = reserved_map()) || !range_has_reserved( map, info.protocol )))
        return;
    if (sockets_lookup( s, &info ) || info.protocol == SOCKET_PROTO_OTHER) return;
    if (datagram_only && info.protocol != PORTRES_PROTO_UDP) return;
    if (info.family != AF_INET && info.family != AF_INET6) return;
    if (dest && (dest_len < (int)sizeof(struct sockaddr_in) || IsBadReadPtr( dest, dest_len ) ||
                 dest->sa_family != info.family))
        return;  /* Wine will say what is wrong with the address */

    last_error = GetLastError();
    memset( &any, 0, sizeof(any) );
    any.sin6_family = info.family;
    len = info.family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(any);
    ret = bind_socket( s, &info, (struct sockaddr *)&any, len );
    if (!ret || (error = GetLastError()) == WSAEINVAL)
        sockets_update( s, SOCKET_BOUND, 0 );  /* WSAEINVAL: bound already */
    else TRACE( "socket %#Ix: no port, error %d\n", s, error );
    SetLastError( last_error );
}
