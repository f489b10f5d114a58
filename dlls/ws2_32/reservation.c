/*
 * The reservation ioctls of the proxy ws2_32.dll, and the binds and closes
 * of sockets that take part in reservations
 *
 * The proxy checks what Windows checks before the request (initialisation,
 * the socket, the buffers), turns the request into a bridge call, and the
 * server's answer back into a WSA error.  It decides nothing of its own
 * about reservations.
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
#define WINSOCK_API_LINKAGE
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#include <winioctl.h>

#include "ws2_32_private.h"
#include "ioctlargs.h"
#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/maplookup.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

/* Wine's AFD ioctl that completes an async with a given status, signalling
 * the event, queueing the APC and notifying the completion port as the
 * socket is set up for */
#define IOCTL_AFD_WINE_COMPLETE_ASYNC CTL_CODE( FILE_DEVICE_NETWORK, 210, METHOD_BUFFERED, FILE_ANY_ACCESS )

/* ioctlargs.c knows these without the Windows headers */
C_ASSERT( SIO_ACQUIRE_PORT_RESERVATION == IOCTL_ACQUIRE_PORT_RESERVATION );
C_ASSERT( SIO_RELEASE_PORT_RESERVATION == IOCTL_RELEASE_PORT_RESERVATION );
C_ASSERT( SIO_ASSOCIATE_PORT_RESERVATION == IOCTL_ASSOCIATE_PORT_RESERVATION );
C_ASSERT( WSAEFAULT == IOCTL_WSAEFAULT );
C_ASSERT( WSAEINVAL == IOCTL_WSAEINVAL );
C_ASSERT( sizeof(INET_PORT_RANGE) == IOCTL_RANGE_SIZE );
C_ASSERT( sizeof(INET_PORT_RESERVATION_TOKEN) == IOCTL_TOKEN_SIZE );
C_ASSERT( sizeof(INET_PORT_RESERVATION_INSTANCE) == IOCTL_INSTANCE_SIZE );

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

static int status_to_wsa( NTSTATUS status )
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(status_errors); i++)
        if (status_errors[i].status == status) return status_errors[i].error;
    return WSAENETDOWN;  /* the reservation server cannot be reached */
}

