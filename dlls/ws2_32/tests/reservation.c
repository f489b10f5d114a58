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
#include <string.h>
#include <fcntl.h>
#include <io.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <mswsock.h>

#include "wine/test.h"

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

/* Windows' default dynamic port range. */
#define DYNAMIC_PORT_FIRST  49152
#define DYNAMIC_PORT_LAST   65535

#define TEST_TOKEN_UNKNOWN  ((ULONG64)0x1234)
#define TEST_IOCP_KEY       ((ULONG_PTR)0x5678)

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
 * error. */
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
}

static void format_token( char *buf, ULONG64 token )
{
    sprintf( buf, "%08lx%08lx", (unsigned long)(token >> 32), (unsigned long)(token & 0xffffffff) );
}

static ULONG64 parse_token( const char *str )
{
    ULONG64 token = 0;

    for (; *str; str++)
    {
        if (*str >= '0' && *str <= '9') token = (token << 4) | (ULONG64)(*str - '0');
        else if (*str >= 'a' && *str <= 'f') token = (token << 4) | (ULONG64)(*str - 'a' + 10);
        else if (*str >= 'A' && *str <= 'F') token = (token << 4) | (ULONG64)(*str - 'A' + 10);
        else break;
    }
    return token;
}

/* Starts this test program again as "argv0 reservation <args>". */
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
    sprintf( cmdline, "\"%s\" reservation %s", argv[0], args );
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


/* SIO_ACQUIRE_PORT_RESERVATION */

static void test_acquire(void)
{
    struct test_port_instance inst, inst2;
    ULONG64 tokens[ARRAY_SIZE(families) * ARRAY_SIZE(types)];
    unsigned int i, j, count = 0;
    USHORT start, start2;
    DWORD size;
    SOCKET s;
    int err;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            winetest_push_context( "%s %s", family_name( families[i] ), type_name( types[j] ) );
            s = create_socket( families[i], types[j] );
            if (s == INVALID_SOCKET)
            {
                skip( "cannot create socket, error %d\n", WSAGetLastError() );
                winetest_pop_context();
                continue;
            }

            err = acquire_free_range( s, 4, &start, &inst, &size );
            ok( !err, "acquire failed, error %d\n", err );
            if (!err)
            {
                ok( size == sizeof(inst), "got size %lu\n", size );
                ok( inst.StartPort == htons( start ), "got start %u, expected %u\n",
                    ntohs( inst.StartPort ), start );
                ok( inst.NumberOfPorts == 4, "got %u ports\n", inst.NumberOfPorts );
                ok( inst.Token != INVALID_PORT_RESERVATION_TOKEN, "got token 0\n" );
                tokens[count++] = inst.Token;

                /* one socket may hold several reservations */
                err = acquire_free_range( s, 2, &start2, &inst2, &size );
                ok( !err, "second acquire failed, error %d\n", err );
                if (!err)
                {
                    ok( inst2.StartPort == htons( start2 ), "got start %u, expected %u\n",
                        ntohs( inst2.StartPort ), start2 );
                    ok( inst2.Token && inst2.Token != inst.Token, "got token %s\n",
                        wine_dbgstr_longlong( inst2.Token ) );
                }
            }
            closesocket( s );
            winetest_pop_context();
        }
    }

    for (i = 0; i < count; i++)
        for (j = i + 1; j < count; j++)
            ok( tokens[i] != tokens[j], "tokens %u and %u are both %s\n", i, j,
                wine_dbgstr_longlong( tokens[i] ) );
}

static void test_acquire_overlap(void)
{
    struct test_port_instance inst, inst2;
    SOCKET tcp, tcp2, udp, tcp6;
    USHORT start;
    DWORD size;
    int err;

    tcp = create_socket( AF_INET, SOCK_STREAM );
    tcp2 = create_socket( AF_INET, SOCK_STREAM );
    udp = create_socket( AF_INET, SOCK_DGRAM );
    tcp6 = create_socket( AF_INET6, SOCK_STREAM );
    ok( tcp != INVALID_SOCKET && tcp2 != INVALID_SOCKET && udp != INVALID_SOCKET,
        "cannot create sockets, error %d\n", WSAGetLastError() );

    err = acquire_free_range( tcp, 8, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        skip( "no reservation, skipping the overlap tests\n" );
        goto done;
    }

    /* the same range, from another socket of the same process */
    err = acquire_ports( tcp2, start, 8, &inst2, &size );
    ok( err == WSAEADDRINUSE, "same range: got error %d\n", err );

    /* a partial overlap, from another socket and from the owner itself */
    err = acquire_ports( tcp2, start + 4, 8, &inst2, &size );
    ok( err == WSAEADDRINUSE, "partial overlap: got error %d\n", err );
    err = acquire_ports( tcp, start + 7, 1, &inst2, &size );
    ok( err == WSAEADDRINUSE, "last port again: got error %d\n", err );

    /* reservations are per protocol: UDP may take the same ports */
    err = acquire_ports( udp, start, 8, &inst2, &size );
    ok( !err, "same range on udp: got error %d\n", err );
    if (!err)
    {
        ok( inst2.StartPort == htons( start ), "got start %u\n", ntohs( inst2.StartPort ) );
        ok( inst2.Token && inst2.Token != inst.Token, "got token %s\n", wine_dbgstr_longlong( inst2.Token ) );
    }

    /* UNVERIFIED on Windows: reservations are taken to be shared by IPv4
     * and IPv6 (the persistent ones are, in one NSI key for both), so an
     * AF_INET6 TCP socket cannot reserve ports an AF_INET one holds. */
    if (tcp6 != INVALID_SOCKET)
    {
        err = acquire_ports( tcp6, start, 8, &inst2, &size );
        ok( err == WSAEADDRINUSE, "same range from AF_INET6: got error %d\n", err );
    }
    else skip( "no AF_INET6 socket\n" );

done:
    close_socket( tcp );
    close_socket( tcp2 );
    close_socket( udp );
    close_socket( tcp6 );
}

static void test_acquire_port_in_use(void)
{
    struct test_port_instance inst;
    SOCKET listener, udp, s;
    USHORT port;
    DWORD size;
    int err;

    /* A port taken by a listening TCP socket.  The wildcard address is used
     * so that the port is in use on every address. */
    listener = create_socket( AF_INET, SOCK_STREAM );
    s = create_socket( AF_INET, SOCK_STREAM );
    err = bind_port( listener, AF_INET, FALSE, 0 );
    ok( !err, "bind failed, error %d\n", err );
    ok( !listen( listener, 1 ), "listen failed, error %d\n", WSAGetLastError() );
    port = local_port( listener );
    ok( port > 1, "got port %u\n", port );
    if (port > 1)
    {
        err = acquire_ports( s, port - 1, 2, &inst, &size );
        ok( err == WSAEADDRINUSE, "tcp port %u in use: got error %d\n", port, err );
        err = acquire_ports( s, port, 1, &inst, &size );
        ok( err == WSAEADDRINUSE, "tcp port %u in use: got error %d\n", port, err );
    }
    closesocket( s );
    closesocket( listener );

    /* the same for a bound UDP socket */
    udp = create_socket( AF_INET, SOCK_DGRAM );
    s = create_socket( AF_INET, SOCK_DGRAM );
    err = bind_port( udp, AF_INET, FALSE, 0 );
    ok( !err, "bind failed, error %d\n", err );
    port = local_port( udp );
    ok( port > 1, "got port %u\n", port );
    if (port > 1)
    {
        err = acquire_ports( s, port - 1, 2, &inst, &size );
        ok( err == WSAEADDRINUSE, "udp port %u in use: got error %d\n", port, err );
    }
    closesocket( s );
    closesocket( udp );
}

