/*
 * Tests for the port reservation ioctls of WSAIoctl (SIO_*_PORT_RESERVATION)
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
#include <fcntl.h>
#include <io.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <mswsock.h>

#include "wine/test.h"

/* INET_PORT_RESERVATION_INSTANCE has anonymous members in C, so the tests
 * use a structure of the same layout: 16 bytes, the token at offset 8. */
struct test_port_instance
{
    USHORT StartPort;       /* network byte order */
    USHORT NumberOfPorts;
    ULONG Padding;
    ULONG64 Token;
};

C_ASSERT( sizeof(struct test_port_instance) == 16 );

/* Specific ranges are taken from 26000-29999, below the dynamic ranges of
 * Windows and Linux, so that ephemeral ports rarely get in the way. */
#define TEST_PORT_FIRST     26000
#define TEST_PORT_SLOTS     40
#define TEST_PORT_STRIDE    100

#define TEST_TOKEN_UNKNOWN  ((ULONG64)0x1234)

static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
static const char * const type_names[] = { "tcp", "udp" };
static unsigned int next_slot;

static SOCKET create_socket( int family, int type )
{
    return socket( family, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP );
}

/* 0 or the WSA error of the acquire; *size gets the byte count */
static int acquire_ports( SOCKET s, USHORT start, USHORT count, struct test_port_instance *inst, DWORD *size )
{
    INET_PORT_RANGE range;
    DWORD bytes = 0xdeadbeef;
    int ret;

    range.StartPort = htons( start );
    range.NumberOfPorts = count;
    memset( inst, 0, sizeof(*inst) );
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), inst, sizeof(*inst), &bytes, NULL, NULL );
    if (size) *size = bytes;
    return ret ? WSAGetLastError() : 0;
}

/* Acquires count ports at one of the test slots; another program may hold
 * a slot, so a few are tried.  *start is 0 when all failed. */
static int acquire_free_range( SOCKET s, USHORT count, USHORT *start, struct test_port_instance *inst, DWORD *size )
{
    unsigned int i;
    int err = WSAEADDRINUSE;

    for (i = 0; i < 20 && err == WSAEADDRINUSE; i++)
    {
        *start = TEST_PORT_FIRST + (next_slot++ % TEST_PORT_SLOTS) * TEST_PORT_STRIDE;
        err = acquire_ports( s, *start, count, inst, size );
    }
    if (err) *start = 0;
    return err;
}

/* Binds s to port of the any or the loopback address; 0 or the WSA error.
 * The address length is that of the family's structure, or with storage
 * that of a SOCKADDR_STORAGE, as many programs pass it. */
static int bind_port( SOCKET s, int family, BOOL loopback, USHORT port, BOOL storage )
{
    struct sockaddr_storage addr;
    struct sockaddr_in6 *addr6 = (struct sockaddr_in6 *)&addr;
    struct sockaddr_in *addr4 = (struct sockaddr_in *)&addr;
    int len;

    memset( &addr, 0, sizeof(addr) );
    addr.ss_family = family;
    addr4->sin_port = htons( port );    /* the same offset in both */
    if (family == AF_INET6) addr6->sin6_addr.s6_addr[15] = loopback;
    else addr4->sin_addr.s_addr = htonl( loopback ? INADDR_LOOPBACK : INADDR_ANY );
    len = storage ? sizeof(addr) : family == AF_INET6 ? sizeof(*addr6) : sizeof(*addr4);
    WSASetLastError( 0xdeadbeef );
    return bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
}

/* the local port of s, 0 when it has none */
static USHORT local_port( SOCKET s )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    if (getsockname( s, (struct sockaddr *)&addr, &len )) return 0;
    return ntohs( ((struct sockaddr_in *)&addr)->sin_port );
}

/* UNVERIFIED on Windows: a failed ioctl returns no bytes; the count is set
 * to 0, or left alone where ws2_32 fails the call before it reaches the
 * socket (no socket, an invalid pointer). */
#define check_ioctl_error(a, b, c, d, e, f, g) check_ioctl_error_( __FILE__, __LINE__, a, b, c, d, e, f, g )
static DWORD check_ioctl_error_( const char *file, int line, SOCKET s, DWORD code, void *in, DWORD in_size,
                                 void *out, DWORD out_size, int expect )
{
    DWORD size = 0xdeadbeef;
    int ret, err;

    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, code, in, in_size, out, out_size, &size, NULL, NULL );
    err = WSAGetLastError();
    ok_(file, line)( ret == SOCKET_ERROR && err == expect, "got %d, error %d, expected %d\n", ret, err, expect );
    ok_(file, line)( !size || size == 0xdeadbeef, "got size %lu\n", size );
    return size;
}

/* Section A: SIO_ACQUIRE_PORT_RESERVATION */