static const char *debugstr_code( DWORD code )
{
    switch (code)
    {
    case SIO_ACQUIRE_PORT_RESERVATION:   return "SIO_ACQUIRE_PORT_RESERVATION";
    case SIO_RELEASE_PORT_RESERVATION:   return "SIO_RELEASE_PORT_RESERVATION";
    case SIO_ASSOCIATE_PORT_RESERVATION: return "SIO_ASSOCIATE_PORT_RESERVATION";
    default:                             return "?";
    }
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
static portres_socket_t socket_id_error( SOCKET s, int *error )
{
    struct bridge_socket_id_params params;
    NTSTATUS status = query_socket_id( s, &params );

    if (error) *error = status == STATUS_NOT_SUPPORTED ? WSAEOPNOTSUPP : WSAENOTSOCK;
    return status ? 0 : params.id;
}

static portres_socket_t socket_id( SOCKET s )
{
    return socket_id_error( s, NULL );
}

/* What the kernel says of a socket handle that Wine's ws2_32 does not
 * know: Wine 8.0 and 10.0 answer WSAENOTSOCK to getsockopt and closesocket
 * on a socket handle that DuplicateHandle made, or that was inherited.
 * FALSE when it is no socket. */
BOOL reservation_socket_info( SOCKET s, struct socket_info *info )
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
BOOL reservation_socket_held( SOCKET s )
{
    const struct portres_map *map = reserved_map();
    struct bridge_request_params call;
    struct query_socket_request *req = BRIDGE_REQUEST( &call, query_socket );
    const struct query_socket_reply *reply = &call.reply.query_socket_reply;

    if (!map || !__atomic_load_n( &map->associations, __ATOMIC_ACQUIRE )) return FALSE;
    if (!(req->socket = socket_id( s )) || bridge_call( bridge_request, &call )) return FALSE;
    TRACE( "socket %#Ix: associated %u, %u reservations\n", s, reply->associated, reply->acquired );
    return reply->associated || reply->acquired;
}

/* PORTRES_PROTO_* of a socket, or a WSA error */
static int socket_protocol( SOCKET s, unsigned int *protocol )
{
    struct socket_info info;
    int error;

    if ((error = sockets_lookup( s, &info ))) return error;
    if (info.protocol == SOCKET_PROTO_OTHER) return WSAEOPNOTSUPP;
    *protocol = info.protocol;
    return 0;
}

struct completion_context
{
    LPWSAOVERLAPPED_COMPLETION_ROUTINE func;
    DWORD bytes;
};

static void WINAPI completion_apc( void *arg, IO_STATUS_BLOCK *iosb, ULONG reserved )
{
    struct completion_context *context = arg;

    context->func( status_to_wsa( iosb->Status ), context->bytes, (WSAOVERLAPPED *)iosb, 0 );
    HeapFree( GetProcessHeap(), 0, context );
}

/* complete an overlapped call that has finished at once, the way Windows does */
static void complete_overlapped( SOCKET s, WSAOVERLAPPED *overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE func,
                                 DWORD bytes )
{
    HANDLE event = (HANDLE)((ULONG_PTR)overlapped->hEvent & ~1);
    void *apc_context = ((ULONG_PTR)overlapped->hEvent & 1) ? NULL : overlapped;
    PIO_APC_ROUTINE apc = NULL;
    NTSTATUS status = STATUS_SUCCESS;
    struct completion_context *context;

    if (func && (context = HeapAlloc( GetProcessHeap(), 0, sizeof(*context) )))
    {
        context->func = func;
        context->bytes = bytes;
        apc = completion_apc;
        apc_context = context;
    }
    NtDeviceIoControlFile( (HANDLE)s, event, apc, apc_context, (IO_STATUS_BLOCK *)overlapped,
                           IOCTL_AFD_WINE_COMPLETE_ASYNC, &status, sizeof(status), NULL, 0 );
    /* Wine's completion carries no byte count */
    overlapped->InternalHigh = bytes;
}

static int acquire( SOCKET s, unsigned int protocol, const struct ioctl_args *args,
                    const struct ioctl_request *req, DWORD *bytes )
{
    struct bridge_request_params call;
    struct acquire_request *acquire = BRIDGE_REQUEST( &call, acquire );
    const struct acquire_reply *reply = &call.reply.acquire_reply;
    NTSTATUS status;
    int error;

    acquire->protocol = protocol;
    acquire->start    = req->start;
    acquire->count    = req->count;
    if (!(acquire->socket = socket_id_error( s, &error ))) return error;
    TRACE( "socket %#Ix, %s ports %u+%u\n", s, protocol == PORTRES_PROTO_TCP ? "tcp" : "udp",
           acquire->start, acquire->count );
    if ((status = bridge_call( bridge_request, &call ))) return status_to_wsa( status );
    sockets_update( s, SOCKET_RESERVATION, 0 );
    *bytes = ioctl_args_write_instance( args, reply->start, req->count, reply->token );
    TRACE( "reserved %u+%u, token %#I64x\n", reply->start, reply->count, reply->token );
    return 0;
}

static int release( const struct ioctl_request *req )
{
    struct bridge_request_params call;

    BRIDGE_REQUEST( &call, release )->token = req->token;
    TRACE( "token %#I64x\n", req->token );
    return status_to_wsa( bridge_call( bridge_request, &call ) );
}

static int associate( SOCKET s, unsigned int protocol, const struct ioctl_request *req )
{
    struct bridge_request_params call;
    struct associate_request *associate = BRIDGE_REQUEST( &call, associate );
    struct sockaddr_storage addr;
    int len = sizeof(addr), error;
    NTSTATUS status;

    /* it must come before the bind */
    if (!real.getsockname( s, (struct sockaddr *)&addr, &len )) return WSAEINVAL;
    associate->protocol = protocol;
    if (!(associate->socket = socket_id_error( s, &error ))) return error;
    associate->token    = req->token;
    associate->elevated = bridge_process_elevated();
    TRACE( "socket %#Ix, token %#I64x\n", s, req->token );
    if ((status = bridge_call( bridge_request, &call ))) return status_to_wsa( status );
    sockets_update( s, SOCKET_RESERVATION, 0 );
    return 0;
}

int reservation_ioctl( SOCKET s, DWORD code, void *in_buffer, DWORD in_size, void *out_buffer,
                       DWORD out_size, DWORD *ret_size, WSAOVERLAPPED *overlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    struct ioctl_args args;
    struct ioctl_request req;
    unsigned int protocol;
    DWORD bytes = 0;
    int error, clear_ret_size;

    TRACE( "socket %#Ix, %s, in %p/%lu, out %p/%lu, ret %p, overlapped %p, completion %p\n", s,
           debugstr_code( code ), in_buffer, in_size, out_buffer, out_size, ret_size, overlapped, completion );

    args.code           = code;
    args.in             = in_buffer;
    args.in_size        = in_size;
    args.out            = out_buffer;
    args.out_size       = out_size;
    args.has_ret_size   = ret_size != NULL;
    args.has_overlapped = overlapped != NULL;

    if (!startup_count) error = WSANOTINITIALISED;
    else if ((error = socket_protocol( s, &protocol ))) ;
    else if ((error = ioctl_args_check( &args, &clear_ret_size )))
    {
        if (clear_ret_size && ret_size) *ret_size = 0;
    }
    else
    {
        ioctl_args_read( &args, &req );
        if (code == SIO_ACQUIRE_PORT_RESERVATION) error = acquire( s, protocol, &args, &req, &bytes );
        else if (code == SIO_RELEASE_PORT_RESERVATION) error = release( &req );
        else error = associate( s, protocol, &req );
    }

    if (error)
    {
        TRACE( "failed: %d\n", error );
        SetLastError( error );
        return SOCKET_ERROR;
    }
    if (ret_size) *ret_size = bytes;
    if (overlapped) complete_overlapped( s, overlapped, completion, bytes );
    SetLastError( 0 );
    return 0;
}

/* The server's word on the bind of a socket that holds state there: an
 * associated socket gets its port from its reservation (port 0) or must
 * stay inside it; *associated is FALSE when it binds as any other socket.
 * 0 or the WSA error to fail the bind with. */
int reservation_bind_port( SOCKET s, const struct socket_info *info, USHORT port, USHORT *result,
                           BOOL *associated )
{
    struct bridge_request_params call;
    struct bind_port_request *req = BRIDGE_REQUEST( &call, bind_port );
    const struct bind_port_reply *reply = &call.reply.bind_port_reply;
    NTSTATUS status;

    *associated = FALSE;
    if (info->protocol == SOCKET_PROTO_OTHER) return 0;
    req->protocol = info->protocol;
    req->port     = port;
    if (!(req->socket = socket_id( s ))) return 0;
    status = bridge_call( bridge_request, &call );
    TRACE( "socket %#Ix, port %u: status %#lx, associated %u, port %u\n", s, port, status, reply->associated,
           reply->port );
    if (status) return status_to_wsa( status );
    *associated = reply->associated != 0;
    *result = reply->port;
    return 0;
}

/* An explicit bind of an ordinary socket into a runtime reservation is
 * refused with WSAEACCES, whoever holds the reservation.  The map answers
 * for every other port without a request; a port it shows reserved is
 * confirmed with the server, which also repairs a map that a server killed
 * mid-update left behind.  Returns non-zero, with the error set, to refuse. */
BOOL reservation_port_refused( SOCKET s, struct socket_info *info, USHORT port )
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
    if (bridge_call( bridge_request, &call ) || reply->kind != PORTRES_KIND_RUNTIME) return 0;
    TRACE( "socket %#Ix: port %u is in a runtime reservation of process %u\n", s, port, reply->owner_pid );
    SetLastError( WSAEACCES );
    return 1;
}

/* closesocket.  When the socket acquired or associated here (held), its
 * reservations go at once once the socket has ended: the server looks for
 * itself whether it has, since another handle of it may live, here or in
 * another process; ends that the proxy does not see (CloseHandle, a CRT
 * _close) the server finds without us.  A handle of a socket that Wine's
 * ws2_32 does not know (Wine 8.0 and 10.0 answer WSAENOTSOCK for a
 * DuplicateHandle copy or an inherited handle) is closed, as Windows does. */
int reservation_closesocket( SOCKET s, BOOL held )
{
    struct bridge_request_params call;
    struct socket_closed_request *req = BRIDGE_REQUEST( &call, socket_closed );
    DWORD error;
    int ret;

    if (held) req->socket = socket_id( s );
    ret = real.closesocket( s );
    error = GetLastError();
    if (ret && error == WSAENOTSOCK && (req->socket || (req->socket = socket_id( s ))) &&
        CloseHandle( (HANDLE)s ))
    {
        ret = 0;
        error = 0;
    }
    if (!ret && req->socket && !bridge_call( bridge_request, &call ))
        TRACE( "socket %#Ix: %u reservations released\n", s, call.reply.socket_closed_reply.released );
    SetLastError( error );
    return ret;
}