static void test_acquire_invalid(void)
{
    struct test_port_instance inst;
    INET_PORT_RANGE range;
    char big[32];
    DWORD size;
    SOCKET s;
    int ret, err;

    s = create_socket( AF_INET, SOCK_STREAM );
    ok( s != INVALID_SOCKET, "cannot create socket, error %d\n", WSAGetLastError() );

    /* UNVERIFIED on Windows: the error for an empty range is not documented
     * for the ioctl; the persistent API gives ERROR_INVALID_PARAMETER for
     * it, so WSAEINVAL is expected here. */
    range.StartPort = htons( TEST_PORT_FIRST );
    range.NumberOfPorts = 0;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEINVAL );
    /* UNVERIFIED on Windows: the same for a wildcard request of no ports. */
    range.StartPort = 0;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEINVAL );

    /* UNVERIFIED on Windows: a range ending past port 65535 is taken to be
     * WSAEINVAL, by analogy with the persistent API. */
    range.StartPort = htons( 65530 );
    range.NumberOfPorts = 10;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), WSAEINVAL );

    /* an output buffer smaller than the instance structure */
    range.StartPort = 0;
    range.NumberOfPorts = 1;
    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) - 1,
                    &size, NULL, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR, "got %d\n", ret );
    ok( err == WSAEINVAL, "got error %d\n", err );
    ok( !size, "got size %lu\n", size );

    /* UNVERIFIED on Windows: with no output buffer at all the size check is
     * taken to come first, giving WSAEINVAL rather than WSAEFAULT. */
    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), NULL, 0, &size, NULL, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR, "got %d\n", ret );
    ok( err == WSAEINVAL, "got error %d\n", err );
    ok( !size, "got size %lu\n", size );

    /* bad input buffers */
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, NULL, sizeof(range), &inst, sizeof(inst), WSAEFAULT );
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range) - 1, &inst, sizeof(inst), WSAEINVAL );

    /* a larger output buffer is fine; only the instance is written */
    memset( big, 0xcc, sizeof(big) );
    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), big, sizeof(big), &size, NULL, NULL );
    err = WSAGetLastError();
    ok( !ret, "got %d, error %d\n", ret, err );
    if (!ret)
    {
        ok( size == sizeof(inst), "got size %lu\n", size );
        ok( (unsigned char)big[sizeof(inst)] == 0xcc, "byte after the instance was changed\n" );
    }

    closesocket( s );
}

static void test_acquire_wildcard(void)
{
    struct test_port_instance inst[2], inst3;
    unsigned int i, j, first, last;
    SOCKET s[2], s3;
    DWORD size;
    int err;

    for (j = 0; j < ARRAY_SIZE(types); j++)
    {
        winetest_push_context( "%s", type_name( types[j] ) );
        for (i = 0; i < 2; i++)
        {
            s[i] = create_socket( AF_INET, types[j] );
            err = acquire_ports( s[i], 0, 16, &inst[i], &size );
            ok( !err, "wildcard acquire %u failed, error %d\n", i, err );
            if (err) continue;
            ok( size == sizeof(inst[i]), "got size %lu\n", size );
            ok( inst[i].NumberOfPorts == 16, "got %u ports\n", inst[i].NumberOfPorts );
            ok( inst[i].Token != INVALID_PORT_RESERVATION_TOKEN, "got token 0\n" );
            /* This assumes Windows' default dynamic range; an administrator
             * may have moved it. */
            first = ntohs( inst[i].StartPort );
            last = first + inst[i].NumberOfPorts - 1;
            ok( first >= DYNAMIC_PORT_FIRST && last <= DYNAMIC_PORT_LAST, "got block %u-%u\n", first, last );
        }

        if (inst[0].Token && inst[1].Token)
        {
            unsigned int start0 = ntohs( inst[0].StartPort ), start1 = ntohs( inst[1].StartPort );

            ok( start0 + 16 <= start1 || start1 + 16 <= start0, "blocks %u and %u overlap\n", start0, start1 );
            ok( inst[0].Token != inst[1].Token, "same token %s\n", wine_dbgstr_longlong( inst[0].Token ) );

            /* a wildcard block is a reservation like any other */
            s3 = create_socket( AF_INET, types[j] );
            err = acquire_ports( s3, start0, 1, &inst3, &size );
            ok( err == WSAEADDRINUSE, "acquire inside a wildcard block: got error %d\n", err );
            closesocket( s3 );
        }

        for (i = 0; i < 2; i++) closesocket( s[i] );
        winetest_pop_context();
    }
}

/* Input checks of release and associate. */
static void test_token_buffers(void)
{
    static const DWORD codes[] = { SIO_RELEASE_PORT_RESERVATION, SIO_ASSOCIATE_PORT_RESERVATION };
    INET_PORT_RESERVATION_TOKEN token;
    unsigned int i;
    SOCKET s;

    s = create_socket( AF_INET, SOCK_STREAM );
    token.Token = TEST_TOKEN_UNKNOWN;
    for (i = 0; i < ARRAY_SIZE(codes); i++)
    {
        winetest_push_context( "%08lx", codes[i] );
        check_ioctl_error( s, codes[i], &token, sizeof(token) - 1, NULL, 0, WSAEINVAL );
        check_ioctl_error( s, codes[i], &token, 0, NULL, 0, WSAEINVAL );
        check_ioctl_error( s, codes[i], NULL, sizeof(token), NULL, 0, WSAEFAULT );
        winetest_pop_context();
    }
    closesocket( s );
}

static void test_unsupported_socket(void)
{
    struct test_port_instance inst;
    INET_PORT_RANGE range;
    SOCKET s;

    s = socket( AF_INET, SOCK_RAW, IPPROTO_ICMP );
    if (s == INVALID_SOCKET)
    {
        skip( "cannot create a raw ICMP socket, error %d\n", WSAGetLastError() );
        return;
    }
    range.StartPort = 0;
    range.NumberOfPorts = 1;
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst),
                       WSAEOPNOTSUPP );
    range.StartPort = htons( TEST_PORT_FIRST );
    check_ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst),
                       WSAEOPNOTSUPP );
    closesocket( s );
}

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

