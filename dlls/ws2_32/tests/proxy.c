/*
 * Checks of the port reservation proxies that have no place in Wine's tests
 *
 * Not a conformance test.  These are regression checks of portres' own
 * machinery: the proxy ws2_32.dll as the module programs find, what the
 * proxy tracks per socket handle, binds it must leave alone, and
 * persistent reservations made with iphlpapi, which stay on the system if
 * the program dies midway (so never in the conformance test).  They hold
 * on Windows too.  tests/run-tests runs this program under portres-wine.
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
#include <mswsock.h>

#include "wine/test.h"
#include "portres/bridge.h"

/* The SDK declares INET_PORT_RESERVATION_INSTANCE with anonymous members in
 * C and named ones in C++, so the tests use a private structure with the
 * same layout instead: 16 bytes, the token at offset 8. */
struct test_port_instance
{
    USHORT StartPort;       /* network byte order */
    USHORT NumberOfPorts;
    ULONG Padding;
    ULONG64 Token;
};

C_ASSERT( sizeof(struct test_port_instance) == 16 );
C_ASSERT( sizeof(INET_PORT_RANGE) == 4 );
C_ASSERT( sizeof(INET_PORT_RESERVATION_TOKEN) == 8 );

/* Specific ranges are taken from here; it lies below the default dynamic
 * range, so that ordinary ephemeral binds rarely get in the way. */
#define TEST_PORT_FIRST     41000
#define TEST_PORT_LAST      45000
#define TEST_PORT_STRIDE    100

#define TEST_TOKEN_UNKNOWN  ((ULONG64)0x1234)

static const int families[] = { AF_INET, AF_INET6 };
static const int types[] = { SOCK_STREAM, SOCK_DGRAM };

static unsigned int next_candidate;

/* Helpers */

static const char *family_name( int family )
{
    return family == AF_INET6 ? "AF_INET6" : "AF_INET";
}

static const char *type_name( int type )
{
    return type == SOCK_STREAM ? "tcp" : "udp";
}

static SOCKET create_socket( int family, int type )
{
    return socket( family, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP );
}

static void close_socket( SOCKET s )
{
    if (s != INVALID_SOCKET) closesocket( s );
}

/* Returns 0 or the WSA error of the call. */
static int acquire_ports( SOCKET s, USHORT start, USHORT count, struct test_port_instance *inst, DWORD *size )
{
    INET_PORT_RANGE range;
    DWORD bytes = 0xdeadbeef;
    int ret;

    range.StartPort = htons( start );
    range.NumberOfPorts = count;
    memset( inst, 0, sizeof(*inst) );
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), inst, sizeof(*inst),
                    &bytes, NULL, NULL );
    if (size) *size = bytes;
    return ret ? WSAGetLastError() : 0;
}

/* Acquires a specific block of count ports somewhere between TEST_PORT_FIRST
 * and TEST_PORT_LAST; another program may hold any one candidate, so a few
 * are tried.  Returns 0 or the last WSA error; *start receives the port
 * asked for. */
static int acquire_free_range( SOCKET s, USHORT count, USHORT *start, struct test_port_instance *inst,
                               DWORD *size )
{
    unsigned int slots = (TEST_PORT_LAST - TEST_PORT_FIRST) / TEST_PORT_STRIDE;
    unsigned int i;
    int err = WSAEADDRINUSE;

    for (i = 0; i < 20 && err == WSAEADDRINUSE; i++)
    {
        *start = TEST_PORT_FIRST + (next_candidate++ % slots) * TEST_PORT_STRIDE;
        err = acquire_ports( s, *start, count, inst, size );
    }
    return err;
}

static int token_ioctl( SOCKET s, DWORD code, ULONG64 token, DWORD *size )
{
    INET_PORT_RESERVATION_TOKEN in;
    DWORD bytes = 0xdeadbeef;
    int ret;

    in.Token = token;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, code, &in, sizeof(in), NULL, 0, &bytes, NULL, NULL );
    if (size) *size = bytes;
    return ret ? WSAGetLastError() : 0;
}

static int release_token( SOCKET s, ULONG64 token, DWORD *size )
{
    return token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, token, size );
}

static int associate_token( SOCKET s, ULONG64 token, DWORD *size )
{
    return token_ioctl( s, SIO_ASSOCIATE_PORT_RESERVATION, token, size );
}

/* Binds s to the wildcard or the loopback address of its family; returns 0
 * or the WSA error. */
