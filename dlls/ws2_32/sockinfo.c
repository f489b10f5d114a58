/*
 * What the proxy knows of the process's sockets
 *
 * For each socket: its protocol and whether it is bound, has SO_REUSEADDR
 * set, or has state in the reservation server (only those sockets' binds and
 * closes need the server); and what the server calls it.  Sockets created
 * elsewhere and handed to us are learnt on first use, from Wine, the kernel
 * and the server.  An open-addressing hash table keyed by handle value,
 * under an SRW lock.
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

#define EMPTY    ((SOCKET)0)
#define REMOVED  ((SOCKET)~(ULONG_PTR)0)

struct entry
{
    SOCKET             socket;
    struct socket_info info;
};

static SRWLOCK lock = SRWLOCK_INIT;
static struct entry *table;
static unsigned int table_size;    /* a power of two */
static unsigned int used;          /* entries and tombstones */
static LONG count;                 /* entries; read without the lock on the fast path */

static unsigned int slot_of( SOCKET s, unsigned int size )
{
    ULONG64 key = (ULONG64)s * 0x9e3779b97f4a7c15ULL;
    return (unsigned int)(key >> 32) & (size - 1);
}

/* index of s, or of the free slot where it would go; -1 when absent and the table is missing */
static int find( SOCKET s, BOOL for_insert )
{
    unsigned int i, pos, tomb = ~0u;

    if (!table) return -1;
    pos = slot_of( s, table_size );
    for (i = 0; i < table_size; i++, pos = (pos + 1) & (table_size - 1))
    {
        if (table[pos].socket == s) return pos;
        if (table[pos].socket == REMOVED && tomb == ~0u) tomb = pos;
        if (table[pos].socket == EMPTY) return for_insert ? (int)(tomb != ~0u ? tomb : pos) : -1;
    }
    return for_insert && tomb != ~0u ? (int)tomb : -1;
}

/* rebuild the table without tombstones, larger when it is more than a quarter full */
static BOOL rehash( void )
{
    unsigned int i, old_size = table_size, size = table_size ? table_size : 64;
    struct entry *old = table;

    while ((unsigned int)count * 4 >= size) size *= 2;
    if (!(table = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, size * sizeof(*table) )))
    {
        table = old;
        return FALSE;
    }
    table_size = size;
    used = 0;
    for (i = 0; i < old_size; i++)
    {
        if (old[i].socket == EMPTY || old[i].socket == REMOVED) continue;
        table[find( old[i].socket, TRUE )] = old[i];
        used++;
    }
    HeapFree( GetProcessHeap(), 0, old );
    return TRUE;
}

/* the entry of s, added with an unknown protocol and no flags when missing;
 * called with the lock held exclusively */
static struct entry *get_entry( SOCKET s )
{
    int pos;

    if ((pos = find( s, FALSE )) >= 0) return &table[pos];
    if ((used + 1) * 2 > table_size && !rehash()) return NULL;
    pos = find( s, TRUE );
    if (table[pos].socket == EMPTY) used++;
    table[pos].socket = s;
    table[pos].info.protocol = 0;
    table[pos].info.family = 0;
    table[pos].info.flags = 0;
    InterlockedIncrement( &count );
    return &table[pos];
}

/* PORTRES_PROTO_* of a socket, from the arguments it was created with */
static unsigned int socket_protocol_of( int family, int type, int protocol )
{
    if (family != AF_INET && family != AF_INET6) return SOCKET_PROTO_OTHER;
    if (type == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) return PORTRES_PROTO_TCP;
    if (type == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP)) return PORTRES_PROTO_UDP;
    return SOCKET_PROTO_OTHER;
}

void sockets_created( SOCKET s, int family, int type, int protocol )
{
    struct entry *entry;

    if (s == INVALID_SOCKET) return;
    AcquireSRWLockExclusive( &lock );
    /* a handle value can come back: whatever was known of it is gone */
    if ((entry = get_entry( s )))
    {
        entry->info.protocol = socket_protocol_of( family, type, protocol );
        entry->info.family = family == AF_INET || family == AF_INET6 ? family : 0;
        entry->info.flags = SOCKET_KNOWN;
    }
    ReleaseSRWLockExclusive( &lock );
}

void sockets_update( SOCKET s, unsigned int set, unsigned int clear )
{
    struct entry *entry;

    AcquireSRWLockExclusive( &lock );
    if ((entry = get_entry( s ))) entry->info.flags = (entry->info.flags & ~clear) | set;
    ReleaseSRWLockExclusive( &lock );
}

/* what the kernel says of a socket handle: its inode, protocol and family */
static NTSTATUS query_socket_id( SOCKET s, struct bridge_socket_id_params *params )
{
    memset( params, 0, sizeof(*params) );
    params->handle = s;
    return bridge_call( bridge_socket_id, params );
}

/* what the server calls a socket (the inode of its kernel socket), or 0;
 * *error, when given, gets the WSA error */