static void test_not_socket(void)
{
    char path[MAX_PATH], name[MAX_PATH];
    HANDLE file;

    winetest_push_context( "bad handle" );
    check_not_socket( (SOCKET)0xdeadbeef, WSAENOTSOCK );
    winetest_pop_context();

    GetTempPathA( sizeof(path), path );
    GetTempFileNameA( path, "res", 0, name );
    file = CreateFileA( name, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                        FILE_FLAG_DELETE_ON_CLOSE, NULL );
    ok( file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError() );
    if (file == INVALID_HANDLE_VALUE) return;
    winetest_push_context( "file handle" );
    check_not_socket( (SOCKET)file, WSAENOTSOCK );
    winetest_pop_context();
    CloseHandle( file );
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


/* SIO_RELEASE_PORT_RESERVATION */

static void test_release(void)
{
    struct test_port_instance inst, inst2;
    SOCKET s, s2;
    USHORT start;
    DWORD size;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    s2 = create_socket( AF_INET, SOCK_STREAM );

    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        skip( "no reservation, skipping the release tests\n" );
        goto done;
    }

    /* UNVERIFIED on Windows: the byte count of a successful release is
     * taken to be 0, as there is no output. */
    err = release_token( s, inst.Token, &size );
    ok( !err, "release failed, error %d\n", err );
    ok( !size, "got size %lu\n", size );

    /* the ports are free again */
    err = acquire_ports( s2, start, 4, &inst2, &size );
    ok( !err, "acquire after release failed, error %d\n", err );

    /* UNVERIFIED on Windows: a token that is no longer valid, an unknown
     * one and the invalid token 0 are taken to give WSAEINVAL. */
    err = release_token( s, inst.Token, &size );
    ok( err == WSAEINVAL, "second release: got error %d\n", err );
    err = release_token( s, TEST_TOKEN_UNKNOWN, &size );
    ok( err == WSAEINVAL, "unknown token: got error %d\n", err );
    err = release_token( s, INVALID_PORT_RESERVATION_TOKEN, &size );
    ok( err == WSAEINVAL, "token 0: got error %d\n", err );

    /* UNVERIFIED on Windows: any socket of the owning process may release
     * a runtime reservation, here a socket that never acquired anything. */
    if (inst2.Token)
    {
        err = release_token( s, inst2.Token, &size );
        ok( !err, "release from another socket failed, error %d\n", err );
        err = acquire_ports( s2, start, 4, &inst2, &size );
        ok( !err, "acquire after release from another socket failed, error %d\n", err );
    }

done:
    close_socket( s );
    close_socket( s2 );
}

/* Runs in a child: another process's runtime token must be refused. */
static void child_foreign( const char *arg )
{
    ULONG64 token = parse_token( arg );
    DWORD size;
    SOCKET s;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    ok( s != INVALID_SOCKET, "cannot create socket, error %d\n", WSAGetLastError() );
    /* UNVERIFIED on Windows: the documentation only says runtime
     * reservations are used from the process that acquired them; the error
     * is taken to be WSAEINVAL, as for an unknown token. */
    err = associate_token( s, token, &size );
    ok( err == WSAEINVAL, "associate of a foreign token: got error %d\n", err );
    err = release_token( s, token, &size );
    ok( err == WSAEINVAL, "release of a foreign token: got error %d\n", err );
    closesocket( s );
}

static void test_foreign_token(void)
{
    struct test_port_instance inst, inst2;
    PROCESS_INFORMATION pi;
    char args[64];
    USHORT start;
    DWORD size;
    SOCKET s, s2;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        skip( "no reservation, skipping the foreign token tests\n" );
        closesocket( s );
        return;
    }

    strcpy( args, "child_foreign " );
    format_token( args + strlen( args ), inst.Token );
    if (start_child( args, &pi )) finish_child( &pi );

    /* the child's attempts did not release it */
    s2 = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s2, start, 4, &inst2, &size );
    ok( err == WSAEADDRINUSE, "reservation not held any more: got error %d\n", err );
    err = release_token( s, inst.Token, &size );
    ok( !err, "release failed, error %d\n", err );
    closesocket( s2 );
    closesocket( s );
}


/* SIO_ASSOCIATE_PORT_RESERVATION */

static void test_associate(void)
{
    struct test_port_instance inst;
    SOCKET s, s2;
    USHORT start;
    DWORD size;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    s2 = create_socket( AF_INET, SOCK_STREAM );

    /* UNVERIFIED on Windows: an unknown token and the invalid token 0 are
     * taken to give WSAEINVAL. */
    err = associate_token( s2, TEST_TOKEN_UNKNOWN, &size );
    ok( err == WSAEINVAL, "unknown token: got error %d\n", err );
    err = associate_token( s2, INVALID_PORT_RESERVATION_TOKEN, &size );
    ok( err == WSAEINVAL, "token 0: got error %d\n", err );

    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        skip( "no reservation, skipping the associate tests\n" );
        goto done;
    }

    /* UNVERIFIED on Windows: the byte count is taken to be 0. */
    err = associate_token( s2, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    ok( !size, "got size %lu\n", size );
    closesocket( s2 );

    /* UNVERIFIED on Windows: the documentation says the ioctl must come
     * before bind; the error for a bound socket is taken to be WSAEINVAL. */
    s2 = create_socket( AF_INET, SOCK_STREAM );
    err = bind_port( s2, AF_INET, TRUE, 0 );
    ok( !err, "bind failed, error %d\n", err );
    err = associate_token( s2, inst.Token, &size );
    ok( err == WSAEINVAL, "associate after bind: got error %d\n", err );

done:
    close_socket( s );
    close_socket( s2 );
}