static int bind_port( SOCKET s, int family, BOOL loopback, USHORT port )
{
    struct sockaddr_in6 addr6;
    struct sockaddr_in addr;
    int ret;

    WSASetLastError( 0xdeadbeef );
    if (family == AF_INET6)
    {
        memset( &addr6, 0, sizeof(addr6) );
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons( port );
        if (loopback) addr6.sin6_addr.s6_addr[15] = 1;
        ret = bind( s, (struct sockaddr *)&addr6, sizeof(addr6) );
    }
    else
    {
        memset( &addr, 0, sizeof(addr) );
        addr.sin_family = AF_INET;
        addr.sin_port = htons( port );
        addr.sin_addr.s_addr = htonl( loopback ? INADDR_LOOPBACK : INADDR_ANY );
        ret = bind( s, (struct sockaddr *)&addr, sizeof(addr) );
    }
    return ret ? WSAGetLastError() : 0;
}

/* Returns the local port of s in host order, 0 when unknown. */
static USHORT local_port( SOCKET s )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    memset( &addr, 0, sizeof(addr) );
    if (getsockname( s, (struct sockaddr *)&addr, &len )) return 0;
    if (addr.ss_family == AF_INET6) return ntohs( ((struct sockaddr_in6 *)&addr)->sin6_port );
    return ntohs( ((struct sockaddr_in *)&addr)->sin_port );
}

/* Issues one of the three ioctls and expects it to fail with the given
 * error.  UNVERIFIED on Windows: a failed ioctl returns no bytes; the count
 * is set to 0, or left alone where ws2_32 fails the call before it reaches
 * the socket (no socket, not initialised, an invalid pointer). */
#define check_ioctl_error(a, b, c, d, e, f, g) check_ioctl_error_( __FILE__, __LINE__, a, b, c, d, e, f, g )
static void check_ioctl_error_( const char *file, int line, SOCKET s, DWORD code, void *in, DWORD in_size,
                                void *out, DWORD out_size, int expect )
{
    DWORD size = 0xdeadbeef;
    int ret, err;

    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, code, in, in_size, out, out_size, &size, NULL, NULL );
    err = WSAGetLastError();
    ok_(file, line)( ret == SOCKET_ERROR, "got %d\n", ret );
    ok_(file, line)( err == expect, "got error %d, expected %d\n", err, expect );
    ok_(file, line)( !size || size == 0xdeadbeef, "got size %lu\n", size );
}

/* Starts this test program again as "argv0 proxy <args>". */
/* a child running this test with args; with a token, as that token's user */
static BOOL start_child_as( const char *args, PROCESS_INFORMATION *pi, HANDLE token )
{
    HANDLE primary;
    STARTUPINFOA si;
    char **argv;
    char *cmdline;
    BOOL ret;

    winetest_get_mainargs( &argv );
    cmdline = HeapAlloc( GetProcessHeap(), 0, strlen( argv[0] ) + strlen( args ) + 32 );
    if (!cmdline) return FALSE;
    sprintf( cmdline, "\"%s\" proxy %s", argv[0], args );
    memset( &si, 0, sizeof(si) );
    si.cb = sizeof(si);
    if (!token) ret = CreateProcessA( NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi );
    /* Windows gives a limited process only an identification token of the
     * elevated one, which cannot start a process */
    else if ((ret = DuplicateTokenEx( token, MAXIMUM_ALLOWED, NULL, SecurityImpersonation, TokenPrimary, &primary )))
    {
        ret = CreateProcessAsUserA( primary, NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi );
        CloseHandle( primary );
    }
    if (!token) ok( ret, "CreateProcess failed, error %lu\n", GetLastError() );
    HeapFree( GetProcessHeap(), 0, cmdline );
    return ret;
}

static BOOL start_child( const char *args, PROCESS_INFORMATION *pi )
{
    return start_child_as( args, pi, NULL );
}

/* Collects the result of a child that exits by itself, and makes sure it is
 * gone even when it did not. */
static void finish_child( PROCESS_INFORMATION *pi )
{
    wait_child_process( pi->hProcess );
    if (WaitForSingleObject( pi->hProcess, 0 ) == WAIT_TIMEOUT)
    {
        TerminateProcess( pi->hProcess, 1 );
        WaitForSingleObject( pi->hProcess, 5000 );
    }
    CloseHandle( pi->hProcess );
    CloseHandle( pi->hThread );
}


/* Programs that never called WSAStartup get WSANOTINITIALISED */

