/*
 * Tests of the persistent port reservation functions of iphlpapi
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <windef.h>
#include <winbase.h>

#include "wine/test.h"

static ULONG (WINAPI *pCreatePersistentTcpPortReservation)( USHORT, USHORT, ULONG64 * );
static ULONG (WINAPI *pCreatePersistentUdpPortReservation)( USHORT, USHORT, ULONG64 * );
static ULONG (WINAPI *pDeletePersistentTcpPortReservation)( USHORT, USHORT );
static ULONG (WINAPI *pDeletePersistentUdpPortReservation)( USHORT, USHORT );
static ULONG (WINAPI *pLookupPersistentTcpPortReservation)( USHORT, USHORT, ULONG64 * );
static ULONG (WINAPI *pLookupPersistentUdpPortReservation)( USHORT, USHORT, ULONG64 * );

/* Candidates for persistent ranges: away from the ws2_32 tests' ranges and
 * from Windows' dynamic range */
#define TEST_PORT_FIRST   46000
#define TEST_PORT_STRIDE  64
#define TEST_PORT_SLOTS   40

/* the functions of a protocol */
struct persistent_funcs
{
    const char *name;
    int type;
    ULONG (WINAPI *create)( USHORT, USHORT, ULONG64 * );
    ULONG (WINAPI *delete)( USHORT, USHORT );
    ULONG (WINAPI *lookup)( USHORT, USHORT, ULONG64 * );
};

static struct persistent_funcs funcs[2];

static BOOL init_functions(void)
{
    HMODULE module = LoadLibraryA( "iphlpapi.dll" );

#define GET(name) p##name = (void *)GetProcAddress( module, #name )
    GET( CreatePersistentTcpPortReservation );
    GET( CreatePersistentUdpPortReservation );
    GET( DeletePersistentTcpPortReservation );
    GET( DeletePersistentUdpPortReservation );
    GET( LookupPersistentTcpPortReservation );
    GET( LookupPersistentUdpPortReservation );
#undef GET
    /* Windows has them since Vista */
    if (!pCreatePersistentTcpPortReservation || !pCreatePersistentUdpPortReservation ||
        !pDeletePersistentTcpPortReservation || !pDeletePersistentUdpPortReservation ||
        !pLookupPersistentTcpPortReservation || !pLookupPersistentUdpPortReservation)
    {
        win_skip( "no persistent port reservations in iphlpapi\n" );
        return FALSE;
    }
    funcs[0].name = "tcp";
    funcs[0].type = SOCK_STREAM;
    funcs[0].create = pCreatePersistentTcpPortReservation;
    funcs[0].delete = pDeletePersistentTcpPortReservation;
    funcs[0].lookup = pLookupPersistentTcpPortReservation;
    funcs[1].name = "udp";
    funcs[1].type = SOCK_DGRAM;
    funcs[1].create = pCreatePersistentUdpPortReservation;
    funcs[1].delete = pDeletePersistentUdpPortReservation;
    funcs[1].lookup = pLookupPersistentUdpPortReservation;
    return TRUE;
}

static BOOL start_child( const char *args, PROCESS_INFORMATION *pi, HANDLE token )
{
    STARTUPINFOA si;
    char **argv;
    char cmdline[MAX_PATH + 128];
    BOOL ret;

    winetest_get_mainargs( &argv );
    snprintf( cmdline, sizeof(cmdline), "\"%s\" persistent %s", argv[0], args );
    memset( &si, 0, sizeof(si) );
    si.cb = sizeof(si);
    if (token)
    {
        HANDLE primary;

        /* an identification token of an elevated one, on Windows */
        if (!DuplicateTokenEx( token, MAXIMUM_ALLOWED, NULL, SecurityImpersonation, TokenPrimary, &primary ))
            return FALSE;
        ret = CreateProcessAsUserA( primary, NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi );
        CloseHandle( primary );
    }
    else
    {
        ret = CreateProcessA( NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi );
        ok( ret, "CreateProcess failed, error %lu\n", GetLastError() );
    }
    return ret;
}

static void finish_child( PROCESS_INFORMATION *pi )
{
    wait_child_process( pi->hProcess );
    CloseHandle( pi->hProcess );
    CloseHandle( pi->hThread );
}