static void test_associate_bind_one( int family, int type )
{
    struct test_port_instance inst;
    SOCKET acq, s1, s2, s3, s4;
    USHORT start, port;
    DWORD size;
    int err;

    acq = create_socket( family, type );
    if (acq == INVALID_SOCKET)
    {
        skip( "cannot create socket, error %d\n", WSAGetLastError() );
        return;
    }
    err = acquire_free_range( acq, 3, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( acq );
        return;
    }

    /* UNVERIFIED on Windows: the documentation does not say which free port
     * of the reservation a bind to port 0 gets; the lowest is expected. */
    s1 = create_socket( family, type );
    err = associate_token( s1, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    err = bind_port( s1, family, FALSE, 0 );
    ok( !err, "bind to the wildcard address failed, error %d\n", err );
    port = local_port( s1 );
    ok( port == start, "got port %u, expected %u\n", port, start );

    s2 = create_socket( family, type );
    err = associate_token( s2, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    err = bind_port( s2, family, TRUE, 0 );
    ok( !err, "bind to loopback failed, error %d\n", err );
    port = local_port( s2 );
    ok( port == start + 1, "got port %u, expected %u\n", port, start + 1 );

    /* the acquiring socket may use its own reservation, here with an
     * explicit port inside it */
    err = associate_token( acq, inst.Token, &size );
    ok( !err, "associate of the acquiring socket failed, error %d\n", err );
    err = bind_port( acq, family, TRUE, start + 2 );
    ok( !err, "bind to port %u inside the reservation failed, error %d\n", start + 2, err );
    port = local_port( acq );
    ok( port == start + 2, "got port %u, expected %u\n", port, start + 2 );

    /* UNVERIFIED on Windows: the documentation only says bind fails when
     * every port of the reservation is taken; WSAEADDRINUSE is expected. */
    s3 = create_socket( family, type );
    err = associate_token( s3, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    err = bind_port( s3, family, FALSE, 0 );
    ok( err == WSAEADDRINUSE, "bind with the reservation used up: got error %d\n", err );

    /* UNVERIFIED on Windows: an explicit port outside the associated
     * reservation is taken to give WSAEINVAL. */
    s4 = create_socket( family, type );
    err = associate_token( s4, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    err = bind_port( s4, family, TRUE, start + 3 );
    ok( err == WSAEINVAL, "bind to port %u outside the reservation: got error %d\n", start + 3, err );

    close_socket( s1 );
    close_socket( s2 );
    close_socket( s3 );
    close_socket( s4 );
    closesocket( acq );
}

static void test_associate_bind(void)
{
    unsigned int i, j;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            winetest_push_context( "%s %s", family_name( families[i] ), type_name( types[j] ) );
            test_associate_bind_one( families[i], types[j] );
            winetest_pop_context();
        }
    }
}


/* Overlapped acquire.  The overlapped structures and output buffers are
 * static, so that a completion arriving after a timeout writes to memory
 * that is still there. */

static WSAOVERLAPPED event_overlapped, apc_overlapped, iocp_overlapped;
static struct test_port_instance event_instance, apc_instance, iocp_instance;

static LONG apc_count;
static DWORD apc_error, apc_bytes;
static WSAOVERLAPPED *apc_seen;

static void WINAPI acquire_completion( DWORD error, DWORD transferred, WSAOVERLAPPED *overlapped, DWORD flags )
{
    apc_error = error;
    apc_bytes = transferred;
    apc_seen = overlapped;
    InterlockedIncrement( &apc_count );
}

static void check_block( const struct test_port_instance *inst, USHORT count )
{
    ok( inst->NumberOfPorts == count, "got %u ports\n", inst->NumberOfPorts );
    ok( inst->StartPort != 0, "got start port 0\n" );
    ok( inst->Token != INVALID_PORT_RESERVATION_TOKEN, "got token 0\n" );
}

static void test_overlapped_event(void)
{
    INET_PORT_RANGE range;
    DWORD size, bytes, flags, wait;
    SOCKET s;
    BOOL bret;
    int ret, err;

    s = create_socket( AF_INET, SOCK_STREAM );
    memset( &event_overlapped, 0, sizeof(event_overlapped) );
    memset( &event_instance, 0, sizeof(event_instance) );
    event_overlapped.hEvent = CreateEventA( NULL, TRUE, FALSE, NULL );
    range.StartPort = 0;
    range.NumberOfPorts = 2;

    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &event_instance,
                    sizeof(event_instance), &size, &event_overlapped, NULL );
    err = WSAGetLastError();
    ok( !ret, "got %d, error %d\n", ret, err );

    wait = WaitForSingleObject( event_overlapped.hEvent, 5000 );
    ok( wait == WAIT_OBJECT_0, "event not signalled: %lu\n", wait );

    bytes = 0xdeadbeef;
    flags = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    bret = WSAGetOverlappedResult( s, &event_overlapped, &bytes, FALSE, &flags );
    err = WSAGetLastError();
    ok( bret, "WSAGetOverlappedResult failed, error %d\n", err );
    /* UNVERIFIED on Windows: the completion is taken to report the size of
     * the instance structure, like the synchronous call. */
    ok( bytes == sizeof(event_instance), "got %lu bytes\n", bytes );
    if (bret) check_block( &event_instance, 2 );

    closesocket( s );
    CloseHandle( event_overlapped.hEvent );
}

static void test_overlapped_apc(void)
{
    INET_PORT_RANGE range;
    DWORD size, start;
    SOCKET s;
    int ret, err;

    s = create_socket( AF_INET, SOCK_DGRAM );
    memset( &apc_overlapped, 0, sizeof(apc_overlapped) );
    memset( &apc_instance, 0, sizeof(apc_instance) );
    apc_count = 0;
    apc_error = 0xdeadbeef;
    apc_bytes = 0xdeadbeef;
    apc_seen = NULL;
    range.StartPort = 0;
    range.NumberOfPorts = 3;

    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &apc_instance,
                    sizeof(apc_instance), &size, &apc_overlapped, acquire_completion );
    err = WSAGetLastError();
    ok( !ret, "got %d, error %d\n", ret, err );
    ok( !apc_count, "completion routine ran before an alertable wait\n" );

    start = GetTickCount();
    while (!apc_count && GetTickCount() - start < 5000) SleepEx( 100, TRUE );
    ok( apc_count == 1, "completion routine ran %ld times\n", apc_count );
    if (apc_count)
    {
        ok( !apc_error, "got error %lu\n", apc_error );
        /* UNVERIFIED on Windows: see test_overlapped_event */
        ok( apc_bytes == sizeof(apc_instance), "got %lu bytes\n", apc_bytes );
        ok( apc_seen == &apc_overlapped, "got overlapped %p, expected %p\n", apc_seen, &apc_overlapped );
        if (!apc_error) check_block( &apc_instance, 3 );
    }

    closesocket( s );
    SleepEx( 0, TRUE );
}

static void test_overlapped_iocp(void)
{
    INET_PORT_RANGE range;
    OVERLAPPED *overlapped;
    DWORD size, bytes;
    ULONG_PTR key;
    HANDLE port;
    SOCKET s;
    BOOL bret;
    int ret, err;

    s = create_socket( AF_INET, SOCK_STREAM );
    port = CreateIoCompletionPort( (HANDLE)s, NULL, TEST_IOCP_KEY, 0 );
    ok( port != NULL, "CreateIoCompletionPort failed, error %lu\n", GetLastError() );
    if (!port)
    {
        closesocket( s );
        return;
    }
    memset( &iocp_overlapped, 0, sizeof(iocp_overlapped) );
    memset( &iocp_instance, 0, sizeof(iocp_instance) );
    range.StartPort = 0;
    range.NumberOfPorts = 4;

    size = 0xdeadbeef;
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &iocp_instance,
                    sizeof(iocp_instance), &size, &iocp_overlapped, NULL );
    err = WSAGetLastError();
    ok( !ret, "got %d, error %d\n", ret, err );

    bytes = 0xdeadbeef;
    key = 0xdeadbeef;
    overlapped = NULL;
    bret = GetQueuedCompletionStatus( port, &bytes, &key, &overlapped, 5000 );
    ok( bret, "GetQueuedCompletionStatus failed, error %lu\n", GetLastError() );
    ok( key == TEST_IOCP_KEY, "got key %#Ix\n", key );
    ok( overlapped == (OVERLAPPED *)&iocp_overlapped, "got overlapped %p, expected %p\n",
        overlapped, &iocp_overlapped );
    /* UNVERIFIED on Windows: see test_overlapped_event.  Wine completes
     * ioctls handled inside the process with no byte count. */
    todo_wine
    ok( bytes == sizeof(iocp_instance), "got %lu bytes\n", bytes );
    if (bret) check_block( &iocp_instance, 4 );

    closesocket( s );
    CloseHandle( port );
}