static void check_not_socket( SOCKET s, int expect )
{
    struct test_port_instance inst;
    INET_PORT_RESERVATION_TOKEN token;
    INET_PORT_RANGE range;

    range.StartPort = htons( TEST_PORT_FIRST );
    range.NumberOfPorts = 1;
    token.Token = TEST_TOKEN_UNKNOWN;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), expect );
    check_ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, expect );
    check_ioctl_error( s, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, expect );
}


/* Runs in a child that never called WSAStartup. */
static void child_not_initialised(void)
{
    check_not_socket( (SOCKET)0xdeadbeef, WSANOTINITIALISED );
}

static void test_not_initialised(void)
{
    PROCESS_INFORMATION pi;

    if (!start_child( "noinit", &pi )) return;
    finish_child( &pi );
}

/* Explicit binds into a TCP runtime reservation at [start, start + count) by
 * sockets that are not associated with it: refused with WSAEACCES for TCP,
 * of both families; UDP sockets are not affected. */
static void check_explicit_binds( USHORT start, USHORT count )
{
    unsigned int i;
    SOCKET s;
    int err;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        winetest_push_context( "%s", family_name( families[i] ) );
        s = create_socket( families[i], SOCK_STREAM );
        err = bind_port( s, families[i], FALSE, start );
        ok( err == WSAEACCES, "bind to the first reserved port: got error %d\n", err );
        closesocket( s );
        s = create_socket( families[i], SOCK_STREAM );
        err = bind_port( s, families[i], TRUE, start + count - 1 );
        ok( err == WSAEACCES, "bind to the last reserved port: got error %d\n", err );
        closesocket( s );
        s = create_socket( families[i], SOCK_DGRAM );
        err = bind_port( s, families[i], TRUE, start );
        /* another program may hold the port; a refusal would be WSAEACCES */
        ok( err != WSAEACCES, "udp bind inside a tcp reservation: got error %d\n", err );
        closesocket( s );
        winetest_pop_context();
    }
}

/* Binds that leave the port to the system */

/* Wildcard blocks that take much of the dynamic range, where Windows takes
 * the ports of automatic binds from; Linux's range overlaps it as well. */
#define AUTO_BLOCKS     4
#define AUTO_BLOCK_SIZE 2048
#define AUTO_BINDS      300
#define IMPLICIT_BINDS  60

struct reserved_blocks
{
    SOCKET holder[ARRAY_SIZE(types)];
    USHORT start[ARRAY_SIZE(types)][AUTO_BLOCKS];
    unsigned int count[ARRAY_SIZE(types)];
};

static unsigned int type_index( int type )
{
    return type == SOCK_STREAM ? 0 : 1;
}

static BOOL reserve_blocks( struct reserved_blocks *blocks )
{
    struct test_port_instance inst;
    unsigned int i;
    DWORD size;
    int err = 0;

    memset( blocks, 0, sizeof(*blocks) );
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        blocks->holder[i] = create_socket( AF_INET, types[i] );
        while (blocks->count[i] < AUTO_BLOCKS)
        {
            if ((err = acquire_ports( blocks->holder[i], 0, AUTO_BLOCK_SIZE, &inst, &size ))) break;
            blocks->start[i][blocks->count[i]++] = ntohs( inst.StartPort );
        }
        ok( blocks->count[i] == AUTO_BLOCKS, "%s: %u blocks of %u ports, error %d\n", type_name( types[i] ),
            blocks->count[i], AUTO_BLOCK_SIZE, err );
        if (blocks->count[i])
            trace( "%s: blocks of %u ports from %u, %u, ...\n", type_name( types[i] ), AUTO_BLOCK_SIZE,
                   blocks->start[i][0], blocks->count[i] > 1 ? blocks->start[i][1] : 0 );
    }
    return blocks->count[0] == AUTO_BLOCKS && blocks->count[1] == AUTO_BLOCKS;
}

static void release_blocks( struct reserved_blocks *blocks )
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(types); i++) close_socket( blocks->holder[i] );
}

static BOOL in_blocks( const struct reserved_blocks *blocks, int type, USHORT port )
{
    unsigned int i, t = type_index( type );

    for (i = 0; i < blocks->count[t]; i++)
        if (port >= blocks->start[t][i] && port - blocks->start[t][i] < AUTO_BLOCK_SIZE) return TRUE;
    return FALSE;
}

/* Port-0 binds of ordinary sockets never get a reserved port, also when the
 * address length is that of a SOCKADDR_STORAGE, as many programs pass it. */
