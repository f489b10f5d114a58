/*
 * holdres.exe: a helper of netsh_test.sh that holds a runtime port
 * reservation, so that the test can see how netsh shows and treats one.
 *
 *   holdres START COUNT STOPFILE
 *
 * Reserves TCP ports START..START+COUNT-1 with SIO_ACQUIRE_PORT_RESERVATION,
 * prints "acquired" (or "failed N"), and keeps the reservation until the
 * file STOPFILE exists (a Windows path) or a minute has passed.
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

#include <stdio.h>
#include <stdlib.h>

#include <winsock2.h>
#include <windows.h>

#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION 0x98000064
#endif

/* INET_PORT_RANGE and INET_PORT_RESERVATION_INSTANCE */
struct port_range
{
    USHORT start;           /* network order */
    USHORT count;
};

struct port_instance
{
    USHORT  start;          /* network order */
    USHORT  count;
    ULONG   pad;
    ULONG64 token;
};

int main( int argc, char *argv[] )
{
    struct port_instance instance;
    struct port_range range;
    WSADATA data;
    SOCKET s;
    DWORD size;
    int i;

    if (argc != 4)
    {
        fprintf( stderr, "usage: holdres START COUNT STOPFILE\n" );
        return 2;
    }
    if (WSAStartup( MAKEWORD( 2, 2 ), &data ) ||
        (s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )) == INVALID_SOCKET)
    {
        printf( "failed %d\n", WSAGetLastError() );
        return 1;
    }
    range.start = htons( atoi( argv[1] ) );
    range.count = atoi( argv[2] );
    if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &instance, sizeof(instance),
                  &size, NULL, NULL ))
    {
        printf( "failed %d\n", WSAGetLastError() );
        return 1;
    }
    printf( "acquired\n" );
    fflush( stdout );
    for (i = 0; i < 600 && GetFileAttributesA( argv[3] ) == INVALID_FILE_ATTRIBUTES; i++) Sleep( 100 );
    closesocket( s );
    WSACleanup();
    return 0;
}