/* Section A: arguments, and what a process without elevation may not do */

static void test_invalid(void)
{
    ULONG64 token;
    unsigned int i;
    ULONG err;

    err = pCreatePersistentTcpPortReservation( 0, 4, &token );
    ok( err == ERROR_INVALID_PARAMETER, "start 0: got %lu\n", err );
    if (err != ERROR_INVALID_PARAMETER) return;

    for (i = 0; i < ARRAY_SIZE(funcs); i++)
    {
        const struct persistent_funcs *f = &funcs[i];

        winetest_push_context( "%s", f->name );
        err = f->create( 0, 4, &token );
        ok( err == ERROR_INVALID_PARAMETER, "start 0: got %lu\n", err );
        err = f->create( htons( 47000 ), 0, &token );
        ok( err == ERROR_INVALID_PARAMETER, "count 0: got %lu\n", err );
        err = f->create( htons( 65535 ), 2, &token );
        ok( err == ERROR_INVALID_PARAMETER, "past 65535: got %lu\n", err );
        err = f->create( htons( 47000 ), 4, NULL );
        ok( err == ERROR_INVALID_PARAMETER, "NULL token: got %lu\n", err );
        err = f->lookup( 0, 4, &token );
        ok( err == ERROR_INVALID_PARAMETER, "lookup start 0: got %lu\n", err );
        err = f->lookup( htons( 47000 ), 0, &token );
        ok( err == ERROR_INVALID_PARAMETER, "lookup count 0: got %lu\n", err );
        err = f->lookup( htons( 47000 ), 4, NULL );
        ok( err == ERROR_INVALID_PARAMETER, "lookup NULL token: got %lu\n", err );
        err = f->delete( 0, 4 );
        ok( err == ERROR_INVALID_PARAMETER, "delete start 0: got %lu\n", err );
        err = f->delete( htons( 65535 ), 2 );
        ok( err == ERROR_INVALID_PARAMETER, "delete past 65535: got %lu\n", err );
        winetest_pop_context();
    }
}

/* whether this process's token is elevated; *linked gets the other token
 * of an administrator's pair (the limited one of an elevated token, the
 * elevated one of a limited token), or NULL */
static BOOL process_elevated( HANDLE *linked )
{
    TOKEN_LINKED_TOKEN linked_token;
    TOKEN_ELEVATION elevation;
    HANDLE token;
    DWORD size;
    BOOL ret;

    *linked = NULL;
    ret = OpenProcessToken( GetCurrentProcess(), TOKEN_QUERY, &token );
    ok( ret, "OpenProcessToken failed, error %lu\n", GetLastError() );
    if (!ret) return FALSE;
    ret = GetTokenInformation( token, TokenElevation, &elevation, sizeof(elevation), &size );
    ok( ret, "GetTokenInformation failed, error %lu\n", GetLastError() );
    if (GetTokenInformation( token, TokenLinkedToken, &linked_token, sizeof(linked_token), &size ))
        *linked = linked_token.LinkedToken;
    CloseHandle( token );
    return ret && elevation.TokenIsElevated;
}

/* A limited process (Wine 9.0 and later start programs so, as Windows'
 * UAC does): changes are refused here, and the elevated cases run in a
 * child started with the elevated token linked to ours, as the "runas"
 * verb does.  Windows only gives a limited process an identification
 * token of it, which cannot start one: the test must then be started
 * elevated. */
