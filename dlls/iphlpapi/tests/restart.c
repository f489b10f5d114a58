/*
 * Persistent port reservations across a restart of the reservation server
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
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301, USA
 */

/*
 * This project's own check, not a conformance test: nothing restarts on
 * Windows.  tests/run-tests runs "restart create FILE", restarts the
 * server, then "restart check FILE", which finds the reservations with
 * their tokens, binds in them and deletes them.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <windef.h>
#include <winbase.h>
#include <iphlpapi.h>

#include "wine/test.h"

/* away from the conformance unit's candidates */
#define RESTART_PORT_FIRST  45000
#define RESTART_PORT_STRIDE 16

struct protocol
{
    const char *name;
    int type;
    ULONG (WINAPI *create)( USHORT, USHORT, ULONG64 * );
    ULONG (WINAPI *delete)( USHORT, USHORT );
    ULONG (WINAPI *lookup)( USHORT, USHORT, ULONG64 * );
};

static const struct protocol protocols[] =
{
    { "tcp", SOCK_STREAM, CreatePersistentTcpPortReservation, DeletePersistentTcpPortReservation,
      LookupPersistentTcpPortReservation },
    { "udp", SOCK_DGRAM, CreatePersistentUdpPortReservation, DeletePersistentUdpPortReservation,
      LookupPersistentUdpPortReservation },
};

static void restart_create( const char *path )
{
    ULONG err = ERROR_SHARING_VIOLATION;
    unsigned int i, slot;
    ULONG64 token;
    USHORT start;
    FILE *file;

    file = fopen( path, "w" );
    ok( file != NULL, "cannot write %s\n", path );
    if (!file) return;
    for (i = 0; i < ARRAY_SIZE(protocols); i++)
    {
        for (slot = 0, err = ERROR_SHARING_VIOLATION; slot < 32 && err == ERROR_SHARING_VIOLATION; slot++)
        {
            start = RESTART_PORT_FIRST + slot * RESTART_PORT_STRIDE;
            err = protocols[i].create( htons( start ), 4, &token );
        }
        ok( !err, "%s: create failed: %lu\n", protocols[i].name, err );
        if (!err) fprintf( file, "%u %u %08lx%08lx\n", i, start, (ULONG)(token >> 32), (ULONG)token );
    }
    fclose( file );
}

/* binds a socket associated with token; returns the port or 0 */
static USHORT bind_associated( int type, ULONG64 token )
{
    SOCKET s = socket( AF_INET, type, 0 );
    struct sockaddr_in addr;
    int len = sizeof(addr);
    DWORD size;
    int ret;

    ret = WSAIoctl( s, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &size, NULL, NULL );
    ok( !ret, "associate failed, error %d\n", WSAGetLastError() );
    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    ret = bind( s, (struct sockaddr *)&addr, sizeof(addr) );
    ok( !ret, "bind failed, error %d\n", WSAGetLastError() );
    ret = getsockname( s, (struct sockaddr *)&addr, &len );
    closesocket( s );
    return ret ? 0 : ntohs( addr.sin_port );
}

static void restart_check( const char *path )
{
    unsigned int i, start, found = 0;
    ULONG64 token, token2;
    char token_str[32];
    USHORT port;
    FILE *file;
    ULONG err;

    file = fopen( path, "r" );
    ok( file != NULL, "cannot read %s\n", path );
    if (!file) return;
    while (fscanf( file, "%u %u %31s", &i, &start, token_str ) == 3 && i < ARRAY_SIZE(protocols))
    {
        const struct protocol *p = &protocols[i];

        winetest_push_context( "%s", p->name );
        found++;
        token = _strtoui64( token_str, NULL, 16 );
        err = p->lookup( htons( start ), 4, &token2 );
        ok( !err, "lookup after the restart: got %lu\n", err );
        ok( token2 == token, "the token changed across the restart\n" );
        port = bind_associated( p->type, token );
        ok( port >= start && port < start + 4, "got port %u, reservation %u-%u\n", port, start, start + 3 );
        err = p->delete( htons( start ), 4 );
        ok( !err, "delete failed: %lu\n", err );
        winetest_pop_context();
    }
    fclose( file );
    ok( found == ARRAY_SIZE(protocols), "found %u reservations in %s\n", found, path );
}

START_TEST(restart)
{
    WSADATA data;
    char **argv;
    int argc, ret;

    argc = winetest_get_mainargs( &argv );
    ret = WSAStartup( MAKEWORD(2, 2), &data );
    ok( !ret, "WSAStartup failed, error %d\n", ret );
    if (ret) return;
    if (argc >= 4 && !strcmp( argv[2], "create" )) restart_create( argv[3] );
    else if (argc >= 4 && !strcmp( argv[2], "check" )) restart_check( argv[3] );
    else skip( "run by tests/run-tests only: restart create|check FILE\n" );
    WSACleanup();
}