static void test_acquire(void)
{
    struct test_port_instance inst, inst2;
    USHORT start, start2;
    unsigned int i;
    SOCKET s, s2;
    DWORD size;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 8, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( s );
        return;
    }
    ok( size == sizeof(inst), "got size %lu\n", size );
    ok( inst.StartPort == htons( start ) && inst.NumberOfPorts == 8, "got %u ports at %u, expected 8 at %u\n",
        inst.NumberOfPorts, ntohs( inst.StartPort ), start );
    ok( inst.Token != INVALID_PORT_RESERVATION_TOKEN, "got token 0\n" );

    /* overlaps, from another socket of the process or the same one */
    s2 = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s2, start, 8, &inst2, NULL );
    ok( err == WSAEADDRINUSE, "same range: got error %d\n", err );
    err = acquire_ports( s2, start + 4, 8, &inst2, NULL );
    ok( err == WSAEADDRINUSE, "partial overlap: got error %d\n", err );
    err = acquire_ports( s, start + 7, 1, &inst2, NULL );
    ok( err == WSAEADDRINUSE, "last port again: got error %d\n", err );
    closesocket( s2 );
    /* UNVERIFIED on Windows: IPv4 and IPv6 share the reservations of a
     * protocol, as the persistent ones share one NSI key. */
    if ((s2 = create_socket( AF_INET6, SOCK_STREAM )) != INVALID_SOCKET)
    {
        err = acquire_ports( s2, start, 8, &inst2, NULL );
        ok( err == WSAEADDRINUSE, "same range from AF_INET6: got error %d\n", err );
        closesocket( s2 );
    }
    /* the protocols are separate */
    s2 = create_socket( AF_INET, SOCK_DGRAM );
    err = acquire_ports( s2, start, 8, &inst2, NULL );
    ok( !err && inst2.Token && inst2.Token != inst.Token, "same range on udp: got error %d\n", err );
    closesocket( s2 );
    /* one socket may hold several reservations */
    err = acquire_free_range( s, 2, &start, &inst2, NULL );
    ok( !err && inst2.Token && inst2.Token != inst.Token, "second acquire: got error %d\n", err );
    closesocket( s );

    /* wildcard blocks, from the dynamic range, wherever it was put */
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        winetest_push_context( "%s", type_names[i] );
        s = create_socket( AF_INET, types[i] );
        err = acquire_ports( s, 0, 16, &inst, &size );
        start = ntohs( inst.StartPort );
        ok( !err && size == sizeof(inst) && inst.Token, "got error %d, size %lu\n", err, size );
        ok( inst.NumberOfPorts == 16 && start > 1024 && start <= 65536 - 16, "got %u ports at %u\n",
            inst.NumberOfPorts, start );
        err = acquire_ports( s, 0, 16, &inst2, NULL );
        start2 = ntohs( inst2.StartPort );
        ok( !err && inst2.Token != inst.Token, "second block: got error %d\n", err );
        ok( start + 16 <= start2 || start2 + 16 <= start, "blocks at %u and %u overlap\n", start, start2 );
        s2 = create_socket( AF_INET, types[i] );
        err = acquire_ports( s2, start + 15, 1, &inst2, NULL );
        ok( err == WSAEADDRINUSE, "acquire inside a block: got error %d\n", err );
        closesocket( s2 );
        closesocket( s );
        winetest_pop_context();
    }
}

static void test_acquire_errors(void)
{
    INET_PORT_RESERVATION_TOKEN token = { TEST_TOKEN_UNKNOWN };
    struct test_port_instance inst;
    INET_PORT_RANGE range;
    unsigned char big[32];
    USHORT start, port;
    unsigned int i;
    HANDLE event;
    DWORD size;
    SOCKET s, s2;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 1, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( s );
        return;
    }
    /* UNVERIFIED on Windows: an empty range, or one past port 65535, gives
     * WSAEINVAL, as the persistent API gives ERROR_INVALID_PARAMETER. */
    range.StartPort = htons( start + 10 );
    range.NumberOfPorts = 0;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEINVAL );
    range.StartPort = htons( 65530 );
    range.NumberOfPorts = 10;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEINVAL );
    range.StartPort = 0;
    range.NumberOfPorts = 1;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, NULL, sizeof(range), &inst, sizeof(inst), WSAEFAULT );
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range) - 1, &inst, sizeof(inst), WSAEINVAL );
    check_ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, &token, sizeof(token) - 1, NULL, 0, WSAEINVAL );
    check_ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, NULL, sizeof(token), NULL, 0, WSAEFAULT );
    /* an output buffer too small gives WSAEINVAL and no bytes; a larger one
     * is fine, and only the instance is written */
    size = check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, 15, WSAEINVAL );
    ok( !size, "got size %lu\n", size );
    memset( big, 0xcc, sizeof(big) );
    err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), big, sizeof(big), &size, NULL, NULL );
    ok( !err && size == sizeof(inst) && big[sizeof(inst)] == 0xcc, "got %d, size %lu\n", err, size );
    closesocket( s );

    /* a port in use by a listening TCP socket or a bound UDP one */
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        s = create_socket( AF_INET, types[i] );
        s2 = create_socket( AF_INET, types[i] );
        if (!(err = bind_port( s, AF_INET, FALSE, 0, FALSE )) && types[i] == SOCK_STREAM) err = listen( s, 1 );
        port = local_port( s );
        err = err ? err : acquire_ports( s2, port - 1, 2, &inst, NULL );
        ok( err == WSAEADDRINUSE, "%s port %u in use: got error %d\n", type_names[i], port, err );
        closesocket( s2 );
        closesocket( s );
    }

    /* sockets that are neither TCP nor UDP, and handles that are no sockets */
    if ((s = socket( AF_INET, SOCK_RAW, IPPROTO_ICMP )) != INVALID_SOCKET)
        check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEOPNOTSUPP );
    else skip( "cannot create a raw ICMP socket, error %d\n", WSAGetLastError() );
    closesocket( s );
    event = CreateEventA( NULL, FALSE, FALSE, NULL );
    check_ioctl_error( (SOCKET)event, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst),
                       WSAENOTSOCK );
    check_ioctl_error( (SOCKET)event, SIO_RELEASE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, WSAENOTSOCK );
    CloseHandle( event );
}

/* Section B: SIO_RELEASE_PORT_RESERVATION, and how the ioctls complete */