/* Lifetime */

static void test_closesocket(void)
{
    struct test_port_instance inst, inst2;
    SOCKET s, s2, reused[8];
    unsigned int i, count;
    SOCKET old;
    USHORT start, port;
    DWORD size;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        skip( "no reservation, skipping the closesocket tests\n" );
        closesocket( s );
        return;
    }
    /* the acquiring socket is associated with its own reservation too */
    err = associate_token( s, inst.Token, &size );
    ok( !err, "associate failed, error %d\n", err );
    old = s;
    closesocket( s );

    /* A new socket with the old handle value carries nothing of the old
     * one: it is not associated, so port 0 is not taken from the range. */
    count = 0;
    s = INVALID_SOCKET;
    for (i = 0; i < ARRAY_SIZE(reused); i++)
    {
        reused[i] = create_socket( AF_INET, SOCK_STREAM );
        count = i + 1;
        if (reused[i] == old)
        {
            s = reused[i];
            break;
        }
    }
    if (s != INVALID_SOCKET)
    {
        err = bind_port( s, AF_INET, TRUE, 0 );
        ok( !err, "bind failed, error %d\n", err );
        port = local_port( s );
        ok( port < start || port >= start + 4, "port %u is inside the released range %u-%u\n",
            port, start, start + 3 );
    }
    else skip( "socket handle %#Ix was not reused\n", (ULONG_PTR)old );
    for (i = 0; i < count; i++) close_socket( reused[i] );

    /* UNVERIFIED on Windows: the release at closesocket is taken to be
     * complete when closesocket returns. */
    s2 = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s2, start, 4, &inst2, &size );
    ok( !err, "acquire after closesocket failed, error %d\n", err );
    closesocket( s2 );
}

/* Runs in a child: holds a TCP reservation until it is killed. */
static void child_hold( const char *start_arg, const char *count_arg, const char *pid_arg )
{
    struct test_port_instance inst;
    char name[64];
    HANDLE event;
    DWORD size;
    SOCKET s;
    int err;

    sprintf( name, "portres_reservation_hold_%lu", strtoul( pid_arg, NULL, 10 ) );
    event = OpenEventA( EVENT_MODIFY_STATE, FALSE, name );
    ok( event != NULL, "OpenEvent failed, error %lu\n", GetLastError() );
    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s, (USHORT)atoi( start_arg ), (USHORT)atoi( count_arg ), &inst, &size );
    ok( !err, "acquire in the child failed, error %d\n", err );
    if (!err && event)
    {
        SetEvent( event );
        /* the parent kills us; this is only for when it does not */
        Sleep( 30000 );
    }
    closesocket( s );
    if (event) CloseHandle( event );
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

static void test_explicit_bind(void)
{
    struct test_port_instance inst;
    USHORT start;
    DWORD size;
    SOCKET s;
    int err;

    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (err)
    {
        closesocket( s );
        return;
    }
    /* the process's own sockets are refused too, the acquiring one included */
    check_explicit_binds( start, 4 );
    err = bind_port( s, AF_INET, TRUE, start + 1 );
    ok( err == WSAEACCES, "the acquiring socket bound into its own reservation: got error %d\n", err );
    closesocket( s );

    /* once released, the ports are ordinary ones */
    s = create_socket( AF_INET, SOCK_STREAM );
    err = bind_port( s, AF_INET, TRUE, start );
    ok( err != WSAEACCES, "bind after the release: got error %d\n", err );
    closesocket( s );
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

/* With SO_REUSEADDR or SO_EXCLUSIVEADDRUSE set, a port-0 bind still gets a
 * port of its own, and the option stays as the program set it. */
static void check_automatic_binds_options( const struct reserved_blocks *blocks, int family, int type, int option )
{
    static SOCKET sockets[AUTO_BINDS];
    static USHORT ports[AUTO_BINDS];
    unsigned int i, j, failed = 0, landed = 0, shared = 0, lost = 0;
    BOOL on = TRUE, value;
    int len;

    for (i = 0; i < AUTO_BINDS; i++)
    {
        sockets[i] = create_socket( family, type );
        ports[i] = 0;
        if (setsockopt( sockets[i], SOL_SOCKET, option, (char *)&on, sizeof(on) ) ||
            bind_port( sockets[i], family, FALSE, 0 ) || !(ports[i] = local_port( sockets[i] )))
        {
            failed++;
            continue;
        }
        if (in_blocks( blocks, type, ports[i] )) landed++;
        value = FALSE;
        len = sizeof(value);
        if (getsockopt( sockets[i], SOL_SOCKET, option, (char *)&value, &len ) || !value) lost++;
    }
    for (i = 0; i < AUTO_BINDS; i++)
        for (j = i + 1; j < AUTO_BINDS; j++)
            if (ports[i] && ports[i] == ports[j]) shared++;
    for (i = 0; i < AUTO_BINDS; i++) closesocket( sockets[i] );
    ok( !failed, "%u of %u binds failed\n", failed, AUTO_BINDS );
    ok( !landed, "%u of %u binds got a reserved port\n", landed, AUTO_BINDS );
    ok( !shared, "%u ports were given twice\n", shared );
    ok( !lost, "the option was lost on %u sockets\n", lost );
}

static void test_automatic_bind(void)
{
    struct reserved_blocks blocks;
    unsigned int i, j;

    if (!reserve_blocks( &blocks ))
    {
        release_blocks( &blocks );
        return;
    }
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(types); j++)
        {
            winetest_push_context( "%s %s", family_name( families[i] ), type_name( types[j] ) );
            check_automatic_binds( &blocks, families[i], types[j] );
            winetest_push_context( "SO_REUSEADDR" );
            check_automatic_binds_options( &blocks, families[i], types[j], SO_REUSEADDR );
            winetest_pop_context();
            winetest_push_context( "SO_EXCLUSIVEADDRUSE" );
            check_automatic_binds_options( &blocks, families[i], types[j], SO_EXCLUSIVEADDRUSE );
            winetest_pop_context();
            winetest_pop_context();
        }
    }
    release_blocks( &blocks );
}

enum implicit_method
{
    METHOD_CONNECT,
    METHOD_WSACONNECT,
    METHOD_SENDTO,
    METHOD_WSASENDTO,
    METHOD_WSASENDMSG,
};

static const char * const method_names[] = { "connect", "WSAConnect", "sendto", "WSASendTo", "WSASendMsg" };

static LPFN_WSASENDMSG get_sendmsg( SOCKET s )
{
    GUID guid = WSAID_WSASENDMSG;
    LPFN_WSASENDMSG func = NULL;
    DWORD size = 0;

    WSAIoctl( s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &func, sizeof(func), &size, NULL, NULL );
    return func;
}