portres_socket_t socket_id( SOCKET s, int *error )
{
    struct bridge_socket_id_params params;
    NTSTATUS status = query_socket_id( s, &params );

    if (error) *error = status == STATUS_NOT_SUPPORTED ? WSAEOPNOTSUPP : WSAENOTSOCK;
    return status ? 0 : params.id;
}

/* What the kernel says of a socket handle that Wine's ws2_32 does not
 * know: Wine 8.0 and 10.0 answer WSAENOTSOCK to getsockopt and closesocket
 * on a socket handle that DuplicateHandle made, or that was inherited.
 * FALSE when it is no socket. */
static BOOL kernel_socket_info( SOCKET s, struct socket_info *info )
{
    struct bridge_socket_id_params params;

    if (query_socket_id( s, &params ) || !params.id) return FALSE;
    info->protocol = params.protocol ? params.protocol : SOCKET_PROTO_OTHER;
    info->family = params.ip_version == 4 ? AF_INET : params.ip_version == 6 ? AF_INET6 : 0;
    return TRUE;
}

/* Whether the server holds state for a socket this process got from
 * elsewhere (a duplicate, an inherited handle): an association belongs to
 * the socket, whichever handle binds it.  Asked only while the map says
 * that some socket is associated. */
static BOOL server_holds_socket( SOCKET s )
{
    const struct portres_map *map = reserved_map();
    struct bridge_request_params call;
    struct query_socket_request *req = BRIDGE_REQUEST( &call, query_socket );
    const struct query_socket_reply *reply = &call.reply.query_socket_reply;

    if (!map || !__atomic_load_n( &map->associations, __ATOMIC_ACQUIRE )) return FALSE;
    if (!(req->socket = socket_id( s, NULL )) || server_request( &call )) return FALSE;
    TRACE( "socket %#Ix: associated %u, %u reservations\n", s, reply->associated, reply->acquired );
    return reply->associated || reply->acquired;
}

/* what the proxy knows of s, asking Wine about a socket created elsewhere
 * (inherited, duplicated, accepted); 0 or the WSA error of the question,
 * WSAENOTSOCK for what is no socket */
int sockets_lookup( SOCKET s, struct socket_info *info )
{
    WSAPROTOCOL_INFOW protocol_info;
    struct entry *entry;
    unsigned int learnt;
    BOOL reuse = FALSE;
    int len, error;

    if (sockets_get( s, info ) && (info->flags & SOCKET_KNOWN)) return 0;
    len = sizeof(protocol_info);
    if (!real.getsockopt( s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&protocol_info, &len ))
    {
        info->protocol = socket_protocol_of( protocol_info.iAddressFamily, protocol_info.iSocketType,
                                             protocol_info.iProtocol );
        info->family = protocol_info.iAddressFamily;
    }
    else if ((error = GetLastError()) != WSAENOTSOCK || !kernel_socket_info( s, info )) return error;
    len = sizeof(reuse);
    if (real.getsockopt( s, SOL_SOCKET, SO_REUSEADDR, (char *)&reuse, &len )) reuse = FALSE;

    learnt = SOCKET_KNOWN | (reuse ? SOCKET_REUSEADDR : 0);
    if (info->protocol != SOCKET_PROTO_OTHER && server_holds_socket( s )) learnt |= SOCKET_RESERVATION;
    AcquireSRWLockExclusive( &lock );
    if ((entry = get_entry( s )))
    {
        entry->info.protocol = info->protocol;
        entry->info.family = info->family;
        entry->info.flags |= learnt;
        info->flags = entry->info.flags;
    }
    else info->flags = learnt;
    ReleaseSRWLockExclusive( &lock );
    return 0;
}

/* what a bind must know of s: a socket this process got from elsewhere may
 * be associated, which only the server knows, and which matters only while
 * some socket is */
void sockets_get_for_bind( SOCKET s, struct socket_info *info )
{
    const struct portres_map *map;

    if (sockets_get( s, info ) && (info->flags & SOCKET_KNOWN)) return;
    if (!(map = reserved_map()) || !__atomic_load_n( &map->associations, __ATOMIC_ACQUIRE )) return;
    sockets_lookup( s, info );
}

BOOL sockets_get( SOCKET s, struct socket_info *info )
{
    int pos = -1;

    if (count)
    {
        AcquireSRWLockShared( &lock );
        if ((pos = find( s, FALSE )) >= 0) *info = table[pos].info;
        ReleaseSRWLockShared( &lock );
    }
    if (pos < 0)
    {
        info->protocol = 0;
        info->family = 0;
        info->flags = 0;
    }
    return pos >= 0;
}

unsigned int sockets_remove( SOCKET s )
{
    unsigned int flags = 0;
    int pos;

    if (!count) return 0;
    AcquireSRWLockExclusive( &lock );
    if ((pos = find( s, FALSE )) >= 0)
    {
        flags = table[pos].info.flags;
        table[pos].socket = REMOVED;
        InterlockedDecrement( &count );
    }
    ReleaseSRWLockExclusive( &lock );
    return flags;
}