static int token_ioctl( SOCKET s, DWORD code, ULONG64 token )
{
    INET_PORT_RESERVATION_TOKEN in;
    DWORD size;

    in.Token = token;
    WSASetLastError( 0xdeadbeef );
    return WSAIoctl( s, code, &in, sizeof(in), NULL, 0, &size, NULL, NULL ) ? WSAGetLastError() : 0;
}

#define release_token( s, token )   token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, token )
#define associate_token( s, token ) token_ioctl( s, SIO_ASSOCIATE_PORT_RESERVATION, token )

/* 0 when [start, start + count) can be reserved now, else the error
 * (WSAEADDRINUSE while something holds it).  A release may complete a
 * little after the call that causes it: a held range is asked again for up
 * to wait ms. */
static int range_state( USHORT start, USHORT count, DWORD wait )
{
    struct test_port_instance inst;
    DWORD ticks = GetTickCount();
    SOCKET s = create_socket( AF_INET, SOCK_STREAM );
    int err;

    while ((err = acquire_ports( s, start, count, &inst, NULL )) == WSAEADDRINUSE && GetTickCount() - ticks < wait)
        Sleep( 50 );
    if (!err) release_token( s, inst.Token );
    closesocket( s );
    return err;
}

/* UNVERIFIED on Windows: a token the process may not use (unknown,
 * released, 0, another process's) is refused with WSAEINVAL, or maybe
 * WSAEACCES. */
static BOOL is_token_refusal( int err )
{
    return err == WSAEINVAL || err == WSAEACCES;
}

/* starts this test again as "argv0 reservation args" */
static BOOL start_child( const char *args, BOOL inherit, PROCESS_INFORMATION *pi )
{
    char cmdline[1024], **argv;
    STARTUPINFOA si;

    memset( &si, 0, sizeof(si) );
    si.cb = sizeof(si);
    winetest_get_mainargs( &argv );
    snprintf( cmdline, sizeof(cmdline), "\"%s\" reservation %s", argv[0], args );
    return CreateProcessA( NULL, cmdline, NULL, NULL, inherit, 0, NULL, NULL, &si, pi );
}

static void finish_child( PROCESS_INFORMATION *pi )
{
    wait_child_process( pi->hProcess );
    CloseHandle( pi->hProcess );
    CloseHandle( pi->hThread );
}

/* Runs in a child: the parent's token, in two halves, is refused by the
 * ioctl (release or associate). */
static void child_foreign( const char *what, const char *high, const char *low )
{
    ULONG64 token = ((ULONG64)strtoul( high, NULL, 16 ) << 32) | strtoul( low, NULL, 16 );
    SOCKET s = create_socket( AF_INET, SOCK_STREAM );
    int err;

    err = token_ioctl( s, strcmp( what, "associate" ) ? SIO_RELEASE_PORT_RESERVATION
                                                      : SIO_ASSOCIATE_PORT_RESERVATION, token );
    ok( is_token_refusal( err ), "%s of another process's token: got error %d\n", what, err );
    closesocket( s );
}

static void run_child_foreign( const char *what, ULONG64 token )
{
    PROCESS_INFORMATION pi = { 0 };
    char args[64];

    sprintf( args, "foreign %s %lx %lx", what, (ULONG)(token >> 32), (ULONG)token );
    ok( start_child( args, FALSE, &pi ), "CreateProcess failed, error %lu\n", GetLastError() );
    if (pi.hProcess) finish_child( &pi );
}

static void test_release(void)
{
    struct test_port_instance inst;
    USHORT start;
    SOCKET s, s2;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( s );
        return;
    }
    err = release_token( s, inst.Token );
    ok( !err, "release failed, error %d\n", err );
    err = range_state( start, 4, 0 );
    ok( !err, "range after the release: got error %d\n", err );
    err = release_token( s, inst.Token );
    ok( is_token_refusal( err ), "second release: got error %d\n", err );
    err = release_token( s, TEST_TOKEN_UNKNOWN );
    ok( is_token_refusal( err ), "unknown token: got error %d\n", err );
    err = release_token( s, INVALID_PORT_RESERVATION_TOKEN );
    ok( is_token_refusal( err ), "token 0: got error %d\n", err );

    /* UNVERIFIED on Windows: any socket of the process may release its
     * runtime reservations, here one of the other family. */
    s2 = create_socket( AF_INET6, SOCK_STREAM );
    err = acquire_ports( s, start, 4, &inst, NULL );
    if (!err) err = release_token( s2 != INVALID_SOCKET ? s2 : s, inst.Token );
    ok( !err, "release from another socket failed, error %d\n", err );
    err = range_state( start, 4, 0 );
    ok( !err, "range after the release: got error %d\n", err );
    closesocket( s2 );

    /* another process cannot release it */
    err = acquire_ports( s, start, 4, &inst, NULL );
    ok( !err, "acquire again failed, error %d\n", err );
    run_child_foreign( "release", inst.Token );
    err = range_state( start, 4, 0 );
    ok( err == WSAEADDRINUSE, "range after the child's release: got error %d\n", err );
    closesocket( s );
}

/* The overlapped structures and buffers are static, so that a completion
 * after a timeout still finds them. */
static WSAOVERLAPPED test_ovl[3];
static struct test_port_instance test_inst[3];
static LONG apc_count;
static DWORD apc_error, apc_bytes;

static void WINAPI acquire_completion( DWORD error, DWORD bytes, WSAOVERLAPPED *overlapped, DWORD flags )
{
    apc_error = error;
    apc_bytes = bytes;
    InterlockedIncrement( &apc_count );
}

