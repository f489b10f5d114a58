/*
 * The proxy's bind decision, for bind and the binds of connect, sendto and
 * the like
 *
 * A socket associated with a reservation binds the port the server gives;
 * an explicit bind into another socket's runtime reservation fails with
 * WSAEACCES; a bind to port 0, and the bind that connect, sendto and the
 * like make for an unbound socket, must never land on a reserved port.
 * Linux chooses these ports itself and cannot be told to avoid a set of
 * them, and a socket cannot be bound twice; so while reserved ports lie in
 * the host's range for automatic binds, the proxy chooses: a port of that
 * range that the server's map leaves free (server.c), bound explicitly, and
 * another one while it is in use.  Otherwise Wine binds as it always has.
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

/* The server's word on the bind of a socket that holds state there: an
 * associated socket gets its port from its reservation (port 0) or must
 * stay inside it; *associated is FALSE when it binds as any other socket.
 * 0 or the WSA error to fail the bind with. */
static int associated_port( SOCKET s, const struct socket_info *info, USHORT port, USHORT *result,
                            BOOL *associated )
{
    struct bridge_request_params call;
    struct bind_port_request *req = BRIDGE_REQUEST( &call, bind_port );
    const struct bind_port_reply *reply = &call.reply.bind_port_reply;
    int error;

    *associated = FALSE;
    if (info->protocol == SOCKET_PROTO_OTHER) return 0;
    req->protocol = info->protocol;
    req->port     = port;
    if (!(req->socket = socket_id( s, NULL ))) return 0;
    error = server_request( &call );
    TRACE( "socket %#Ix, port %u: error %d, associated %u, port %u\n", s, port, error, reply->associated,
           reply->port );
    if (error) return error;
    *associated = reply->associated != 0;
    *result = reply->port;
    return 0;
}

/* An explicit bind of an ordinary socket into a runtime reservation is
 * refused with WSAEACCES, whoever holds the reservation.  The map answers
 * for every other port without a request; a port it shows reserved is
 * confirmed with the server, which also repairs a map that a server killed
 * mid-update left behind.  Returns non-zero, with the error set, to refuse. */
static BOOL port_refused( SOCKET s, struct socket_info *info, USHORT port )
{
    struct bridge_request_params call;
    struct query_port_request *req;
    const struct query_port_reply *reply = &call.reply.query_port_reply;
    const struct portres_map *map;
    int tcp, udp, runtime_tcp = 0, runtime_udp = 0;

    if (!port || !(map = reserved_map()) || info->protocol == SOCKET_PROTO_OTHER) return 0;
    tcp = portres_map_lookup( map, PORTRES_PROTO_TCP, port, &runtime_tcp );
    udp = portres_map_lookup( map, PORTRES_PROTO_UDP, port, &runtime_udp );
    if (tcp >= 0 && udp >= 0 && !(tcp && runtime_tcp) && !(udp && runtime_udp)) return 0;
    /* only now is the socket's protocol worth asking for */
    if (!(info->flags & SOCKET_KNOWN) && sockets_lookup( s, info )) return 0;
    if (info->protocol == SOCKET_PROTO_OTHER) return 0;
    req = BRIDGE_REQUEST( &call, query_port );
    req->protocol = info->protocol;
    req->port     = port;
    if (server_request( &call ) || reply->kind != PORTRES_KIND_RUNTIME) return 0;
    TRACE( "socket %#Ix: port %u is in a runtime reservation of process %u\n", s, port, reply->owner_pid );
    SetLastError( WSAEACCES );
    return 1;
}

/* Whether a runtime reservation of another prefix holds a port that an
 * explicit bind found in use.  Windows has one table of reservations for
 * the host and refuses such a bind with WSAEACCES, as one into this
 * prefix's; each prefix here has a server of its own, whose holds make the
 * bind fail as a port in use.  Asked only then, off the path of binds that
 * succeed. */
static BOOL reserved_elsewhere( SOCKET s, struct socket_info *info, USHORT port )
{
    struct bridge_reserved_elsewhere_params params;

    if (!(info->flags & SOCKET_KNOWN) && sockets_lookup( s, info )) return FALSE;
    if (info->protocol == SOCKET_PROTO_OTHER) return FALSE;
    memset( &params, 0, sizeof(params) );
    params.protocol = info->protocol;
    params.port     = port;
    if (bridge_call( bridge_reserved_elsewhere, &params ) || !params.reserved) return FALSE;
    TRACE( "socket %#Ix: port %u is in a runtime reservation of another prefix\n", s, port );
    return TRUE;
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
 * inside a runtime reservation is refused with WSAEACCES, as is one that
 * fails because another prefix's runtime reservation holds the port; port
 * 0 gets a port outside every reservation of the protocol. */
int bind_socket( SOCKET s, struct socket_info *info, const struct sockaddr *addr, int len )
{
    struct sockaddr_storage copy;
    int port = address_port( addr, len ), error;
    BOOL associated;
    USHORT result;

    if (port < 0) return real.bind( s, addr, len );
    if (info->flags & SOCKET_RESERVATION)
    {
        if ((error = associated_port( s, info, port, &result, &associated )))
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
    if (port)
    {
        if (port_refused( s, info, port )) return SOCKET_ERROR;
        if (!real.bind( s, addr, len )) return 0;
        if (GetLastError() == WSAEADDRINUSE && reserved_elsewhere( s, info, port )) SetLastError( WSAEACCES );
        return SOCKET_ERROR;
    }
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