static void check_automatic_binds( const struct reserved_blocks *blocks, int family, int type )
{
    unsigned int i, failed = 0, landed = 0;
    struct sockaddr_storage addr;
    USHORT port;
    SOCKET s;
    int err;

    for (i = 0; i < AUTO_BINDS; i++)
    {
        s = create_socket( family, type );
        if (i % 2)
        {
            memset( &addr, 0, sizeof(addr) );
            addr.ss_family = family;
            err = bind( s, (struct sockaddr *)&addr, sizeof(addr) );
        }
        else err = bind_port( s, family, FALSE, 0 );
        if (err || !(port = local_port( s ))) failed++;
        else if (in_blocks( blocks, type, port )) landed++;
        closesocket( s );
    }
    ok( !failed, "%u of %u binds to port 0 failed\n", failed, AUTO_BINDS );
    ok( !landed, "%u of %u binds to port 0 got a reserved port\n", landed, AUTO_BINDS );
}

/* a loopback socket of the type bound to port 0, listening when it is TCP */
static SOCKET create_peer( int family, int type, struct sockaddr_storage *addr, int *len )
{
    SOCKET s = create_socket( family, type );

    *len = sizeof(*addr);
    if (bind_port( s, family, TRUE, 0 ) || (type == SOCK_STREAM && listen( s, SOMAXCONN )) ||
        getsockname( s, (struct sockaddr *)addr, len ))
    {
        ok( 0, "cannot set up a %s peer, error %d\n", type_name( type ), WSAGetLastError() );
        closesocket( s );
        return INVALID_SOCKET;
    }
    return s;
}

/* Calls that do not bind an unbound socket on Windows must not bind it here either. */
static void check_no_implicit_bind( int family )
{
    LPFN_CONNECTEX connect_ex = NULL;
    GUID guid = WSAID_CONNECTEX;
    struct sockaddr_storage addr;
    OVERLAPPED overlapped;
    DWORD size = 0;
    SOCKET peer, s;
    int len, ret;

    winetest_push_context( "%s", family_name( family ) );
    if ((peer = create_peer( family, SOCK_STREAM, &addr, &len )) == INVALID_SOCKET)
    {
        winetest_pop_context();
        return;
    }

    s = create_socket( family, SOCK_STREAM );
    WSASetLastError( 0xdeadbeef );
    ret = sendto( s, "x", 1, 0, (struct sockaddr *)&addr, len );
    ok( ret == SOCKET_ERROR, "tcp sendto: got %d\n", ret );
    todo_wine ok( WSAGetLastError() == WSAENOTCONN, "tcp sendto: got error %d\n", WSAGetLastError() );
    ok( !local_port( s ), "tcp sendto bound the socket to port %u\n", local_port( s ) );
    closesocket( s );

    s = create_socket( family, SOCK_STREAM );
    WSASetLastError( 0xdeadbeef );
    ret = listen( s, 1 );
    ok( ret == SOCKET_ERROR && WSAGetLastError() == WSAEINVAL, "listen: got %d, error %d\n", ret, WSAGetLastError() );
    ok( !local_port( s ), "listen bound the socket to port %u\n", local_port( s ) );
    closesocket( s );

    s = create_socket( family, SOCK_STREAM );
    ret = WSAIoctl( s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &connect_ex, sizeof(connect_ex),
                    &size, NULL, NULL );
    ok( !ret && connect_ex, "no ConnectEx, error %d\n", WSAGetLastError() );
    if (connect_ex)
    {
        memset( &overlapped, 0, sizeof(overlapped) );
        overlapped.hEvent = CreateEventA( NULL, TRUE, FALSE, NULL );
        WSASetLastError( 0xdeadbeef );
        ret = connect_ex( s, (struct sockaddr *)&addr, len, NULL, 0, NULL, &overlapped );
        ok( !ret && WSAGetLastError() == WSAEINVAL, "ConnectEx: got %d, error %d\n", ret, WSAGetLastError() );
        ok( !local_port( s ), "ConnectEx bound the socket to port %u\n", local_port( s ) );
        CloseHandle( overlapped.hEvent );
    }
    closesocket( s );
    closesocket( peer );
    winetest_pop_context();
}

static void test_no_implicit_bind(void)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(families); i++) check_no_implicit_bind( families[i] );
}

/* The binds of another process: its explicit bind into our runtime TCP
 * reservation is refused, its port-0 binds avoid our blocks. */