/* a wildcard acquire of i + 2 ports into test_inst[i]; 0 or the error */
static int acquire_overlapped( SOCKET s, unsigned int i, LPWSAOVERLAPPED_COMPLETION_ROUTINE func )
{
    INET_PORT_RANGE range = { 0, i + 2 };
    DWORD size;

    WSASetLastError( 0xdeadbeef );
    return WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &test_inst[i], sizeof(test_inst[i]),
                     &size, &test_ovl[i], func ) ? WSAGetLastError() : 0;
}

static void test_overlapped(void)
{
    struct test_port_instance inst;
    DWORD bytes, flags, ticks;
    OVERLAPPED *ovl;
    unsigned int i;
    ULONG_PTR key;
    HANDLE port;
    SOCKET s;
    BOOL ret;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s, 0, 1, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    closesocket( s );
    if (err) return;

    /* UNVERIFIED on Windows: a completion reports the size of the instance */
    s = create_socket( AF_INET, SOCK_STREAM );
    test_ovl[0].hEvent = CreateEventA( NULL, TRUE, FALSE, NULL );
    err = acquire_overlapped( s, 0, NULL );
    ok( !err || err == WSA_IO_PENDING, "event: got error %d\n", err );
    ok( !WaitForSingleObject( test_ovl[0].hEvent, 5000 ), "the event was not signalled\n" );
    ret = WSAGetOverlappedResult( s, &test_ovl[0], &bytes, FALSE, &flags );
    ok( ret && bytes == sizeof(inst), "got %d, error %d, %lu bytes\n", ret, WSAGetLastError(), bytes );
    closesocket( s );
    CloseHandle( test_ovl[0].hEvent );

    /* a completion routine, run in an alertable wait */
    s = create_socket( AF_INET, SOCK_DGRAM );
    err = acquire_overlapped( s, 1, acquire_completion );
    ok( !err || err == WSA_IO_PENDING, "completion routine: got error %d\n", err );
    ok( !apc_count, "the completion routine ran before an alertable wait\n" );
    ticks = GetTickCount();
    while (!apc_count && GetTickCount() - ticks < 5000) SleepEx( 100, TRUE );
    ok( apc_count == 1, "the completion routine ran %ld times\n", apc_count );
    ok( !apc_error && apc_bytes == sizeof(inst), "got error %lu, %lu bytes\n", apc_error, apc_bytes );
    closesocket( s );

    /* a completion port */
    s = create_socket( AF_INET, SOCK_STREAM );
    port = CreateIoCompletionPort( (HANDLE)s, NULL, 0x5678, 0 );
    err = acquire_overlapped( s, 2, NULL );
    ok( !err || err == WSA_IO_PENDING, "completion port: got error %d\n", err );
    ret = GetQueuedCompletionStatus( port, &bytes, &key, &ovl, 5000 );
    ok( ret && key == 0x5678 && ovl == &test_ovl[2], "got %d, error %lu, key %#Ix\n", ret, GetLastError(), key );
    todo_wine ok( bytes == sizeof(inst), "got %lu bytes\n", bytes );
    closesocket( s );
    CloseHandle( port );

    for (i = 0; i < 3; i++)
        ok( test_inst[i].NumberOfPorts == i + 2 && test_inst[i].StartPort && test_inst[i].Token,
            "%u: got %u ports at %u\n", i, test_inst[i].NumberOfPorts, ntohs( test_inst[i].StartPort ) );
}

/* Section C: the life of a reservation, which ends with the last handle of its socket */

static void test_close(void)
{
    struct test_port_instance inst;
    unsigned int how;
    USHORT start;
    SOCKET s;
    int err;

    /* closesocket() or CloseHandle(), of a socket that holds the
     * reservation, or one that also uses it (not checked here) */
    for (how = 0; how < 4; how++)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        err = acquire_free_range( s, 4, &start, &inst, NULL );
        ok( !err, "acquire failed, error %d\n", err );
        if (err)
        {
            closesocket( s );
            return;
        }
        winetest_push_context( "%s%s", how & 1 ? "CloseHandle" : "closesocket", how & 2 ? ", associated" : "" );
        if (how & 2) associate_token( s, inst.Token );
        err = range_state( start, 4, 0 );
        ok( err == WSAEADDRINUSE, "range of a live socket: got error %d\n", err );
        if (how & 1) ok( CloseHandle( (HANDLE)s ), "CloseHandle failed, error %lu\n", GetLastError() );
        else ok( !closesocket( s ), "closesocket failed, error %d\n", WSAGetLastError() );
        /* UNVERIFIED on Windows for CloseHandle(), which ws2_32 does not see */
        err = range_state( start, 4, 2000 );
        ok( !err, "range after the close: got error %d\n", err );
        winetest_pop_context();
    }
}

/* ws2_32 does not know a DuplicateHandle() copy: its closesocket() fails
 * with WSAENOTSOCK on Windows, and CloseHandle() closes it. */
static void test_duplicate_handle(void)
{
    static const char * const names[] = { "original first", "DUPLICATE_CLOSE_SOURCE", "duplicate first" };
    struct test_port_instance inst;
    unsigned int how;
    USHORT start;
    HANDLE dup;
    SOCKET s;
    BOOL ret;
    int err;

    for (how = 0; how < 3; how++)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        err = acquire_free_range( s, 4, &start, &inst, NULL );
        ok( !err, "acquire failed, error %d\n", err );
        if (err)
        {
            closesocket( s );
            return;
        }
        winetest_push_context( "%s", names[how] );
        ret = DuplicateHandle( GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &dup, 0, FALSE,
                               DUPLICATE_SAME_ACCESS | (how == 1 ? DUPLICATE_CLOSE_SOURCE : 0) );
        ok( ret, "DuplicateHandle failed, error %lu\n", GetLastError() );
        if (!how) closesocket( s );
        else if (how == 2 && ret) CloseHandle( dup );
        err = range_state( start, 4, 0 );
        ok( err == WSAEADDRINUSE, "range while a handle is left: got error %d\n", err );

        if (!how) CloseHandle( dup );
        else if (how == 2 || !ret) closesocket( s );
        else if (closesocket( (SOCKET)dup ))
        {
            ok( WSAGetLastError() == WSAENOTSOCK, "closesocket of the duplicate: error %d\n", WSAGetLastError() );
            CloseHandle( dup );
        }
        err = range_state( start, 4, 2000 );
        ok( !err, "range after the last handle was closed: got error %d\n", err );
        winetest_pop_context();
    }
}

