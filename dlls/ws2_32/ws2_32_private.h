/*
 * Internal declarations of the proxy ws2_32.dll
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

#ifndef __WS2_32_PRIVATE_H
#define __WS2_32_PRIVATE_H

#include "portres/protocol.h"

/* what the proxy calls in Wine's builtin ws2_32 */
/* WSAConnectByNameA/W's timeout, as the SDK headers the proxy is built with
 * declare it (configure checks which) */
#ifdef HAVE_CONST_TIMEVAL_CONNECT_BY_NAME
typedef const TIMEVAL *connect_timeout;
#else
typedef const PTIMEVAL connect_timeout;
#endif

struct ws2_32_funcs
{
    int (WINAPI *WSAStartup)( WORD version, WSADATA *data );
    int (WINAPI *WSACleanup)( void );
    int (WINAPI *WSAIoctl)( SOCKET s, DWORD code, void *in_buffer, DWORD in_size, void *out_buffer,
                            DWORD out_size, DWORD *ret_size, WSAOVERLAPPED *overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );
    int (WINAPI *bind)( SOCKET s, const struct sockaddr *addr, int len );
    int (WINAPI *closesocket)( SOCKET s );
    int (WINAPI *getsockopt)( SOCKET s, int level, int name, char *value, int *len );
    int (WINAPI *getsockname)( SOCKET s, struct sockaddr *addr, int *len );
    int (WINAPI *setsockopt)( SOCKET s, int level, int name, const char *value, int len );
    SOCKET (WINAPI *socket)( int family, int type, int protocol );
    SOCKET (WINAPI *WSASocketA)( int family, int type, int protocol, WSAPROTOCOL_INFOA *info, GROUP group,
                                 DWORD flags );
    SOCKET (WINAPI *WSASocketW)( int family, int type, int protocol, WSAPROTOCOL_INFOW *info, GROUP group,
                                 DWORD flags );
    int (WINAPI *connect)( SOCKET s, const struct sockaddr *addr, int len );
    int (WINAPI *WSAConnect)( SOCKET s, const struct sockaddr *addr, int len, WSABUF *caller_data,
                              WSABUF *callee_data, QOS *sqos, QOS *gqos );
    BOOL (WINAPI *WSAConnectByNameA)( SOCKET s, char *node, char *service, DWORD *local_len,
                                      struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                      connect_timeout timeout, WSAOVERLAPPED *reserved );
    BOOL (WINAPI *WSAConnectByNameW)( SOCKET s, WCHAR *node, WCHAR *service, DWORD *local_len,
                                      struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                      connect_timeout timeout, WSAOVERLAPPED *reserved );
    int (WINAPI *sendto)( SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int to_len );
    int (WINAPI *WSASendTo)( SOCKET s, WSABUF *buffers, DWORD count, DWORD *sent, DWORD flags,
                             const struct sockaddr *to, int to_len, WSAOVERLAPPED *overlapped,
                             LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );
    int (WINAPI *WSASendMsg)( SOCKET s, WSAMSG *msg, DWORD flags, DWORD *sent, WSAOVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );
};

extern struct ws2_32_funcs real;

/* ports travel in network order; the proxy cannot import ntohs from itself */
static inline USHORT swap_port( USHORT port )
{
    return (port >> 8) | (port << 8);
}
extern LONG startup_count;

/* Who calls whom, never back: socket.c (the exports that create, bind,
 * connect, send on and close sockets) calls bind.c (the bind decision),
 * which calls sockinfo.c (what is known of each socket), which calls
 * server.c (the server's map and requests); ioctl.c (WSAIoctl) calls
 * sockinfo.c and server.c; main.c's "real" serves them all. */

struct bridge_request_params;
struct portres_map;

/* server.c: the reservation server, its map and its requests */
extern const struct portres_map *reserved_map( void );
extern BOOL range_has_reserved( const struct portres_map *map, unsigned int protocol );
extern unsigned int pick_port( const struct portres_map *map, unsigned int protocol );
extern int status_to_wsa( NTSTATUS status );
extern int server_request( struct bridge_request_params *call );

/* sockinfo.c: what the proxy knows of each socket */
#define SOCKET_PROTO_OTHER  0xff    /* neither TCP nor UDP over IP: no ports to reserve */

#define SOCKET_KNOWN        0x01    /* protocol, family and SO_REUSEADDR are known */
#define SOCKET_BOUND        0x02    /* known to be bound */
#define SOCKET_REUSEADDR    0x04    /* SO_REUSEADDR is set */
#define SOCKET_RESERVATION  0x08    /* the server holds state for it: acquired or associated */

struct socket_info
{
    BYTE protocol;                  /* PORTRES_PROTO_*, SOCKET_PROTO_OTHER, 0 when not known */
    BYTE family;                    /* AF_INET, AF_INET6, 0 when not known */
    BYTE flags;
};

extern void sockets_created( SOCKET s, int family, int type, int protocol );
extern void sockets_update( SOCKET s, unsigned int set, unsigned int clear );
extern BOOL sockets_get( SOCKET s, struct socket_info *info );
extern int sockets_lookup( SOCKET s, struct socket_info *info );
extern void sockets_get_for_bind( SOCKET s, struct socket_info *info );
extern unsigned int sockets_remove( SOCKET s );
/* what the server calls a socket, 0 when it is none; *error (optional) gets the WSA error */
extern portres_socket_t socket_id( SOCKET s, int *error );

/* bind.c: the bind decision, for bind and the binds of connect, sendto and the like */
extern int bind_socket( SOCKET s, struct socket_info *info, const struct sockaddr *addr, int len );
extern void implicit_bind( SOCKET s, const struct sockaddr *dest, int dest_len, BOOL datagram_only );

/* socket.c: the socket exports that ioctl.c hands out */
extern int WINAPI WSASendMsg( SOCKET s, WSAMSG *msg, DWORD flags, DWORD *sent, WSAOVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );

#endif /* __WS2_32_PRIVATE_H */