static void child_binds( int argc, char **argv )
{
    struct reserved_blocks blocks;
    unsigned int i, j;
    USHORT start;

    memset( &blocks, 0, sizeof(blocks) );
    start = (USHORT)atoi( argv[3] );
    for (i = 0; i < ARRAY_SIZE(types); i++)
        for (j = 0; j < AUTO_BLOCKS && 4 + i * AUTO_BLOCKS + j < (unsigned int)argc; j++)
            blocks.start[i][blocks.count[i]++] = (USHORT)atoi( argv[4 + i * AUTO_BLOCKS + j] );
    ok( blocks.count[0] == AUTO_BLOCKS && blocks.count[1] == AUTO_BLOCKS, "not all blocks were passed\n" );

    winetest_push_context( "child" );
    check_explicit_binds( start, 4 );
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            winetest_push_context( "%s %s", family_name( families[i] ), type_name( types[j] ) );
            check_automatic_binds( &blocks, families[i], types[j] );
            winetest_pop_context();
        }
    }
    winetest_pop_context();
}

static void test_other_process_binds(void)
{
    struct test_port_instance inst;
    struct reserved_blocks blocks;
    PROCESS_INFORMATION pi;
    char args[256];
    unsigned int i, j;
    USHORT start;
    DWORD size;
    SOCKET s;
    int err, pos;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err || !reserve_blocks( &blocks ))
    {
        if (!err) release_blocks( &blocks );
        closesocket( s );
        return;
    }
    pos = sprintf( args, "child_binds %u", start );
    for (i = 0; i < ARRAY_SIZE(types); i++)
        for (j = 0; j < AUTO_BLOCKS; j++) pos += sprintf( args + pos, " %u", blocks.start[i][j] );
    if (start_child( args, &pi )) finish_child( &pi );
    release_blocks( &blocks );
    closesocket( s );
}

/* A persistent reservation does not refuse explicit binds, but automatic
 * binds avoid it.  The test makes one with iphlpapi over the ports where
 * this system's automatic binds land, which takes an elevated process:
 * ERROR_ACCESS_DENIED when this one is not. */
static ULONG persistent_bind_cases(void)
{
    ULONG (WINAPI *pCreatePersistentTcpPortReservation)( USHORT, USHORT, ULONG64 * );
    ULONG (WINAPI *pDeletePersistentTcpPortReservation)( USHORT, USHORT );
    HMODULE iphlpapi = LoadLibraryA( "iphlpapi.dll" );
    unsigned int start = 0, count = AUTO_BLOCK_SIZE, i, attempt;
    ULONG err = ERROR_SHARING_VIOLATION;
    struct reserved_blocks blocks;
    ULONG64 token;
    USHORT port = 0;
    SOCKET s;
    int ret = 0;

    pCreatePersistentTcpPortReservation = (void *)GetProcAddress( iphlpapi, "CreatePersistentTcpPortReservation" );
    pDeletePersistentTcpPortReservation = (void *)GetProcAddress( iphlpapi, "DeletePersistentTcpPortReservation" );
    if (!pCreatePersistentTcpPortReservation || !pDeletePersistentTcpPortReservation)
    {
        win_skip( "no persistent port reservations in iphlpapi\n" );
        return 0;
    }
    /* the block of a port that a bind to port 0 gets; another program may
     * have a port of it, and then another bind gives another block */
    for (attempt = 0; attempt < 8 && err == ERROR_SHARING_VIOLATION; attempt++)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        ret = bind_port( s, AF_INET, FALSE, 0 );
        port = local_port( s );
        closesocket( s );
        if (ret || !port) break;
        start = port - port % AUTO_BLOCK_SIZE;
        err = pCreatePersistentTcpPortReservation( htons( start ), count, &token );
    }
    ok( !ret && port, "bind to port 0 failed, error %d\n", ret );
    if (ret || !port) return 0;
    if (err == ERROR_ACCESS_DENIED) return err;
    ok( !err, "cannot reserve %u ports from %u: error %lu\n", count, start, err );
    if (err) return 0;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        winetest_push_context( "%s", family_name( families[i] ) );
        s = create_socket( families[i], SOCK_STREAM );
        ret = bind_port( s, families[i], TRUE, start );
        ok( !ret, "bind into the persistent reservation: got error %d\n", ret );
        closesocket( s );
        s = create_socket( families[i], SOCK_STREAM );
        ret = bind_port( s, families[i], FALSE, start + count - 1 );
        ok( !ret, "bind to its last port: got error %d\n", ret );
        closesocket( s );
        winetest_pop_context();
    }
    memset( &blocks, 0, sizeof(blocks) );
    blocks.start[type_index( SOCK_STREAM )][0] = start;
    blocks.count[type_index( SOCK_STREAM )] = 1;
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        winetest_push_context( "%s", family_name( families[i] ) );
        check_automatic_binds( &blocks, families[i], SOCK_STREAM );
        winetest_pop_context();
    }
    err = pDeletePersistentTcpPortReservation( htons( start ), count );
    ok( !err, "delete failed: error %lu\n", err );
    FreeLibrary( iphlpapi );
    return 0;
}