/* Programs that wrap sockets in CRT descriptors close them with _close(),
 * behind ws2_32's back, as RPC libraries do. */
static void test_crt_close(void)
{
    struct test_port_instance inst;
    unsigned int i, failed = 0;
    USHORT start;
    int fd, err;
    SOCKET s;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 1, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    closesocket( s );
    if (err) return;
    /* each descriptor closed frees the port for the next one */
    for (i = 0; i < 10; i++)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        if ((fd = _open_osfhandle( (intptr_t)s, _O_RDWR | _O_BINARY )) == -1) closesocket( s );
        if (fd == -1 || (err = range_state( start, 1, 2000 )) || (err = acquire_ports( s, start, 1, &inst, NULL )))
            failed++;
        if (fd != -1) _close( fd );
    }
    if ((err = range_state( start, 1, 2000 ))) failed++;
    ok( !failed, "%u of 11 reservations failed, the last with error %d\n", failed, err );
}

/* Runs in a child: holds [start, start + 4), says so with the inherited
 * event, and waits to be killed. */
static void child_hold( const char *start, const char *event )
{
    struct test_port_instance inst;
    SOCKET s = create_socket( AF_INET, SOCK_STREAM );
    int err = acquire_ports( s, atoi( start ), 4, &inst, NULL );

    ok( !err, "acquire in the child failed, error %d\n", err );
    if (!err && SetEvent( (HANDLE)(ULONG_PTR)strtoul( event, NULL, 16 ) )) Sleep( 30000 );
    closesocket( s );
}

/* a child that holds [start, start + 4), NULL if it does not */
static HANDLE start_holder( USHORT start, PROCESS_INFORMATION *pi )
{
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
    HANDLE event = CreateEventA( &sa, TRUE, FALSE, NULL ), handles[2];
    char args[64];

    sprintf( args, "hold %u %lx", start, (ULONG)(ULONG_PTR)event );
    if (!start_child( args, TRUE, pi ))
    {
        CloseHandle( event );
        return pi->hProcess = NULL;
    }
    handles[0] = event;
    handles[1] = pi->hProcess;
    if (WaitForMultipleObjects( 2, handles, FALSE, 15000 ))
    {
        TerminateProcess( pi->hProcess, 1 );
        CloseHandle( pi->hProcess );
        CloseHandle( pi->hThread );
        pi->hProcess = NULL;
    }
    CloseHandle( event );
    return pi->hProcess;
}

static void test_process_exit(void)
{
    struct test_port_instance inst;
    PROCESS_INFORMATION pi;
    USHORT start;
    SOCKET s;
    int err;

    /* a free range, given up again for the child */
    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    closesocket( s );
    if (err) return;

    ok( start_holder( start, &pi ) != NULL, "the child did not acquire the range\n" );
    if (!pi.hProcess) return;
    err = range_state( start, 4, 2000 );
    ok( err == WSAEADDRINUSE, "range held by the child: got error %d\n", err );
    err = range_state( start + 3, 2, 0 );
    ok( err == WSAEADDRINUSE, "range overlapping the child's: got error %d\n", err );
    TerminateProcess( pi.hProcess, 0 );
    ok( !WaitForSingleObject( pi.hProcess, 5000 ), "the child did not end\n" );
    CloseHandle( pi.hProcess );
    CloseHandle( pi.hThread );
    err = range_state( start, 4, 5000 );
    ok( !err, "range of the killed child: got error %d\n", err );
}

/* Runs in a child: has inherited the socket, says so with the first event,
 * and closes it with CloseHandle() when the parent sets the second. */
static void child_socket( const char *sock, const char *ready, const char *go )
{
    SetEvent( (HANDLE)(ULONG_PTR)strtoul( ready, NULL, 16 ) );
    WaitForSingleObject( (HANDLE)(ULONG_PTR)strtoul( go, NULL, 16 ), 20000 );
    ok( CloseHandle( (HANDLE)(ULONG_PTR)strtoul( sock, NULL, 16 ) ), "CloseHandle failed\n" );
}

static void test_other_process_handle(void)
{
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
    struct test_port_instance inst;
    PROCESS_INFORMATION pi;
    HANDLE ready, go;
    char args[128];
    USHORT start;
    SOCKET s;
    BOOL ret;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, NULL );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( s );
        return;
    }
    SetHandleInformation( (HANDLE)s, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT );
    ready = CreateEventA( &sa, FALSE, FALSE, NULL );
    go = CreateEventA( &sa, FALSE, FALSE, NULL );
    sprintf( args, "socket %lx %lx %lx", (ULONG)(ULONG_PTR)s, (ULONG)(ULONG_PTR)ready, (ULONG)(ULONG_PTR)go );
    ret = start_child( args, TRUE, &pi );
    ok( ret, "CreateProcess failed, error %lu\n", GetLastError() );
    ok( !ret || !WaitForSingleObject( ready, 20000 ), "the child did not start\n" );
    closesocket( s );
    err = range_state( start, 4, 0 );
    ok( err == WSAEADDRINUSE, "range while the child has the socket: got error %d\n", err );
    SetEvent( go );
    if (ret) finish_child( &pi );
    err = range_state( start, 4, 2000 );
    ok( !err, "range after the child closed the socket: got error %d\n", err );
    CloseHandle( ready );
    CloseHandle( go );
}