/* the call of a method that binds an unbound socket; 0 or the WSA error */
static int call_method( enum implicit_method method, SOCKET s, const struct sockaddr *to, int to_len )
{
    char data[1] = { 'x' };
    WSABUF buf;
    WSAMSG msg;
    DWORD sent = 0;
    LPFN_WSASENDMSG sendmsg_func;
    int ret = SOCKET_ERROR;

    buf.buf = data;
    buf.len = sizeof(data);
    switch (method)
    {
    case METHOD_CONNECT:
        ret = connect( s, to, to_len );
        break;
    case METHOD_WSACONNECT:
        ret = WSAConnect( s, to, to_len, NULL, NULL, NULL, NULL );
        break;
    case METHOD_SENDTO:
        ret = sendto( s, data, sizeof(data), 0, to, to_len ) == sizeof(data) ? 0 : SOCKET_ERROR;
        break;
    case METHOD_WSASENDTO:
        ret = WSASendTo( s, &buf, 1, &sent, 0, to, to_len, NULL, NULL );
        break;
    case METHOD_WSASENDMSG:
        if (!(sendmsg_func = get_sendmsg( s ))) return WSAEOPNOTSUPP;
        memset( &msg, 0, sizeof(msg) );
        msg.name = (struct sockaddr *)to;
        msg.namelen = to_len;
        msg.lpBuffers = &buf;
        msg.dwBufferCount = 1;
        ret = sendmsg_func( s, &msg, 0, &sent, NULL, NULL );
        break;
    }
    return ret ? WSAGetLastError() : 0;
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

/* closes a connected TCP socket with a reset, so that its port does not stay
 * in TIME_WAIT where later tests, ours or others, want to reserve it */
static void close_abortive( SOCKET s )
{
    LINGER linger = { 1, 0 };

    setsockopt( s, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger) );
    closesocket( s );
}

static void check_implicit_binds( const struct reserved_blocks *blocks, int family, enum implicit_method method )
{
    int type = method <= METHOD_WSACONNECT ? SOCK_STREAM : SOCK_DGRAM;
    unsigned int i, failed = 0, landed = 0;
    struct sockaddr_storage addr;
    SOCKET peer, s, accepted;
    int len, err = 0;
    USHORT port;

    winetest_push_context( "%s %s", family_name( family ), method_names[method] );
    if ((peer = create_peer( family, type, &addr, &len )) == INVALID_SOCKET)
    {
        winetest_pop_context();
        return;
    }
    for (i = 0; i < IMPLICIT_BINDS; i++)
    {
        s = create_socket( family, type );
        if ((err = call_method( method, s, (struct sockaddr *)&addr, len )) || !(port = local_port( s ))) failed++;
        else if (in_blocks( blocks, type, port )) landed++;
        if (type == SOCK_STREAM && !err && (accepted = accept( peer, NULL, NULL )) != INVALID_SOCKET)
            close_abortive( accepted );
        if (type == SOCK_STREAM) close_abortive( s );
        else closesocket( s );
    }
    ok( !failed, "%u of %u calls failed, the last with error %d\n", failed, IMPLICIT_BINDS, err );
    ok( !landed, "%u of %u implicit binds got a reserved port\n", landed, IMPLICIT_BINDS );
    closesocket( peer );
    winetest_pop_context();
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

static void test_implicit_bind(void)
{
    struct reserved_blocks blocks;
    unsigned int i, method;

    if (!reserve_blocks( &blocks ))
    {
        release_blocks( &blocks );
        return;
    }
    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (method = METHOD_CONNECT; method <= METHOD_WSASENDMSG; method++)
            check_implicit_binds( &blocks, families[i], method );
        check_no_implicit_bind( families[i] );
    }
    release_blocks( &blocks );
}

/* An associated socket that connect or sendto binds gets its port from the
 * reservation: the documentation says the port is selected from it "if and
 * when the socket is bound". */
static void test_associate_implicit_bind(void)
{
    static const enum implicit_method methods[] = { METHOD_CONNECT, METHOD_SENDTO, METHOD_WSASENDMSG };
    struct test_port_instance inst;
    struct sockaddr_storage addr;
    SOCKET holder, peer, s, accepted;
    unsigned int i, j;
    USHORT start, port;
    DWORD size;
    int err, len, type;

    for (i = 0; i < ARRAY_SIZE(families); i++)
    {
        for (j = 0; j < ARRAY_SIZE(methods); j++)
        {
            winetest_push_context( "%s %s", family_name( families[i] ), method_names[methods[j]] );
            type = methods[j] <= METHOD_WSACONNECT ? SOCK_STREAM : SOCK_DGRAM;
            holder = create_socket( families[i], type );
            err = acquire_free_range( holder, 4, &start, &inst, &size );
            ok( !err, "acquire failed, error %d\n", err );
            if (!err && (peer = create_peer( families[i], type, &addr, &len )) != INVALID_SOCKET)
            {
                s = create_socket( families[i], type );
                err = associate_token( s, inst.Token, &size );
                ok( !err, "associate failed, error %d\n", err );
                err = call_method( methods[j], s, (struct sockaddr *)&addr, len );
                ok( !err, "the call failed, error %d\n", err );
                port = local_port( s );
                ok( port >= start && port < start + 4, "got port %u, reservation %u-%u\n", port, start, start + 3 );
                if (type == SOCK_STREAM && !err && (accepted = accept( peer, NULL, NULL )) != INVALID_SOCKET)
                    close_abortive( accepted );
                if (type == SOCK_STREAM) close_abortive( s );
                else closesocket( s );
                closesocket( peer );
            }
            closesocket( holder );
            winetest_pop_context();
        }
    }
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
    USHORT port;
    SOCKET s;
    int ret;

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
        ok( !ret && port, "bind to port 0 failed, error %d\n", ret );
        if (ret || !port) return 0;
        start = port - port % AUTO_BLOCK_SIZE;
        err = pCreatePersistentTcpPortReservation( htons( start ), count, &token );
    }
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

