/*
 * The reservation server, as the proxy reaches it
 *
 * Its map of reserved ports, mapped once per process and read without a
 * request (what the binds that leave the choice to the system must avoid),
 * and its requests, through the bridge, with the WSA error of their answer.
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
#include <windef.h>
#include <winbase.h>
#include <winternl.h>

#include "ws2_32_private.h"
#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

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
BOOL range_has_reserved( const struct portres_map *map, unsigned int protocol )
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
unsigned int pick_port( const struct portres_map *map, unsigned int protocol )
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

/* the WSA errors of the server's statuses */
static const struct
{
    NTSTATUS status;
    int      error;
}
status_errors[] =
{
    { STATUS_SUCCESS,                0 },
    { STATUS_INVALID_PARAMETER,      WSAEINVAL },
    { STATUS_NOT_FOUND,              WSAEINVAL },
    { STATUS_ADDRESS_ALREADY_EXISTS, WSAEADDRINUSE },
    { STATUS_SHARING_VIOLATION,      WSAEADDRINUSE },
    { STATUS_ACCESS_DENIED,          WSAEACCES },
    { STATUS_NO_MEMORY,              WSAENOBUFS },
    { STATUS_NOT_SUPPORTED,          WSAEOPNOTSUPP },
};

int status_to_wsa( NTSTATUS status )
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(status_errors); i++)
        if (status_errors[i].status == status) return status_errors[i].error;
    return WSAENETDOWN;  /* the reservation server cannot be reached */
}

/* a request of the protocol, made in place; 0 or the WSA error of its answer */
int server_request( struct bridge_request_params *call )
{
    return status_to_wsa( bridge_call( bridge_request, call ) );
}