/* Section D: SIO_ASSOCIATE_PORT_RESERVATION and explicit binds */

static const int families[] = { AF_INET, AF_INET6 };
static const char * const family_names[] = { "AF_INET", "AF_INET6" };

/* a socket s associated with a reservation of ports that holder acquired */
struct associated
{
    SOCKET holder, s;
    int type;
    USHORT start;
    ULONG64 token;
    int err;            /* 0 or the first error */
};

static void associate_socket( struct associated *a, int family, int type, USHORT count )
{
    struct test_port_instance inst;

    a->type = type;
    a->holder = create_socket( family, type );
    a->s = create_socket( family, type );
    a->err = acquire_free_range( a->holder, count, &a->start, &inst, NULL );
    a->token = inst.Token;
    if (!a->err) a->err = associate_token( a->s, a->token );
}

/* closes a TCP socket with a reset, so that its port does not stay in
 * TIME_WAIT where later tests want to reserve it */
static void close_abortive( SOCKET s, int type )
{
    LINGER linger = { 1, 0 };

    if (type == SOCK_STREAM) setsockopt( s, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger) );
    closesocket( s );
}

static void close_associated( struct associated *a )
{
    close_abortive( a->s, a->type );
    closesocket( a->holder );
}

static void test_associate(void)
{
    INET_PORT_RESERVATION_TOKEN token;
    struct associated a;
    USHORT port = 0;
    SOCKET s;
    int err;

    associate_socket( &a, AF_INET, SOCK_STREAM, 4 );
    if (!a.err && !(a.err = bind_port( a.s, AF_INET, TRUE, 0, FALSE ))) port = local_port( a.s );
    ok( !a.err && port >= a.start && port < a.start + 4, "port %u, reserved %u, error %d\n", port, a.start, a.err );
    if (a.err || port < a.start || port >= a.start + 4)
    {
        close_associated( &a );
        return;
    }

    /* UNVERIFIED on Windows: the ioctl "must be issued before the socket is
     * bound"; a bound socket is taken to give WSAEINVAL. */
    err = associate_token( a.s, a.token );
    ok( err == WSAEINVAL, "associate after bind: got error %d\n", err );

    s = create_socket( AF_INET, SOCK_STREAM );
    token.Token = a.token;
    check_ioctl_error( s, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token) - 1, NULL, 0, WSAEINVAL );
    check_ioctl_error( s, SIO_ASSOCIATE_PORT_RESERVATION, NULL, sizeof(token), NULL, 0, WSAEFAULT );
    check_ioctl_error( (SOCKET)0xdeadbeef, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0,
                       WSAENOTSOCK );
    err = associate_token( s, TEST_TOKEN_UNKNOWN );
    ok( is_token_refusal( err ), "unknown token: got error %d\n", err );
    err = associate_token( s, INVALID_PORT_RESERVATION_TOKEN );
    ok( is_token_refusal( err ), "token 0: got error %d\n", err );
    run_child_foreign( "associate", a.token );

    /* a released reservation; the socket bound in it keeps its port */
    err = release_token( a.holder, a.token );
    ok( !err, "release failed, error %d\n", err );
    err = associate_token( s, a.token );
    ok( is_token_refusal( err ), "released token: got error %d\n", err );
    ok( local_port( a.s ) == port, "got port %u, expected %u\n", local_port( a.s ), port );
    closesocket( s );
    close_associated( &a );
}

static void test_associate_bind(void)
{
    struct associated a;
    unsigned int i, j;
    USHORT port, port2, left;
    SOCKET s, s2;
    int err;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            /* UNVERIFIED on Windows: which free port of the reservation a
             * port-0 bind gets (the lowest, at random?): any of them */
            winetest_push_context( "%s %s", family_names[i], type_names[j] );
            associate_socket( &a, families[i], types[j], 3 );
            port = 0;
            if (!a.err && !(a.err = bind_port( a.s, families[i], FALSE, 0, TRUE ))) port = local_port( a.s );
            ok( !a.err && port >= a.start && port < a.start + 3, "port %u, reserved %u, error %d\n", port, a.start, a.err );
            if (a.err || port < a.start || port >= a.start + 3)
            {
                close_associated( &a );
                winetest_pop_context();
                return;
            }
            s = create_socket( families[i], types[j] );
            err = associate_token( s, a.token );
            if (!err) err = bind_port( s, families[i], TRUE, 0, FALSE );
            port2 = local_port( s );
            ok( !err && port2 >= a.start && port2 < a.start + 3 && port2 != port, "port %u, error %d\n", port2, err );

            /* the acquiring socket may use its reservation too, here with
             * an explicit port, the one left */
            left = 3 * a.start + 3 - port - port2;
            err = associate_token( a.holder, a.token );
            if (!err) err = bind_port( a.holder, families[i], TRUE, left, FALSE );
            ok( !err && local_port( a.holder ) == left, "bind to port %u failed, error %d\n", left, err );

            /* UNVERIFIED on Windows: the error when all ports are taken */
            s2 = create_socket( families[i], types[j] );
            err = associate_token( s2, a.token );
            if (!err) err = bind_port( s2, families[i], FALSE, 0, FALSE );
            ok( err == WSAEADDRINUSE || err == WSAENOBUFS || err == WSAEADDRNOTAVAIL, "got error %d\n", err );
            closesocket( s2 );

            /* UNVERIFIED on Windows: the error of an explicit port outside */
            s2 = create_socket( families[i], types[j] );
            err = associate_token( s2, a.token );
            if (!err) err = bind_port( s2, families[i], TRUE, a.start + 3, FALSE );
            ok( err == WSAEINVAL || err == WSAEACCES || err == WSAEADDRNOTAVAIL, "outside: got error %d\n", err );
            closesocket( s2 );
            closesocket( s );
            close_associated( &a );
            winetest_pop_context();
        }
    }
}