static void test_limited( HANDLE elevated, BOOL child )
{
    PROCESS_INFORMATION pi;
    ULONG64 token = 0;
    unsigned int i;
    ULONG err;

    err = pCreatePersistentTcpPortReservation( htons( TEST_PORT_FIRST ), 4, &token );
    ok( err == ERROR_ACCESS_DENIED, "create: got %lu\n", err );
    if (!err) pDeletePersistentTcpPortReservation( htons( TEST_PORT_FIRST ), 4 );
    if (err != ERROR_ACCESS_DENIED) return;

    for (i = 0; i < ARRAY_SIZE(funcs); i++)
    {
        const struct persistent_funcs *f = &funcs[i];

        winetest_push_context( "%s", f->name );
        if (i)  /* TCP's was refused above */
        {
            err = f->create( htons( TEST_PORT_FIRST ), 4, &token );
            ok( err == ERROR_ACCESS_DENIED, "create: got %lu\n", err );
            if (!err) f->delete( htons( TEST_PORT_FIRST ), 4 );
        }
        err = f->delete( htons( TEST_PORT_FIRST ), 4 );
        ok( err == ERROR_ACCESS_DENIED, "delete: got %lu\n", err );
        winetest_pop_context();
    }

    if (child)
    {
        ok( 0, "the child started with the elevated token is not elevated\n" );
        return;
    }
    if (!elevated)
    {
        skip( "not elevated, and no elevated token: run the test elevated\n" );
        return;
    }
    /* the child, elevated, runs the tests */
    if (!start_child( "elevated", &pi, elevated ))
    {
        skip( "the elevated token cannot start a process: run the test elevated\n" );
        return;
    }
    finish_child( &pi );
}

/* Section B: the create, lookup and delete of a reservation */

static unsigned int next_slot;

/* Creates a persistent reservation of count ports somewhere among the
 * candidates; another program may hold any one.  Returns the last error. */
static ULONG create_free_range( const struct persistent_funcs *f, USHORT count, USHORT *start, ULONG64 *token )
{
    ULONG err = ERROR_SHARING_VIOLATION;
    unsigned int i;

    for (i = 0; i < 20 && err == ERROR_SHARING_VIOLATION; i++)
    {
        *start = TEST_PORT_FIRST + (next_slot++ % TEST_PORT_SLOTS) * TEST_PORT_STRIDE;
        *token = 0;
        err = f->create( htons( *start ), count, token );
    }
    return err;
}

/* the checks of a reservation of 8 ports at start, which they delete */
static void check_create_lookup_delete( const struct persistent_funcs *f, const struct persistent_funcs *other,
                                        USHORT start, ULONG64 token )
{
    ULONG64 token2 = 0;
    ULONG err;

    winetest_push_context( "%s", f->name );
    ok( token != 0, "got token 0\n" );
    err = f->lookup( htons( start ), 8, &token2 );
    ok( !err, "lookup failed: %lu\n", err );
    ok( token2 == token, "lookup gave another token\n" );
    err = f->lookup( htons( start ), 7, &token2 );
    ok( err == ERROR_NOT_FOUND, "lookup with another count: got %lu\n", err );
    err = f->lookup( htons( start + 1 ), 7, &token2 );
    ok( err == ERROR_NOT_FOUND, "lookup with another start: got %lu\n", err );

    err = f->create( htons( start + 4 ), 8, &token2 );
    ok( err == ERROR_SHARING_VIOLATION, "overlapping create: got %lu\n", err );
    err = f->create( htons( start ), 8, &token2 );
    ok( err == ERROR_SHARING_VIOLATION, "same create again: got %lu\n", err );

    /* the other protocol is apart */
    err = other->lookup( htons( start ), 8, &token2 );
    ok( err == ERROR_NOT_FOUND, "lookup in the other protocol: got %lu\n", err );
    err = other->create( htons( start ), 8, &token2 );
    ok( !err, "the same range in the other protocol: got %lu\n", err );
    if (!err)
    {
        ok( token2 != token, "both protocols got the same token\n" );
        err = other->delete( htons( start ), 8 );
        ok( !err, "delete in the other protocol: got %lu\n", err );
    }

    err = f->delete( htons( start ), 4 );
    ok( err == ERROR_NOT_FOUND, "delete with another count: got %lu\n", err );
    err = f->delete( htons( start ), 8 );
    ok( !err, "delete failed: %lu\n", err );
    err = f->lookup( htons( start ), 8, &token2 );
    ok( err == ERROR_NOT_FOUND, "lookup after delete: got %lu\n", err );
    err = f->delete( htons( start ), 8 );
    ok( err == ERROR_NOT_FOUND, "second delete: got %lu\n", err );
    winetest_pop_context();
}