static void test_process_exit(void)
{
    struct test_port_instance inst;
    PROCESS_INFORMATION pi;
    HANDLE event, handles[2];
    char name[64], args[64];
    DWORD wait, ticks;
    USHORT start;
    DWORD size;
    SOCKET s;
    int err;

    /* find a free range, and give it up again for the child */
    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_free_range( s, 4, &start, &inst, &size );
    ok( !err, "acquire failed, error %d\n", err );
    if (!err)
    {
        err = release_token( s, inst.Token, &size );
        ok( !err, "release failed, error %d\n", err );
    }
    closesocket( s );
    if (err)
    {
        skip( "no reservation, skipping the process exit tests\n" );
        return;
    }

    sprintf( name, "portres_reservation_hold_%lu", GetCurrentProcessId() );
    event = CreateEventA( NULL, TRUE, FALSE, name );
    ok( event != NULL, "CreateEvent failed, error %lu\n", GetLastError() );
    if (!event) return;
    sprintf( args, "child_hold %u 4 %lu", start, GetCurrentProcessId() );
    if (!start_child( args, &pi ))
    {
        CloseHandle( event );
        return;
    }

    handles[0] = event;
    handles[1] = pi.hProcess;
    wait = WaitForMultipleObjects( 2, handles, FALSE, 15000 );
    ok( wait == WAIT_OBJECT_0, "child did not acquire the range: %lu\n", wait );
    if (wait != WAIT_OBJECT_0)
    {
        /* the child reports its own failures through its exit code */
        finish_child( &pi );
        CloseHandle( event );
        return;
    }

    /* a reservation of another process is in the way as well */
    s = create_socket( AF_INET, SOCK_STREAM );
    err = acquire_ports( s, start, 4, &inst, &size );
    ok( err == WSAEADDRINUSE, "range held by the child: got error %d\n", err );
    err = acquire_ports( s, start + 3, 2, &inst, &size );
    ok( err == WSAEADDRINUSE, "range overlapping the child's: got error %d\n", err );
    closesocket( s );

    /* nor can an ordinary socket of ours bind into it; the other protocol can */
    check_explicit_binds( start, 4 );

    TerminateProcess( pi.hProcess, 0 );
    wait = WaitForSingleObject( pi.hProcess, 5000 );
    ok( wait == WAIT_OBJECT_0, "child did not end: %lu\n", wait );
    CloseHandle( pi.hProcess );
    CloseHandle( pi.hThread );
    CloseHandle( event );

    /* the system frees the ports of a dead process, maybe a bit later */
    s = create_socket( AF_INET, SOCK_STREAM );
    ticks = GetTickCount();
    do
    {
        err = acquire_ports( s, start, 4, &inst, &size );
        if (err != WSAEADDRINUSE) break;
        Sleep( 100 );
    } while (GetTickCount() - ticks < 5000);
    ok( !err, "range of the killed child not released, error %d\n", err );
    closesocket( s );
}

/* The life of a reservation is the socket's: whatever closes the last
 * handle of it ends it, and nothing else does. */

/* Whether the specific range [start, start + count) is free for a runtime
 * reservation now, asked with a fresh socket that acquires and releases it:
 * 0, or the WSA error of the acquire. */