static void test_explicit_bind(void)
{
    PROCESS_INFORMATION pi;
    struct associated a;
    USHORT port = 0, start;
    unsigned int i;
    SOCKET s;
    int err;

    associate_socket( &a, AF_INET, SOCK_STREAM, 4 );
    if (!a.err && !(a.err = bind_port( a.s, AF_INET, TRUE, 0, FALSE ))) port = local_port( a.s );
    ok( !a.err && port >= a.start && port < a.start + 4, "port %u, reserved %u, error %d\n", port, a.start, a.err );
    if (a.err || port < a.start || port >= a.start + 4)
    {
        close_associated( &a );
        return;
    }
    start = a.start;

    /* UNVERIFIED on Windows: the sockets of the process that are not
     * associated, the acquiring one included, cannot bind into its runtime
     * reservation: WSAEACCES, as for another process's, or WSAEADDRINUSE. */
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        if ((s = create_socket( families[i], SOCK_STREAM )) == INVALID_SOCKET) continue;
        err = bind_port( s, families[i], FALSE, start + 3, FALSE );
        ok( err == WSAEACCES || err == WSAEADDRINUSE, "%s: got error %d\n", family_names[i], err );
        closesocket( s );
        /* the other protocol binds freely */
        s = create_socket( families[i], SOCK_DGRAM );
        err = bind_port( s, families[i], TRUE, start + 3, FALSE );
        ok( !err, "%s: udp bind into the tcp reservation: got error %d\n", family_names[i], err );
        closesocket( s );
    }
    err = bind_port( a.holder, AF_INET, TRUE, start + 2, FALSE );
    ok( err == WSAEACCES || err == WSAEADDRINUSE, "the acquiring socket: got error %d\n", err );
    close_associated( &a );

    /* the runtime reservation of another process: WSAEACCES */
    range_state( start, 4, 2000 );
    ok( start_holder( start, &pi ) != NULL, "the child did not acquire the range\n" );
    if (pi.hProcess)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        err = bind_port( s, AF_INET, FALSE, start + 1, FALSE );
        ok( err == WSAEACCES, "bind into another process's reservation: got error %d\n", err );
        closesocket( s );
        TerminateProcess( pi.hProcess, 0 );
        WaitForSingleObject( pi.hProcess, 5000 );
        CloseHandle( pi.hProcess );
        CloseHandle( pi.hThread );
    }

    /* released, the ports are ordinary ones */
    range_state( start, 4, 5000 );
    s = create_socket( AF_INET, SOCK_STREAM );
    err = bind_port( s, AF_INET, TRUE, start + 3, FALSE );
    ok( !err, "bind after the release: got error %d\n", err );
    closesocket( s );
}

/* Section E: implicit binds (connect, sendto) and port-0 binds */

enum method { METHOD_CONNECT, METHOD_WSACONNECT, METHOD_SENDTO, METHOD_WSASENDTO };

static const char * const method_names[] = { "connect", "WSAConnect", "sendto", "WSASendTo" };

#define method_type( method ) ((method) <= METHOD_WSACONNECT ? SOCK_STREAM : SOCK_DGRAM)

/* one of the calls that bind an unbound socket; 0 or the WSA error */
static int call_method( enum method method, SOCKET s, const struct sockaddr *to, int len )
{
    char data[1] = { 'x' };
    DWORD size;
    WSABUF buf;
    int ret = SOCKET_ERROR;

    buf.buf = data;
    buf.len = sizeof(data);
    switch (method)
    {
    case METHOD_CONNECT:
        ret = connect( s, to, len );
        break;
    case METHOD_WSACONNECT:
        ret = WSAConnect( s, to, len, NULL, NULL, NULL, NULL );
        break;
    case METHOD_SENDTO:
        ret = sendto( s, data, sizeof(data), 0, to, len ) == sizeof(data) ? 0 : SOCKET_ERROR;
        break;
    case METHOD_WSASENDTO:
        ret = WSASendTo( s, &buf, 1, &size, 0, to, len, NULL, NULL );
        break;
    }
    return ret ? WSAGetLastError() : 0;
}

/* Lets the method bind the unbound s implicitly, towards a peer on the
 * loopback address; 0 or the error, *port the port s got. */
static int implicit_bind( SOCKET s, int family, enum method method, USHORT *port )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr), err;
    SOCKET peer, accepted;

    *port = 0;
    peer = create_socket( family, method_type( method ) );
    if (!(err = bind_port( peer, family, TRUE, 0, FALSE )) && method_type( method ) == SOCK_STREAM &&
        listen( peer, 1 )) err = WSAGetLastError();
    if (!err && getsockname( peer, (struct sockaddr *)&addr, &len )) err = WSAGetLastError();
    if (!err && !(err = call_method( method, s, (struct sockaddr *)&addr, len ))) *port = local_port( s );
    if (!err && method_type( method ) == SOCK_STREAM && (accepted = accept( peer, NULL, NULL )) != INVALID_SOCKET)
        close_abortive( accepted, SOCK_STREAM );
    closesocket( peer );
    return err;
}