static void test_create_lookup_delete(void)
{
    ULONG64 token;
    USHORT start;
    ULONG err;

    err = create_free_range( &funcs[0], 8, &start, &token );
    ok( !err, "create failed: %lu\n", err );
    if (err) return;
    check_create_lookup_delete( &funcs[0], &funcs[1], start, token );

    err = create_free_range( &funcs[1], 8, &start, &token );
    ok( !err, "udp: create failed: %lu\n", err );
    if (!err) check_create_lookup_delete( &funcs[1], &funcs[0], start, token );
}

/* Section C: ports in use and runtime reservations */

/* INET_PORT_RESERVATION_INSTANCE, with named members */
struct test_port_instance
{
    USHORT StartPort;       /* network byte order */
    USHORT NumberOfPorts;
    ULONG Padding;
    ULONG64 Token;
};

static SOCKET create_socket( int family, int type )
{
    return socket( family, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP );
}

static USHORT local_port( SOCKET s )
{
    struct sockaddr_in addr;
    int len = sizeof(addr);

    if (getsockname( s, (struct sockaddr *)&addr, &len )) return 0;
    return ntohs( addr.sin_port );
}

static int bind_port( SOCKET s, USHORT port )
{
    struct sockaddr_in addr;

    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_port = htons( port );
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    return bind( s, (struct sockaddr *)&addr, sizeof(addr) ) ? WSAGetLastError() : 0;
}

/* a port in use, or held by a runtime reservation, cannot be reserved */
static void check_sharing_violation( const struct persistent_funcs *f, USHORT start )
{
    struct test_port_instance inst;
    INET_PORT_RANGE range;
    ULONG64 token;
    USHORT port;
    DWORD size;
    SOCKET s;
    ULONG err;
    int ret;

    winetest_push_context( "%s", f->name );
    /* a runtime reservation of the range that was free: created over */
    s = create_socket( AF_INET, f->type );
    range.StartPort = htons( start );
    range.NumberOfPorts = 4;
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &size, NULL, NULL );
    ok( !ret, "acquire failed, error %d\n", WSAGetLastError() );
    err = f->create( htons( start + 2 ), 4, &token );
    ok( err == ERROR_SHARING_VIOLATION, "over a runtime reservation: got %lu\n", err );
    if (!err) f->delete( htons( start + 2 ), 4 );
    closesocket( s );

    /* a bound port */
    s = create_socket( AF_INET, f->type );
    ret = bind_port( s, 0 );
    ok( !ret, "bind failed, error %d\n", ret );
    port = local_port( s );
    err = f->create( htons( port ), 1, &token );
    ok( err == ERROR_SHARING_VIOLATION, "port %u in use: got %lu\n", port, err );
    if (!err) f->delete( htons( port ), 1 );
    closesocket( s );
    winetest_pop_context();
}

static void test_sharing_violation(void)
{
    unsigned int i;
    ULONG64 token;
    USHORT start;
    ULONG err;

    /* ranges free of persistent reservations, given back at once */
    err = create_free_range( &funcs[0], 4, &start, &token );
    ok( !err, "create failed: %lu\n", err );
    if (err) return;
    for (i = 0; i < ARRAY_SIZE(funcs); i++)
    {
        if (i)
        {
            err = create_free_range( &funcs[i], 4, &start, &token );
            ok( !err, "%s: create failed: %lu\n", funcs[i].name, err );
            if (err) continue;
        }
        err = funcs[i].delete( htons( start ), 4 );
        ok( !err, "%s: delete failed: %lu\n", funcs[i].name, err );
        check_sharing_violation( &funcs[i], start );
    }
}

/* Section D: association, by another process and without elevation */

static int associate( SOCKET s, ULONG64 token )
{
    DWORD size = 0xdeadbeef;
    return WSAIoctl( s, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &size, NULL, NULL )
           ? WSAGetLastError() : 0;
}

/* child: associate a socket with a persistent token of another process and bind */
static void child_associate( const char *type_arg, const char *start_arg, const char *token_arg )
{
    int type = atoi( type_arg );
    USHORT start = (USHORT)atoi( start_arg ), port;
    ULONG64 token = _strtoui64( token_arg, NULL, 16 );
    SOCKET s;
    int err;

    s = create_socket( AF_INET, type );
    err = associate( s, token );
    ok( !err, "associate failed, error %d\n", err );
    err = bind_port( s, 0 );
    ok( !err, "bind failed, error %d\n", err );
    port = local_port( s );
    ok( port >= start && port < start + 4, "got port %u, reservation %u-%u\n", port, start, start + 3 );
    closesocket( s );
}

