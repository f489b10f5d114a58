/*
 * WSAIoctl, and the reservation ioctls of the proxy ws2_32.dll
 *
 * The proxy checks what Windows checks before the request (initialisation,
 * the socket, the buffers), turns the request into a request to the server,
 * and the server's answer back into a WSA error.  It decides nothing of its
 * own about reservations.  Every other ioctl is Wine's.
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
#include <mswsock.h>
#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#include <winioctl.h>

#include "ws2_32_private.h"
#include "ioctlargs.h"
#include "portres/protocol.h"
#include "portres/bridge.h"
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
    int error;

    acquire->protocol = protocol;
    acquire->start    = req->start;
    acquire->count    = req->count;
    if (!(acquire->socket = socket_id( s, &error ))) return error;
    TRACE( "socket %#Ix, %s ports %u+%u\n", s, protocol == PORTRES_PROTO_TCP ? "tcp" : "udp",
           acquire->start, acquire->count );
    if ((error = server_request( &call ))) return error;
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
    return server_request( &call );
}

static int associate( SOCKET s, unsigned int protocol, const struct ioctl_request *req )
{
    struct bridge_request_params call;
    struct associate_request *associate = BRIDGE_REQUEST( &call, associate );
    struct sockaddr_storage addr;
    int len = sizeof(addr), error;

    /* it must come before the bind */
    if (!real.getsockname( s, (struct sockaddr *)&addr, &len )) return WSAEINVAL;
    associate->protocol = protocol;
    if (!(associate->socket = socket_id( s, &error ))) return error;
    associate->token    = req->token;
    associate->elevated = bridge_process_elevated();
    TRACE( "socket %#Ix, token %#I64x\n", s, req->token );
    if ((error = server_request( &call ))) return error;
    sockets_update( s, SOCKET_RESERVATION, 0 );
    return 0;
}

static int reservation_ioctl( SOCKET s, DWORD code, void *in_buffer, DWORD in_size, void *out_buffer,
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

/***********************************************************************
 *      WSAIoctl		(WS2_32.70)
 */
int WINAPI WSAIoctl( SOCKET s, DWORD code, void *in_buffer, DWORD in_size, void *out_buffer, DWORD out_size,
                     DWORD *ret_size, WSAOVERLAPPED *overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    static const GUID sendmsg_guid = WSAID_WSASENDMSG;
    int ret;

    switch (code)
    {
    case SIO_ACQUIRE_PORT_RESERVATION:
    case SIO_RELEASE_PORT_RESERVATION:
    case SIO_ASSOCIATE_PORT_RESERVATION:
        return reservation_ioctl( s, code, in_buffer, in_size, out_buffer, out_size, ret_size,
                                  overlapped, completion );
    }
    ret = real.WSAIoctl( s, code, in_buffer, in_size, out_buffer, out_size, ret_size, overlapped, completion );
    /* WSASendMsg binds too: hand out ours, not the builtin's */
    if (!ret && code == SIO_GET_EXTENSION_FUNCTION_POINTER && in_size >= sizeof(GUID) &&
        out_size >= sizeof(void *) && !memcmp( in_buffer, &sendmsg_guid, sizeof(GUID) ) &&
        *(void **)out_buffer == (void *)real.WSASendMsg)
        *(void **)out_buffer = (void *)WSASendMsg;
    return ret;
}