/* Wildcard blocks, which Windows takes from the dynamic range, where it
 * takes the ports of port-0 and implicit binds from. */
#define BLOCK_SIZE  2048
#define MAX_BLOCKS  4
#define BIND_COUNT  60
#define CALL_COUNT  20

struct blocks
{
    SOCKET holder[ARRAY_SIZE(types)];
    USHORT start[ARRAY_SIZE(types)][MAX_BLOCKS];
    unsigned int count[ARRAY_SIZE(types)];
};

static BOOL in_blocks( const struct blocks *b, int type, USHORT port )
{
    unsigned int i, t = type == SOCK_STREAM ? 0 : 1;

    for (i = 0; i < b->count[t]; i++)
        if (port >= b->start[t][i] && port - b->start[t][i] < BLOCK_SIZE) return TRUE;
    return FALSE;
}

static void test_implicit_bind(void)
{
    SOCKET sockets[BIND_COUNT], s;
    USHORT ports[BIND_COUNT], port = 0;
    unsigned int i, j, k, n, failed, landed, shared;
    struct test_port_instance inst;
    struct associated a;
    struct blocks b;
    BOOL on = TRUE;
    int err;

    /* "if and when the socket is bound", its port comes from the reservation */
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = METHOD_CONNECT; j <= METHOD_WSASENDTO; j++)
        {
            winetest_push_context( "%s %s", family_names[i], method_names[j] );
            associate_socket( &a, families[i], method_type( j ), 4 );
            port = 0;
            if (!a.err) a.err = implicit_bind( a.s, families[i], j, &port );
            ok( !a.err && port >= a.start && port < a.start + 4, "port %u, reserved %u, error %d\n", port, a.start, a.err );
            close_associated( &a );
            winetest_pop_context();
            if (a.err || port < a.start || port >= a.start + 4) return;
        }
    }

    /* the sockets that are not associated never get a reserved port */
    memset( &b, 0, sizeof(b) );
    for (i = 0; i < ARRAY_SIZE(types); i++)
    {
        b.holder[i] = create_socket( AF_INET, types[i] );
        while (b.count[i] < MAX_BLOCKS && !acquire_ports( b.holder[i], 0, BLOCK_SIZE, &inst, NULL ))
            b.start[i][b.count[i]++] = ntohs( inst.StartPort );
    }
    ok( b.count[0] && b.count[1], "got %u tcp and %u udp blocks of %u ports\n", b.count[0], b.count[1], BLOCK_SIZE );

    /* port-0 binds, with the options and address lengths programs use; the
     * sockets stay open, so that each must get a port of its own */
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            failed = landed = shared = 0;
            for (k = 0; k < BIND_COUNT; k++)
            {
                sockets[k] = create_socket( families[i], types[j] );
                if (k % 4 == 1) setsockopt( sockets[k], SOL_SOCKET, SO_REUSEADDR, (char *)&on, sizeof(on) );
                if (k % 4 == 2) setsockopt( sockets[k], SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&on, sizeof(on) );
                err = bind_port( sockets[k], families[i], FALSE, 0, k % 4 == 3 );
                ports[k] = err ? 0 : local_port( sockets[k] );
                if (!ports[k]) failed++;
                else if (in_blocks( &b, types[j], ports[k] )) landed++;
                for (n = 0; ports[k] && n < k; n++) if (ports[n] == ports[k]) shared++;
            }
            for (k = 0; k < BIND_COUNT; k++) closesocket( sockets[k] );
            ok( !failed && !landed && !shared, "%s %s: of %u binds, %u failed, %u got a reserved port, "
                "%u a port given before\n", family_names[i], type_names[j], BIND_COUNT, failed, landed, shared );
        }
    }

    /* implicit binds */
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = METHOD_CONNECT; j <= METHOD_WSASENDTO; j++)
        {
            failed = landed = 0;
            for (k = 0; k < CALL_COUNT; k++)
            {
                s = create_socket( families[i], method_type( j ) );
                if ((err = implicit_bind( s, families[i], j, &port ))) failed++;
                else if (in_blocks( &b, method_type( j ), port )) landed++;
                close_abortive( s, method_type( j ) );
            }
            ok( !failed && !landed, "%s %s: of %u calls, %u failed (error %d), %u got a reserved port\n",
                family_names[i], method_names[j], CALL_COUNT, failed, err, landed );
        }
    }
    for (i = 0; i < ARRAY_SIZE(types); i++) closesocket( b.holder[i] );
}

START_TEST(reservation)
{
    WSADATA data;
    char **argv;
    int argc;
    int ret;

    argc = winetest_get_mainargs( &argv );
    ret = WSAStartup( MAKEWORD(2, 2), &data );
    ok( !ret, "WSAStartup failed, error %d\n", ret );
    if (ret) return;

    if (argc >= 6 && !strcmp( argv[2], "foreign" )) child_foreign( argv[3], argv[4], argv[5] );
    else if (argc >= 5 && !strcmp( argv[2], "hold" )) child_hold( argv[3], argv[4] );
    else if (argc >= 6 && !strcmp( argv[2], "socket" )) child_socket( argv[3], argv[4], argv[5] );
    else
    {
        test_acquire();
        test_acquire_errors();
        test_release();
        test_overlapped();
        test_close();
        test_duplicate_handle();
        test_crt_close();
        test_process_exit();
        test_other_process_handle();
        test_associate();
        test_associate_bind();
        test_explicit_bind();
        test_implicit_bind();
    }
    WSACleanup();
}