static void test_associate_other_process(void)
{
    PROCESS_INFORMATION pi;
    char args[128];
    unsigned int i;
    ULONG64 token;
    USHORT start;
    ULONG err;

    err = create_free_range( &funcs[0], 4, &start, &token );
    ok( !err, "create failed: %lu\n", err );
    if (err) return;
    for (i = 0; i < ARRAY_SIZE(funcs); i++)
    {
        const struct persistent_funcs *f = &funcs[i];

        winetest_push_context( "%s", f->name );
        if (i)
        {
            err = create_free_range( f, 4, &start, &token );
            ok( !err, "create failed: %lu\n", err );
        }
        if (!err)
        {
            sprintf( args, "associate %d %u %08lx%08lx", f->type, start, (ULONG)(token >> 32), (ULONG)token );
            if (start_child( args, &pi, NULL )) finish_child( &pi );
            err = f->delete( htons( start ), 4 );
            ok( !err, "delete failed: %lu\n", err );
        }
        winetest_pop_context();
    }
}

/* child without elevation: reading is allowed, changing is not, and a
 * persistent reservation cannot be associated */
static void child_not_elevated( const char *start_arg )
{
    USHORT start = (USHORT)atoi( start_arg );
    HANDLE linked = NULL;
    ULONG64 token;
    ULONG err;
    SOCKET s;
    int ret;

    ok( !process_elevated( &linked ), "the child is elevated\n" );
    if (linked) CloseHandle( linked );
    err = pCreatePersistentTcpPortReservation( htons( start + 8 ), 4, &token );
    ok( err == ERROR_ACCESS_DENIED, "create: got %lu\n", err );
    if (!err) pDeletePersistentTcpPortReservation( htons( start + 8 ), 4 );
    err = pDeletePersistentTcpPortReservation( htons( start ), 4 );
    ok( err == ERROR_ACCESS_DENIED, "delete: got %lu\n", err );
    err = pLookupPersistentTcpPortReservation( htons( start ), 4, &token );
    ok( !err, "lookup: got %lu\n", err );
    if (err) return;
    s = create_socket( AF_INET, SOCK_STREAM );
    ret = associate( s, token );
    ok( ret == WSAEACCES, "associate: got error %d\n", ret );
    closesocket( s );
}

/* an elevated process: the limited token's cases in a child */
static void test_not_elevated( HANDLE limited )
{
    PROCESS_INFORMATION pi;
    ULONG64 reservation;
    char args[64];
    USHORT start;
    ULONG err;

    err = create_free_range( &funcs[0], 4, &start, &reservation );
    ok( !err, "create failed: %lu\n", err );
    if (err) return;
    if (limited)
    {
        sprintf( args, "not_elevated %u", start );
        if (start_child( args, &pi, limited )) finish_child( &pi );
    }
    else skip( "no limited token: the cases without elevation cannot run\n" );
    err = pDeletePersistentTcpPortReservation( htons( start ), 4 );
    ok( !err, "delete failed: %lu\n", err );
}

START_TEST(persistent)
{
    HANDLE linked = NULL;
    WSADATA data;
    char **argv;
    int argc, ret;

    argc = winetest_get_mainargs( &argv );
    if (!init_functions()) return;
    ret = WSAStartup( MAKEWORD(2, 2), &data );
    ok( !ret, "WSAStartup failed, error %d\n", ret );
    if (ret) return;

    if (argc >= 6 && !strcmp( argv[2], "associate" )) child_associate( argv[3], argv[4], argv[5] );
    else if (argc >= 4 && !strcmp( argv[2], "not_elevated" )) child_not_elevated( argv[3] );
    else if (!process_elevated( &linked )) test_limited( linked, argc >= 3 );
    else
    {
        test_invalid();
        test_create_lookup_delete();
        test_sharing_violation();
        test_associate_other_process();
        test_not_elevated( linked );
    }
    if (linked) CloseHandle( linked );
    WSACleanup();
}