/* the elevated token linked to this process's limited one, or NULL */
static HANDLE elevated_token(void)
{
    TOKEN_LINKED_TOKEN linked;
    TOKEN_ELEVATION elevation;
    HANDLE token, ret = NULL;
    DWORD size;

    if (!OpenProcessToken( GetCurrentProcess(), TOKEN_QUERY, &token )) return NULL;
    if (GetTokenInformation( token, TokenElevation, &elevation, sizeof(elevation), &size ) &&
        !elevation.TokenIsElevated &&
        GetTokenInformation( token, TokenLinkedToken, &linked, sizeof(linked), &size ))
        ret = linked.LinkedToken;
    CloseHandle( token );
    return ret;
}

/* A limited process (Wine 9.0 and later start programs so, as Windows' UAC
 * does) runs the cases in a child started with the elevated token linked
 * to its own, as the "runas" verb does. */
static void test_persistent_bind(void)
{
    PROCESS_INFORMATION pi;
    HANDLE elevated;

    if (persistent_bind_cases() != ERROR_ACCESS_DENIED) return;
    if (!(elevated = elevated_token()))
    {
        skip( "not elevated, and no elevated token: run the test elevated\n" );
        return;
    }
    if (start_child_as( "child_persistent", &pi, elevated )) finish_child( &pi );
    else skip( "the elevated token cannot start a process: run the test elevated\n" );
    CloseHandle( elevated );
}

static void child_persistent(void)
{
    ok( persistent_bind_cases() != ERROR_ACCESS_DENIED, "the child is not elevated\n" );
}

/* Programs look ws2_32 up by name and take functions from it; they must get
 * the module their imports point into. */
static void test_module_lookup(void)
{
    HMODULE by_name, by_address = NULL;
    BOOL ret;

    by_name = GetModuleHandleA( "ws2_32.dll" );
    ok( by_name != NULL, "ws2_32.dll is not loaded, error %lu\n", GetLastError() );
    ret = GetModuleHandleExA( GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                              (const char *)WSAIoctl, &by_address );
    ok( ret, "GetModuleHandleEx failed, error %lu\n", GetLastError() );
    ok( by_name == by_address, "by name %p, imported WSAIoctl in %p\n", by_name, by_address );
    ok( (void *)GetProcAddress( by_name, "WSAIoctl" ) == (void *)WSAIoctl, "WSAIoctl of the module by name differs\n" );
}