static int range_free( USHORT start, USHORT count )
{
    struct test_port_instance inst;
    SOCKET probe = create_socket( AF_INET, SOCK_STREAM );
    int err = acquire_ports( probe, start, count, &inst, NULL );

    if (!err) release_token( probe, inst.Token, NULL );
    closesocket( probe );
    return err;
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

static void test_close_handle(void)
{
    unsigned int associate;
    ULONG64 token;
    USHORT start;
    SOCKET s;
    int err;

    for (associate = 0; associate < 2; associate++)
    {
        winetest_push_context( associate ? "associated" : "acquired" );
        if ((s = reserved_socket( associate, &start, &token )) != INVALID_SOCKET)
        {
            err = range_free( start, 4 );
            ok( err == WSAEADDRINUSE, "range of a live socket: got error %d\n", err );
            ok( CloseHandle( (HANDLE)s ), "CloseHandle failed, error %lu\n", GetLastError() );
            /* UNVERIFIED on Windows: the release is taken to be complete
             * when the last handle is closed, as for closesocket */
            err = range_free( start, 4 );
            ok( !err, "range of a socket closed with CloseHandle: got error %d\n", err );
        }
        winetest_pop_context();
    }
}

/* RPC libraries wrap sockets in CRT descriptors and close them with _close,
 * which closes the handle behind closesocket's back; ms-nfs41-client's
 * bindresvport() takes each of its ports so, one port of 600-1023 at a time */
static void test_crt_close(void)
{
    struct test_port_instance inst;
    unsigned int i, done = 0, refused = 0;
    USHORT port = 600, bound;
    int fd, err = 0, tries;
    SOCKET s;

    for (i = 0; i < 1000; i++)
    {
        s = create_socket( AF_INET, SOCK_STREAM );
        fd = _open_osfhandle( (intptr_t)s, _O_RDWR | _O_BINARY );
        ok( fd != -1, "_open_osfhandle failed\n" );
        if (fd == -1)
        {
            closesocket( s );
            break;
        }
        /* another program may hold a port: the next one is tried, as bindresvport does */
        for (tries = 0; tries < 424; tries++)
        {
            if (!(err = acquire_ports( s, port, 1, &inst, NULL ))) break;
            if (err != WSAEADDRINUSE && err != WSAEACCES) break;
            port = port == 1023 ? 600 : port + 1;
        }
        if (!err && !(err = associate_token( s, inst.Token, NULL )) && !(err = bind_port( s, AF_INET, TRUE, 0 )))
        {
            bound = local_port( s );
            ok( bound == port, "iteration %u: bound to %u, reserved %u\n", i, bound, port );
            done++;
        }
        else if (err == WSAEACCES) refused++;
        _close( fd );
        port = port == 1023 ? 600 : port + 1;
        if (err) break;
    }
    if (refused && !done)
    {
        skip( "ports below 1024 need privileges here\n" );
        return;
    }
    ok( done == 1000, "ran out after %u reservations, error %d at port %u\n", done, err, port );
}

static void test_duplicate_handle(void)
{
    unsigned int associate, close_source;
    HANDLE dup;
    ULONG64 token;
    USHORT start, port;
    SOCKET s;
    BOOL ret;
    int err;

    for (associate = 0; associate < 2; associate++)
    for (close_source = 0; close_source < 2; close_source++)
    {
        winetest_push_context( "%s%s", associate ? "associated" : "acquired", close_source ? ", close source" : "" );
        if ((s = reserved_socket( associate, &start, &token )) == INVALID_SOCKET)
        {
            winetest_pop_context();
            continue;
        }
        ret = DuplicateHandle( GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &dup, 0, FALSE,
                               DUPLICATE_SAME_ACCESS | (close_source ? DUPLICATE_CLOSE_SOURCE : 0) );
        ok( ret, "DuplicateHandle failed, error %lu\n", GetLastError() );
        if (!ret)
        {
            closesocket( s );
            winetest_pop_context();
            continue;
        }
        if (!close_source) closesocket( s );
        /* the socket lives on in the duplicate, with its reservation */
        err = range_free( start, 4 );
        ok( err == WSAEADDRINUSE, "range after the original handle was closed: got error %d\n", err );
        if (associate)
        {
            /* and with its association, whichever handle binds it */
            err = bind_port( (SOCKET)dup, AF_INET, TRUE, 0 );
            ok( !err, "bind of the duplicate failed, error %d\n", err );
            port = local_port( (SOCKET)dup );
            ok( port >= start && port < start + 4, "the duplicate bound to %u, reservation %u-%u\n", port,
                start, start + 3 );
        }
        else
        {
            err = release_token( (SOCKET)dup, token, NULL );
            ok( !err, "release through the duplicate failed, error %d\n", err );
            err = range_free( start, 4 );
            ok( !err, "range after the release: got error %d\n", err );
            err = acquire_ports( (SOCKET)dup, start, 4, (struct test_port_instance *)&token, NULL );
            ok( !err, "acquire again through the duplicate failed, error %d\n", err );
        }
        closesocket( (SOCKET)dup );
        err = range_free( start, 4 );
        ok( !err, "range after the last handle was closed: got error %d\n", err );
        winetest_pop_context();
    }
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

/* Runs in a child: takes the socket the parent described in a file mapping
 * (WSADuplicateSocket), or inherited as a handle value, and keeps it until
 * the parent sets the event, then closes it and says so. */
static void child_socket( const char *how, const char *arg, const char *pid_arg )
{
    char name[64];
    HANDLE ready, done, mapping;
    WSAPROTOCOL_INFOW *info;
    SOCKET s = INVALID_SOCKET;

    sprintf( name, "portres_lifetime_ready_%s", pid_arg );
    ready = OpenEventA( EVENT_MODIFY_STATE, FALSE, name );
    sprintf( name, "portres_lifetime_done_%s", pid_arg );
    done = OpenEventA( SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name );
    ok( ready && done, "OpenEvent failed, error %lu\n", GetLastError() );
    if (!strcmp( how, "dup" ))
    {
        mapping = OpenFileMappingA( FILE_MAP_READ, FALSE, arg );
        ok( mapping != NULL, "OpenFileMapping failed, error %lu\n", GetLastError() );
        if (mapping && (info = MapViewOfFile( mapping, FILE_MAP_READ, 0, 0, sizeof(*info) )))
        {
            s = WSASocketW( FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, info, 0, 0 );
            ok( s != INVALID_SOCKET, "WSASocket failed, error %d\n", WSAGetLastError() );
            UnmapViewOfFile( info );
        }
        if (mapping) CloseHandle( mapping );
    }
    else s = (SOCKET)strtoull( arg, NULL, 16 );
    if (ready) SetEvent( ready );
    if (done) WaitForSingleObject( done, 20000 );
    if (s != INVALID_SOCKET) closesocket( s );
    if (ready) SetEvent( ready );
    if (ready) CloseHandle( ready );
    if (done) CloseHandle( done );
}

/* the socket lives in a child (a WSADuplicateSocket copy, or an inherited
 * handle) while the parent closes its own handle */
static void test_other_process_handle(void)
{
    PROCESS_INFORMATION pi;
    STARTUPINFOA si;
    WSAPROTOCOL_INFOW *info;
    HANDLE ready, done, mapping = NULL;
    char name[64], cmdline[MAX_PATH + 160], **argv;
    unsigned int how;
    ULONG64 token;
    USHORT start;
    SOCKET s;
    BOOL ret;
    int err;

    winetest_get_mainargs( &argv );
    for (how = 0; how < 2; how++)
    {
        winetest_push_context( how ? "inherited" : "WSADuplicateSocket" );
        if ((s = reserved_socket( FALSE, &start, &token )) == INVALID_SOCKET)
        {
            winetest_pop_context();
            continue;
        }
        sprintf( name, "portres_lifetime_ready_%lu", GetCurrentProcessId() );
        ready = CreateEventA( NULL, FALSE, FALSE, name );
        sprintf( name, "portres_lifetime_done_%lu", GetCurrentProcessId() );
        done = CreateEventA( NULL, TRUE, FALSE, name );
        memset( &si, 0, sizeof(si) );
        si.cb = sizeof(si);
        if (how)
        {
            sprintf( cmdline, "\"%s\" reservation child_socket inherit %lx %lu", argv[0], (ULONG)(ULONG_PTR)s,
                     GetCurrentProcessId() );
            ret = CreateProcessA( NULL, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi );
        }
        else
        {
            sprintf( name, "portres_lifetime_info_%lu", GetCurrentProcessId() );
            mapping = CreateFileMappingA( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(*info), name );
            sprintf( cmdline, "\"%s\" reservation child_socket dup %s %lu", argv[0], name, GetCurrentProcessId() );
            ret = CreateProcessA( NULL, cmdline, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL, NULL, &si, &pi );
            if (ret && mapping && (info = MapViewOfFile( mapping, FILE_MAP_WRITE, 0, 0, sizeof(*info) )))
            {
                err = WSADuplicateSocketW( s, pi.dwProcessId, info );
                ok( !err, "WSADuplicateSocket failed, error %d\n", WSAGetLastError() );
                UnmapViewOfFile( info );
            }
            if (ret) ResumeThread( pi.hThread );
        }
        ok( ret, "CreateProcess failed, error %lu\n", GetLastError() );
        if (ret)
        {
            ok( !WaitForSingleObject( ready, 20000 ), "the child did not take the socket\n" );
            closesocket( s );
            s = INVALID_SOCKET;
            err = range_free( start, 4 );
            ok( err == WSAEADDRINUSE, "range while the child holds the socket: got error %d\n", err );
            SetEvent( done );
            ok( !WaitForSingleObject( ready, 20000 ), "the child did not close the socket\n" );
            /* UNVERIFIED on Windows: the child's closesocket, the last
             * handle, is taken to end the reservation at once */
            err = range_free( start, 4 );
            ok( !err, "range after the child closed the socket: got error %d\n", err );
            finish_child( &pi );
        }
        if (s != INVALID_SOCKET) closesocket( s );
        if (mapping) CloseHandle( mapping );
        mapping = NULL;
        CloseHandle( ready );
        CloseHandle( done );
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

START_TEST(reservation)
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
        if (!strcmp( argv[2], "child_foreign" ) && argc >= 4)
            child_foreign( argv[3] );
        else if (!strcmp( argv[2], "child_hold" ) && argc >= 6)
            child_hold( argv[3], argv[4], argv[5] );
        else if (!strcmp( argv[2], "child_binds" ) && argc >= 4)
            child_binds( argc, argv );
        else if (!strcmp( argv[2], "child_socket" ) && argc >= 6)
            child_socket( argv[3], argv[4], argv[5] );
        else if (!strcmp( argv[2], "child_persistent" ))
            child_persistent();
        else
            ok( 0, "unknown child mode %s\n", argv[2] );
        WSACleanup();
        return;
    }

    test_acquire();
    test_acquire_overlap();
    test_acquire_port_in_use();
    test_acquire_invalid();
    test_acquire_wildcard();
    test_token_buffers();
    test_unsupported_socket();
    test_not_socket();
    test_not_initialised();
    test_release();
    test_foreign_token();
    test_associate();
    test_associate_bind();
    test_overlapped_event();
    test_overlapped_apc();
    test_overlapped_iocp();
    test_closesocket();
    test_explicit_bind();
    test_automatic_bind();
    test_implicit_bind();
    test_associate_implicit_bind();
    test_other_process_binds();
    test_persistent_bind();
    test_process_exit();
    test_close_handle();
    test_crt_close();
    test_duplicate_handle();
    test_reused_handle();
    test_other_process_handle();
    test_bind_address_lengths();

    WSACleanup();
}
