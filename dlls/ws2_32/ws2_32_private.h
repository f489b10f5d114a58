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

/* what the proxy calls in Wine's builtin ws2_32 */
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
};

extern struct ws2_32_funcs real;
extern LONG startup_count;

/* reservation.c */
extern int reservation_ioctl( SOCKET s, DWORD code, void *in_buffer, DWORD in_size, void *out_buffer,
                              DWORD out_size, DWORD *ret_size, WSAOVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion );
extern int reservation_bind( SOCKET s, const struct sockaddr *addr, int len, int *handled );
extern void reservation_socket_closed( SOCKET s );
extern int reservation_check_bind( SOCKET s, const struct sockaddr *addr, int len );

/* sockets.c: the sockets the server holds state for */
extern void sockets_add( SOCKET s );
extern BOOL sockets_remove( SOCKET s );
extern BOOL sockets_contains( SOCKET s );

#endif /* __WS2_32_PRIVATE_H */
