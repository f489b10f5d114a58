/*
 * The exports that create, bind, connect, send on and close sockets
 *
 * They keep what sockinfo.c knows of each socket current, leave every bind
 * to the bind decision of bind.c (an unbound socket is bound before Wine's
 * implicit bind would choose its port), and end a socket's reservations
 * with it; the calls themselves are Wine's.
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
#define WINSOCK_API_LINKAGE   /* we define these exports */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windef.h>
#include <winbase.h>
#include <winternl.h>

#include "ws2_32_private.h"
#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

/***********************************************************************
 *      socket		(WS2_32.23)
 */
SOCKET WINAPI socket( int family, int type, int protocol )
{
    SOCKET s = real.socket( family, type, protocol );
    sockets_created( s, family, type, protocol );
    return s;
}

/***********************************************************************
 *      WSASocketA		(WS2_32.94)
 */
SOCKET WINAPI WSASocketA( int family, int type, int protocol, WSAPROTOCOL_INFOA *info, GROUP group, DWORD flags )
{
    SOCKET s = real.WSASocketA( family, type, protocol, info, group, flags );

    /* from a protocol description, maybe another process's socket: learnt on first use */
    if (info) sockets_remove( s );
    else sockets_created( s, family, type, protocol );
    return s;
}

/***********************************************************************
 *      WSASocketW		(WS2_32.95)
 */
SOCKET WINAPI WSASocketW( int family, int type, int protocol, WSAPROTOCOL_INFOW *info, GROUP group, DWORD flags )
{
    SOCKET s = real.WSASocketW( family, type, protocol, info, group, flags );

    if (info) sockets_remove( s );
    else sockets_created( s, family, type, protocol );
    return s;
}

/***********************************************************************
 *      setsockopt		(WS2_32.21)
 */
int WINAPI setsockopt( SOCKET s, int level, int name, const char *value, int len )
{
    int ret = real.setsockopt( s, level, name, value, len );
    BOOL on;

    /* an automatic bind turns SO_REUSEADDR off for itself, so it must know */
    if (!ret && level == SOL_SOCKET && name == SO_REUSEADDR && value && len > 0)
    {
        on = len >= (int)sizeof(BOOL) ? *(const BOOL *)value != 0 : *value != 0;
        sockets_update( s, on ? SOCKET_REUSEADDR : 0, on ? 0 : SOCKET_REUSEADDR );
    }
    return ret;
}

/***********************************************************************
 *      bind		(WS2_32.2)
 */
int WINAPI bind( SOCKET s, const struct sockaddr *addr, int len )
{
    struct socket_info info;
    int ret;

    sockets_get_for_bind( s, &info );
    ret = bind_socket( s, &info, addr, len );
    if (!ret && !(info.flags & SOCKET_BOUND)) sockets_update( s, SOCKET_BOUND, 0 );
    return ret;
}

/***********************************************************************
 *      connect		(WS2_32.4)
 */
int WINAPI connect( SOCKET s, const struct sockaddr *addr, int len )
{
    implicit_bind( s, addr, len, FALSE );
    return real.connect( s, addr, len );
}

/***********************************************************************
 *      WSAConnect		(WS2_32.41)
 */
int WINAPI WSAConnect( SOCKET s, const struct sockaddr *addr, int len, WSABUF *caller_data, WSABUF *callee_data,
                       QOS *sqos, QOS *gqos )
{
    implicit_bind( s, addr, len, FALSE );
    return real.WSAConnect( s, addr, len, caller_data, callee_data, sqos, gqos );
}

/***********************************************************************
 *      WSAConnectByNameA		(WS2_32.42)
 */
BOOL WINAPI WSAConnectByNameA( SOCKET s, char *node, char *service, DWORD *local_len,
                               struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                               connect_timeout timeout, WSAOVERLAPPED *reserved )
{
    implicit_bind( s, NULL, 0, FALSE );
    return real.WSAConnectByNameA( s, node, service, local_len, local, remote_len, remote, timeout, reserved );
}

/***********************************************************************
 *      WSAConnectByNameW		(WS2_32.43)
 */
BOOL WINAPI WSAConnectByNameW( SOCKET s, WCHAR *node, WCHAR *service, DWORD *local_len,
                               struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                               connect_timeout timeout, WSAOVERLAPPED *reserved )
{
    implicit_bind( s, NULL, 0, FALSE );
    return real.WSAConnectByNameW( s, node, service, local_len, local, remote_len, remote, timeout, reserved );
}

/***********************************************************************
 *      sendto		(WS2_32.20)
 */
int WINAPI sendto( SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int to_len )
{
    if (to) implicit_bind( s, to, to_len, TRUE );
    return real.sendto( s, buf, len, flags, to, to_len );
}

/***********************************************************************
 *      WSASendTo		(WS2_32.90)
 */
int WINAPI WSASendTo( SOCKET s, WSABUF *buffers, DWORD count, DWORD *sent, DWORD flags, const struct sockaddr *to,
                      int to_len, WSAOVERLAPPED *overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    if (to) implicit_bind( s, to, to_len, TRUE );
    return real.WSASendTo( s, buffers, count, sent, flags, to, to_len, overlapped, completion );
}

/***********************************************************************
 *      WSASendMsg		(WS2_32.89)
 */
int WINAPI WSASendMsg( SOCKET s, WSAMSG *msg, DWORD flags, DWORD *sent, WSAOVERLAPPED *overlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    if (msg && !IsBadReadPtr( msg, sizeof(*msg) ) && msg->name)
        implicit_bind( s, msg->name, msg->namelen, TRUE );
    return real.WSASendMsg( s, msg, flags, sent, overlapped, completion );
}

/***********************************************************************
 *      closesocket		(WS2_32.3)
 *
 * When the socket acquired or associated here, its
 * reservations go at once once the socket has ended: the server looks for
 * itself whether it has, since another handle of it may live, here or in
 * another process; ends that the proxy does not see (CloseHandle, a CRT
 * _close) the server finds without us.  A handle of a socket that Wine's
 * ws2_32 does not know (Wine 8.0 and 10.0 answer WSAENOTSOCK for a
 * DuplicateHandle copy or an inherited handle) is closed, as Windows does.
 */
int WINAPI closesocket( SOCKET s )
{
    struct bridge_request_params call;
    struct socket_closed_request *req = BRIDGE_REQUEST( &call, socket_closed );
    DWORD error;
    int ret;

    /* before the handle goes, so that a new socket reusing it starts clean */
    if (sockets_remove( s ) & SOCKET_RESERVATION) req->socket = socket_id( s, NULL );
    ret = real.closesocket( s );
    error = GetLastError();
    if (ret && error == WSAENOTSOCK && (req->socket || (req->socket = socket_id( s, NULL ))) &&
        CloseHandle( (HANDLE)s ))
    {
        ret = 0;
        error = 0;
    }
    if (!ret && req->socket && !server_request( &call ))
        TRACE( "socket %#Ix: %u reservations released\n", s, call.reply.socket_closed_reply.released );
    SetLastError( error );
    return ret;
}