/* The whole contents of a file, or NULL. */
static char *read_whole_file( const char *path, DWORD *size )
{
    HANDLE file = CreateFileA( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    char *data = NULL, *grown;
    DWORD alloc = 0, got;

    *size = 0;
    if (file == INVALID_HANDLE_VALUE) return NULL;
    for (;;)
    {
        if (*size + 4096 > alloc)
        {
            alloc = alloc ? alloc * 2 : 65536;
            if (!(grown = realloc( data, alloc + 1 ))) break;
            data = grown;
        }
        if (!ReadFile( file, data + *size, alloc - *size, &got, NULL ) || !got) break;
        *size += got;
    }
    CloseHandle( file );
    if (data) data[*size] = 0;
    return data;
}

static BOOL same_contents( const char *path1, const char *path2 )
{
    DWORD size1, size2;
    char *data1 = read_whole_file( path1, &size1 ), *data2 = read_whole_file( path2, &size2 );
    BOOL same = data1 && data2 && size1 == size2 && !memcmp( data1, data2, size1 );

    free( data1 );
    free( data2 );
    return same;
}

/* Whether two paths name the same file (the volume and the file's index:
 * the device and inode of a Unix file). */
static BOOL same_file( const char *path1, const char *path2 )
{
    BY_HANDLE_FILE_INFORMATION info1, info2;
    HANDLE file1, file2;
    BOOL same = FALSE;

    file1 = CreateFileA( path1, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL );
    file2 = CreateFileA( path2, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL );
    if (file1 != INVALID_HANDLE_VALUE && file2 != INVALID_HANDLE_VALUE &&
        GetFileInformationByHandle( file1, &info1 ) && GetFileInformationByHandle( file2, &info2 ))
        same = info1.dwVolumeSerialNumber == info2.dwVolumeSerialNumber &&
               info1.nFileIndexHigh == info2.nFileIndexHigh && info1.nFileIndexLow == info2.nFileIndexLow;
    if (file1 != INVALID_HANDLE_VALUE) CloseHandle( file1 );
    if (file2 != INVALID_HANDLE_VALUE) CloseHandle( file2 );
    return same;
}

/* The process runs the proxies and the bridge of the build this program
 * belongs to (dlls/ws2_32/tests/ of it), not others installed in the prefix
 * or in Wine's own DLL directory. */
static void test_loaded_build(void)
{
#ifdef __i386__
    /* the i386 build: every file in i386\ beside the 64-bit one */
    static const char tail[] = "\\dlls\\ws2_32\\tests\\i386\\proxy_test.exe";
    static const char arch[] = "\\i386";
#else
    static const char tail[] = "\\dlls\\ws2_32\\tests\\proxy_test.exe";
    static const char arch[] = "";
#endif
    static struct bridge_library_path_params params;
    char top[MAX_PATH], module[MAX_PATH], ours[MAX_PATH + 64], bridge[MAX_PATH + 8] = "";
    NTSTATUS (CDECL *p_portres_call)( unsigned int code, void *params );
    HMODULE bridge_module;
    NTSTATUS status;
    DWORD len;

    len = GetModuleFileNameA( NULL, top, sizeof(top) );
    ok( len > strlen( tail ) && !_stricmp( top + len - strlen( tail ), tail ), "run from %s\n", top );
    if (len <= strlen( tail )) return;
    top[len - strlen( tail )] = 0;

    GetModuleFileNameA( GetModuleHandleA( "ws2_32.dll" ), module, sizeof(module) );
    sprintf( ours, "%s\\dlls\\ws2_32%s\\ws2_32.dll", top, arch );
    ok( same_contents( module, ours ), "%s is not the build's %s\n", module, ours );
    GetModuleFileNameA( LoadLibraryA( "iphlpapi.dll" ), module, sizeof(module) );
    sprintf( ours, "%s\\dlls\\iphlpapi%s\\iphlpapi.dll", top, arch );
    ok( same_contents( module, ours ), "%s is not the build's %s\n", module, ours );

    /* the proxies' bridge: portres.dll, and the unixlib Wine loaded for it */
    bridge_module = LoadLibraryA( "portres.dll" );
    ok( bridge_module != NULL, "cannot load portres.dll, error %lu\n", GetLastError() );
    p_portres_call = (void *)GetProcAddress( bridge_module, "portres_call" );
    ok( p_portres_call != NULL, "portres.dll has no portres_call\n" );
    status = p_portres_call ? p_portres_call( bridge_library_path, &params ) : (NTSTATUS)STATUS_NOT_SUPPORTED;
    ok( !status, "bridge_library_path failed, status %#lx\n", status );
    if (!status) sprintf( bridge, "Z:%.*s", MAX_PATH, params.path );
    sprintf( ours, "%s\\dlls\\portres%s\\portres.so", top, arch );
    ok( bridge[0] && same_file( bridge, ours ), "the process runs the bridge %s, not the build's %s\n",
        bridge[0] ? bridge + 2 : "(none)", ours );
}

/* A socket with a reservation of its own, found in the test range; the
 * acquiring socket is also associated with it when associate is set. */
static SOCKET reserved_socket( BOOL associate, USHORT *start, ULONG64 *token )
{
    struct test_port_instance inst;
    SOCKET s = create_socket( AF_INET, SOCK_STREAM );
    int err = acquire_free_range( s, 4, start, &inst, NULL );

    ok( !err, "acquire failed, error %d\n", err );
    if (!err && associate)
    {
        err = associate_token( s, inst.Token, NULL );
        ok( !err, "associate failed, error %d\n", err );
    }
    if (err)
    {
        closesocket( s );
        return INVALID_SOCKET;
    }
    *token = inst.Token;
    return s;
}

/* A handle value that comes back for another socket carries nothing of the
 * socket it named before, however that one was closed. */
static void test_reused_handle(void)
{
    SOCKET s, old, reused[8];
    unsigned int i, count, how;
    ULONG64 token;
    USHORT start, port;
    int err;

    for (how = 0; how < 2; how++)
    {
        winetest_push_context( how ? "CloseHandle" : "closesocket" );
        if ((s = reserved_socket( TRUE, &start, &token )) == INVALID_SOCKET)
        {
            winetest_pop_context();
            continue;
        }
        old = s;
        if (how) CloseHandle( (HANDLE)s );
        else closesocket( s );
        for (i = count = 0, s = INVALID_SOCKET; i < ARRAY_SIZE(reused) && s == INVALID_SOCKET; i++)
        {
            reused[count++] = create_socket( AF_INET, SOCK_STREAM );
            if (reused[i] == old) s = reused[i];
        }
        if (s != INVALID_SOCKET)
        {
            err = release_token( s, token, NULL );
            ok( err == WSAEINVAL, "release of the old socket's token: got error %d\n", err );
            err = bind_port( s, AF_INET, TRUE, 0 );
            ok( !err, "bind failed, error %d\n", err );
            port = local_port( s );
            ok( port < start || port >= start + 4, "port %u is inside the old socket's range %u-%u\n", port,
                start, start + 3 );
        }
        else skip( "socket handle %#Ix was not reused\n", (ULONG_PTR)old );
        for (i = 0; i < count; i++) closesocket( reused[i] );
        winetest_pop_context();
    }
}

/* An associated socket's bind takes the address lengths Windows takes:
 * programs pass the size of a SOCKADDR_STORAGE or a SOCKADDR_INET. */
static void test_bind_address_lengths(void)
{
    static const int lengths[] = { 0, sizeof(SOCKADDR_INET), sizeof(SOCKADDR_STORAGE) };
    struct test_port_instance inst;
    SOCKADDR_STORAGE addr;
    unsigned int i, f;
    SOCKET acq, s;
    USHORT start, port;
    int err, len;

    acq = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( acq, 8, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( acq );
        return;
    }
    for (f = 0; f < ARRAY_SIZE(families); f++)
    for (i = 0; i < ARRAY_SIZE(lengths); i++)
    {
        len = lengths[i];
        if (!len) len = families[f] == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
        winetest_push_context( "%s, length %d", families[f] == AF_INET ? "ipv4" : "ipv6", len );
        memset( &addr, 0, sizeof(addr) );
        addr.ss_family = families[f];
        s = create_socket( families[f], SOCK_STREAM );
        err = associate_token( s, inst.Token, NULL );
        ok( !err, "associate failed, error %d\n", err );
        err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
        ok( !err, "bind to port 0 failed, error %d\n", err );
        port = local_port( s );
        ok( port >= start && port < start + 8, "bound to %u, reservation %u-%u\n", port, start, start + 7 );
        closesocket( s );

        s = create_socket( families[f], SOCK_STREAM );
        err = associate_token( s, inst.Token, NULL );
        ok( !err, "associate failed, error %d\n", err );
        if (families[f] == AF_INET) ((struct sockaddr_in *)&addr)->sin_port = htons( start + 8 );
        else ((struct sockaddr_in6 *)&addr)->sin6_port = htons( start + 8 );
        err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
        ok( err == WSAEINVAL, "bind outside the reservation: got error %d\n", err );
        closesocket( s );
        winetest_pop_context();
    }
    closesocket( acq );
}

START_TEST(proxy)
{
    WSADATA data;
    char **argv;
    int argc, ret;

    argc = winetest_get_mainargs( &argv );
    if (argc >= 3 && !strcmp( argv[2], "noinit" ))
    {
        child_not_initialised();
        return;
    }

    test_module_lookup();

    ret = WSAStartup( MAKEWORD(2, 2), &data );
    ok( !ret, "WSAStartup failed, error %d\n", ret );
    if (ret) return;

    if (argc >= 3)
    {
        if (!strcmp( argv[2], "child_binds" ) && argc >= 4)
            child_binds( argc, argv );
        else if (!strcmp( argv[2], "child_persistent" ))
            child_persistent();
        else
            ok( 0, "unknown child mode %s\n", argv[2] );
        WSACleanup();
        return;
    }

    test_loaded_build();
    test_not_initialised();
    test_reused_handle();
    test_no_implicit_bind();
    test_other_process_binds();
    test_persistent_bind();
    test_bind_address_lengths();

    WSACleanup();
}
