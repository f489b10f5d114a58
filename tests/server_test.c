/*
 * Tests against real server processes: several clients, ownership, release
 * when a client goes away, the start-up race, persistence across restarts
 * and crashes, malformed requests; the ports of every test are a block that
 * is free when the test runs (test_free_ports)
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

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

/* the server directory of the current prefix; 0, or -1 when there is none */
static int find_server_dir( char *buf, size_t size )
{
    char prefix[PORTRES_PATH_MAX];

    if (portres_prefix_dir( prefix, sizeof(prefix), 1 ) || portres_server_dir( prefix, buf, size, 1 )) return -1;
    return 0;
}

static void server_dir( char *buf, size_t size )
{
    check( !find_server_dir( buf, size ), "server dir: %s", portres_error_message() );
}

/* pid holding the server lock of the current prefix, 0 if none, -1 when the
 * server directory is unknown (the conditions polled need no check of their
 * own, so that the count of checks does not depend on the time taken) */
static int lock_owner( void )
{
    char dir[PORTRES_PATH_MAX], path[PORTRES_PATH_MAX + 8];

    if (find_server_dir( dir, sizeof(dir) ))
    {
        printf( "server dir: %s\n", portres_error_message() );
        return -1;
    }
    snprintf( path, sizeof(path), "%s/lock", dir );
    return test_lock_owner( path );
}

static int no_server( const void *ctx )
{
    return !lock_owner();
}

static int port_free( const void *ctx )
{
    const unsigned int *args = ctx;   /* protocol, port */
    struct query_port_reply info;
    return !test_query_port( args[0], args[1], &info ) && !info.kind;
}

static int wait_port_free( unsigned int protocol, unsigned int port )
{
    unsigned int args[2] = { protocol, port };
    return test_wait_for( port_free, args );
}

static unsigned int current_server( void )
{
    unsigned int pid = 0;
    check( portres_connect( &pid ) == STATUS_SUCCESS, "connect: %s", portres_error_message() );
    return pid;
}

/* a raw connection, for speaking the protocol wrongly */
static int raw_connect( void )
{
    char dir[PORTRES_PATH_MAX];
    struct sockaddr_un addr;
    int fd;

    current_server();  /* make sure one runs */
    server_dir( dir, sizeof(dir) );
    memset( &addr, 0, sizeof(addr) );
    addr.sun_family = AF_UNIX;
    check( snprintf( addr.sun_path, sizeof(addr.sun_path), "%s/socket", dir ) < (int)sizeof(addr.sun_path),
           "raw connect: server directory too long: %s", dir );
    fd = socket( AF_UNIX, SOCK_STREAM, 0 );
    check( connect( fd, (struct sockaddr *)&addr, sizeof(addr) ) == 0, "raw connect: %s", strerror( errno ) );
    return fd;
}

/* a raw connection, its init answered; -1 when it cannot be had (no
 * checks: for loops that reconnect as often as the server closes) */
static int raw_open_quiet( void )
{
    char dir[PORTRES_PATH_MAX];
    struct sockaddr_un addr;
    union generic_request req;
    union generic_reply reply;
    size_t done = 0;
    ssize_t ret;
    int fd;

    if (find_server_dir( dir, sizeof(dir) )) return -1;
    memset( &addr, 0, sizeof(addr) );
    addr.sun_family = AF_UNIX;
    if (snprintf( addr.sun_path, sizeof(addr.sun_path), "%s/socket", dir ) >= (int)sizeof(addr.sun_path) ||
        (fd = socket( AF_UNIX, SOCK_STREAM, 0 )) == -1) return -1;
    memset( &req, 0, sizeof(req) );
    req.init_request.__header.req = REQ_init;
    req.init_request.version = PORTRES_PROTOCOL_VERSION;
    if (connect( fd, (struct sockaddr *)&addr, sizeof(addr) ) ||
        send( fd, &req, sizeof(req), MSG_NOSIGNAL ) != (ssize_t)sizeof(req))
    {
        close( fd );
        return -1;
    }
    while (done < sizeof(reply))
    {
        struct pollfd pfd = { fd, POLLIN, 0 };

        if (poll( &pfd, 1, 5000 ) != 1 || (ret = recv( fd, (char *)&reply + done, sizeof(reply) - done, 0 )) <= 0)
            break;
        done += ret;
    }
    if (done < sizeof(reply) || reply.reply_header.status)
    {
        close( fd );
        return -1;
    }
    return fd;
}

/* read a reply within 5 s; 1 read, 0 connection closed, -1 timeout */
static int raw_reply( int fd, union generic_reply *reply )
{
    size_t done = 0;

    while (done < sizeof(*reply))
    {
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t ret;

        if (poll( &pfd, 1, 5000 ) != 1) return -1;
        if ((ret = recv( fd, (char *)reply + done, sizeof(*reply) - done, 0 )) <= 0) return 0;
        done += ret;
    }
    return 1;
}

static void raw_send( int fd, const void *data, size_t size )
{
    check( send( fd, data, size, MSG_NOSIGNAL ) == (ssize_t)size, "send: %s", strerror( errno ) );
}

static void raw_init( int fd, unsigned int version )
{
    union generic_request req;
    union generic_reply reply;

    memset( &req, 0, sizeof(req) );
    req.init_request.__header.req = REQ_init;
    req.init_request.version = version;
    raw_send( fd, &req, sizeof(req) );
    check( raw_reply( fd, &reply ) == 1, "no init reply" );
    check( reply.init_reply.version == PORTRES_PROTOCOL_VERSION, "server version %x", reply.init_reply.version );
    if (version == PORTRES_PROTOCOL_VERSION) check( !reply.reply_header.status, "init status %#x",
                                                    reply.reply_header.status );
}

/* the server answers an ordinary client */
static void check_serving( void )
{
    unsigned short start, count;
    check( portres_get_dynamic_range( PORTRES_PROTO_TCP, &start, &count ) == STATUS_SUCCESS,
           "the server stopped serving: %s", portres_error_message() );
}

TEST(test_basic)
{
    struct query_port_reply info;
    portres_token_t token;
    unsigned short first, base;

    test_prefix();
    base = test_free_ports( 10 );
    check( portres_acquire( PORTRES_PROTO_TCP, base, 10, 0x44, &token, &first, NULL ) == STATUS_SUCCESS,
           "acquire: %s", portres_error_message() );
    check( first == base && token, "got %u, token %#llx", first, (unsigned long long)token );
    check( test_query_port( PORTRES_PROTO_TCP, base + 9, &info ) == STATUS_SUCCESS, "query" );
    check( info.kind == PORTRES_KIND_RUNTIME && info.is_mine && info.token == token && info.start == base &&
           info.count == 10 && info.owner_pid == (unsigned int)getpid(), "query: kind %u mine %u pid %u",
           info.kind, info.is_mine, info.owner_pid );
    check( test_query_port( PORTRES_PROTO_UDP, base + 9, &info ) == STATUS_SUCCESS && !info.kind, "udp reserved" );
    check( test_query_port( 99, base + 9, &info ) == STATUS_INVALID_PARAMETER, "protocol 99 accepted" );
    check( portres_release( token ) == STATUS_SUCCESS, "release" );
    check( test_query_port( PORTRES_PROTO_TCP, base + 9, &info ) == STATUS_SUCCESS && !info.kind, "still reserved" );
}

/* a child that holds reservations until the go pipe closes; foreign_port is
 * in the reservation of the token foreign; returns its pid */
static pid_t spawn_holder( int *ready_fd, const int go[2], portres_token_t foreign, unsigned int foreign_port,
                           unsigned int start )
{
    int ready[2];
    pid_t pid;

    check( !pipe( ready ), "pipe" );
    if (!(pid = fork()))
    {
        portres_token_t token;
        unsigned short first;
        char c;
        int ok = 1;

        close( ready[0] );
        close( go[1] );
        ok &= portres_acquire( PORTRES_PROTO_TCP, start, 10, 0x10, &token, &first, NULL ) == STATUS_SUCCESS;
        ok &= portres_acquire( PORTRES_PROTO_TCP, foreign_port, 1, 0x10, &token, &first, NULL ) ==
              STATUS_ADDRESS_ALREADY_EXISTS;
        ok &= portres_release( foreign ) == STATUS_INVALID_PARAMETER;
        ok &= portres_associate( PORTRES_PROTO_TCP, 1, 0x14, foreign, NULL, NULL, NULL ) == STATUS_INVALID_PARAMETER;
        c = ok ? 'y' : 'n';
        if (write( ready[1], &c, 1 ) != 1) _exit( 3 );
        if (read( go[0], &c, 1 ) < 0) _exit( 3 );
        _exit( 0 );
    }
    close( ready[1] );
    *ready_fd = ready[0];
    return pid;
}

static int count_entries( void *ctx, const struct portres_entry *entry )
{
    (*(unsigned int *)ctx)++;
    return 0;
}

static int has_entries( const void *ctx )
{
    unsigned int n = 0;
    portres_list( PORTRES_PROTO_TCP, count_entries, &n );
    return n == *(const unsigned int *)ctx;
}

TEST(test_clients_and_ownership)
{
    int ready[3], go[2], i, status;
    unsigned int expect = 1;
    portres_token_t token;
    unsigned short first, base;
    struct test_tally saw = { 0 }, owned = { 0 }, exited = { 0 };
    pid_t pids[3];
    char c;

    test_prefix();
    base = test_free_ports( 40 );
    check( !pipe( go ), "pipe" );
    check( portres_acquire( PORTRES_PROTO_TCP, base, 10, 0x10, &token, &first, NULL ) == STATUS_SUCCESS, "acquire" );
    for (i = 0; i < 3; i++) pids[i] = spawn_holder( &ready[i], go, token, base + 5, base + 10 + 10 * i );
    for (i = 0; i < 3; i++)
        tally( &saw, read( ready[i], &c, 1 ) == 1 && c == 'y', "client %d saw wrong results", i );
    check_tally( &saw, "clients' acquires and refusals of a foreign token" );
    expect = 4;
    check( has_entries( &expect ), "not 4 reservations" );
    for (i = 0; i < 3; i++)
    {
        struct query_port_reply info;
        tally( &owned, !test_query_port( PORTRES_PROTO_TCP, base + 10 + 10 * i, &info ) &&
               info.owner_pid == (unsigned int)pids[i] && !info.is_mine && !info.token,
               "client %d: owner %u, mine %u", i, info.owner_pid, info.is_mine );
    }
    check_tally( &owned, "queries of a client's reservation" );
    check( portres_release( 0 ) == STATUS_INVALID_PARAMETER, "token 0 released" );
    close( go[1] );
    for (i = 0; i < 3; i++)
    {
        waitpid( pids[i], &status, 0 );
        tally( &exited, WIFEXITED( status ) && !WEXITSTATUS( status ), "client %d status %#x", i, status );
    }
    check_tally( &exited, "clients' exits" );
    expect = 1;
    check( test_wait_for( has_entries, &expect ), "a dead client's reservations remain" );
    check( portres_release( token ) == STATUS_SUCCESS, "own release" );
}

TEST(test_release_on_exit)
{
    unsigned short base, wildcard = 0;
    int fds[2], status;
    pid_t pid;

    test_prefix();
    base = test_free_ports( 5 );
    current_server();
    check( !pipe( fds ), "pipe" );
    if (!(pid = fork()))
    {
        portres_token_t token;
        unsigned short first = 0;
        int ret = portres_acquire( PORTRES_PROTO_UDP, base, 5, 0x10, &token, &first, NULL ) ||
                  portres_acquire( PORTRES_PROTO_UDP, 0, 5, 0x14, &token, &first, NULL ) ||
                  portres_associate( PORTRES_PROTO_UDP, 1, 0x18, token, NULL, NULL, NULL );
        if (write( fds[1], &first, sizeof(first) ) != sizeof(first)) ret = 1;
        _exit( ret );
    }
    waitpid( pid, &status, 0 );
    check( WIFEXITED( status ) && !WEXITSTATUS( status ), "child failed: %#x", status );
    check( read( fds[0], &wildcard, sizeof(wildcard) ) == sizeof(wildcard) && wildcard, "no wildcard port" );
    check( wait_port_free( PORTRES_PROTO_UDP, base ), "reservation of an exited client remains" );
    check( wait_port_free( PORTRES_PROTO_UDP, wildcard ), "wildcard reservation of an exited client remains" );
}

TEST(test_release_on_sigkill)
{
    unsigned short base;
    int fds[2], status;
    pid_t pid;
    char c;

    test_prefix();
    base = test_free_ports( 100 );
    current_server();
    check( !pipe( fds ), "pipe" );
    if (!(pid = fork()))
    {
        portres_token_t token;
        unsigned short first;
        c = portres_acquire( PORTRES_PROTO_TCP, base, 100, 0x10, &token, &first, NULL ) ? 'n' : 'y';
        if (write( fds[1], &c, 1 ) != 1) _exit( 1 );
        for (;;) pause();
    }
    check( read( fds[0], &c, 1 ) == 1 && c == 'y', "child could not acquire" );
    check( !port_free( (unsigned int[]){ PORTRES_PROTO_TCP, base + 50 } ), "not reserved" );
    kill( pid, SIGKILL );
    waitpid( pid, &status, 0 );
    check( WIFSIGNALED( status ), "child not killed" );
    check( wait_port_free( PORTRES_PROTO_TCP, base + 50 ), "reservation of a killed client remains" );
}

/* whether a command line runs the server program (also under a tool such as valgrind) */
static int runs_server( const char *pid )
{
    char path[300], cmdline[8192], *arg, *base;
    ssize_t len;
    int fd;

    snprintf( path, sizeof(path), "/proc/%s/cmdline", pid );
    if ((fd = open( path, O_RDONLY )) == -1) return 0;
    len = read( fd, cmdline, sizeof(cmdline) - 1 );
    close( fd );
    if (len <= 0) return 0;
    cmdline[len] = 0;
    for (arg = cmdline; arg < cmdline + len; arg += strlen( arg ) + 1)
    {
        base = strrchr( arg, '/' ) ? strrchr( arg, '/' ) + 1 : arg;
        if (!strncmp( base, "portres-server", 14 )) return 1;
    }
    return 0;
}

/* processes running the server program for the current prefix */
static int count_servers( void )
{
    const char *prefix = getenv( "WINEPREFIX" );
    char path[300], env[65536];
    struct dirent *de;
    int count = 0;
    DIR *dir = opendir( "/proc" );

    while (dir && (de = readdir( dir )))
    {
        ssize_t len;
        int fd;

        if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
        if (!runs_server( de->d_name )) continue;
        snprintf( path, sizeof(path), "/proc/%s/environ", de->d_name );
        if ((fd = open( path, O_RDONLY )) == -1) continue;
        len = read( fd, env, sizeof(env) - 1 );
        close( fd );
        if (len <= 0) continue;
        env[len] = 0;
        {
            char *p;
            for (p = env; p < env + len; p += strlen( p ) + 1)
                if (!strncmp( p, "WINEPREFIX=", 11 ) && !strcmp( p + 11, prefix )) count++;
        }
    }
    if (dir) closedir( dir );
    return count;
}

static int one_server( const void *ctx )
{
    return count_servers() == 1;
}

TEST(test_startup_race)
{
    enum { N = 20 };
    int start[2], results[2], done[2], i, status, failed = 0;
    struct test_tally answered = { 0 }, same = { 0 };
    unsigned int pids[N];
    pid_t children[N];

    test_prefix();
    check( !pipe( start ) && !pipe( results ) && !pipe( done ), "pipe" );
    for (i = 0; i < N; i++)
    {
        if (!(children[i] = fork()))
        {
            unsigned int pid = 0;
            char c;

            close( start[1] );
            close( done[1] );
            if (read( start[0], &c, 1 ) < 0) _exit( 1 );   /* all go when the pipe closes */
            if (portres_connect( &pid )) pid = 0;
            if (write( results[1], &pid, sizeof(pid) ) != sizeof(pid)) _exit( 1 );
            if (read( done[0], &c, 1 ) < 0) _exit( 1 );     /* stay connected until all have answered */
            _exit( 0 );
        }
    }
    close( start[0] );
    close( start[1] );
    close( done[0] );
    for (i = 0; i < N; i++)
        if (!tally( &answered, read( results[0], &pids[i], sizeof(pids[i]) ) == sizeof(pids[i]),
                    "no result from client %d", i )) pids[i] = 0;
    check_tally( &answered, "clients' results" );
    for (i = 0; i < N; i++)
        tally( &same, pids[i] && pids[i] == pids[0], "client %d got server %u, client 0 server %u", i, pids[i],
               pids[0] );
    check_tally( &same, "clients connected to the one server" );
    check( (int)pids[0] == lock_owner(), "server %u does not hold the lock (%d does)", pids[0], lock_owner() );
    /* the losers of the race may take a moment to exit */
    check( test_wait_for( one_server, NULL ), "%d servers run for the prefix", count_servers() );
    close( done[1] );
    for (i = 0; i < N; i++)
    {
        waitpid( children[i], &status, 0 );
        failed += !WIFEXITED( status ) || WEXITSTATUS( status );
    }
    check( !failed, "%d clients failed", failed );
}

/* the lookup finds the token expected; a check, or an iteration of tally when one is given */
static void check_lookup_tally( struct test_tally *t, unsigned int protocol, unsigned short start,
                                unsigned short count, portres_token_t expect )
{
    portres_token_t token = 0;
    unsigned int status = portres_persistent_lookup( protocol, start, count, &token );
    int ok = status == STATUS_SUCCESS && token == expect;
    const char *format = "lookup %u+%u: status %#x token %#llx, expected %#llx";

    if (t) tally( t, ok, format, start, count, status, (unsigned long long)token, (unsigned long long)expect );
    else check( ok, format, start, count, status, (unsigned long long)token, (unsigned long long)expect );
}

static void check_lookup( unsigned int protocol, unsigned short start, unsigned short count, portres_token_t expect )
{
    check_lookup_tally( NULL, protocol, start, count, expect );
}

TEST(test_persistence_across_restart)
{
    portres_token_t tcp, udp, runtime;
    unsigned short first, start, count, base;
    unsigned int old_pid;

    test_prefix();
    base = test_free_ports( 10 );
    check( portres_persistent_create( PORTRES_PROTO_TCP, base, 8, 1, &tcp ) == STATUS_SUCCESS, "create tcp" );
    check( portres_persistent_create( PORTRES_PROTO_UDP, base, 8, 1, &udp ) == STATUS_SUCCESS, "create udp" );
    check( portres_persistent_create( PORTRES_PROTO_UDP, base + 9, 1, 0, &runtime ) == STATUS_ACCESS_DENIED,
           "create without elevation" );
    check( portres_set_dynamic_range( PORTRES_PROTO_UDP, 30000, 500, 1 ) == STATUS_SUCCESS, "set range" );
    check( portres_acquire( PORTRES_PROTO_TCP, base + 8, 1, 0x10, &runtime, &first, NULL ) == STATUS_SUCCESS,
           "acquire" );
    old_pid = current_server();

    portres_disconnect();
    test_stop_server();
    check( !lock_owner(), "the server survived -k" );
    check( current_server() != old_pid, "the same server answers" );
    check_lookup( PORTRES_PROTO_TCP, base, 8, tcp );
    check_lookup( PORTRES_PROTO_UDP, base, 8, udp );
    check( wait_port_free( PORTRES_PROTO_TCP, base + 8 ), "a runtime reservation survived the restart" );
    check( !portres_get_dynamic_range( PORTRES_PROTO_UDP, &start, &count ) && start == 30000 && count == 500,
           "dynamic range %u+%u after restart", start, count );
    check( portres_persistent_delete( PORTRES_PROTO_TCP, base, 8, 1 ) == STATUS_SUCCESS, "delete" );
    portres_disconnect();
    test_stop_server();
    check( portres_persistent_lookup( PORTRES_PROTO_TCP, base, 8, &tcp ) == STATUS_NOT_FOUND, "delete undone" );
    check_lookup( PORTRES_PROTO_UDP, base, 8, udp );
}

static int server_replaced( const void *ctx )
{
    return lock_owner() != *(const pid_t *)ctx;
}

/* a crash of the server costs nothing: persistent state is in the store,
 * the runtime reservations of live clients with the keeper */
TEST(test_persistence_across_crash)
{
    portres_token_t tokens[20], runtime, token;
    struct query_port_reply info;
    unsigned short first, base;
    unsigned int status, i;
    struct test_tally created = { 0 }, found = { 0 };
    pid_t pid;

    test_prefix();
    base = test_free_ports( 205 );
    for (i = 0; i < 20; i++)
        tally( &created, portres_persistent_create( PORTRES_PROTO_TCP, base + 10 * i, 5, 1, &tokens[i] ) ==
               STATUS_SUCCESS, "create %u", i );
    check_tally( &created, "persistent creates" );
    check( portres_acquire( PORTRES_PROTO_TCP, base + 200, 5, 0x10, &runtime, &first, NULL ) == STATUS_SUCCESS,
           "acquire" );
    pid = current_server();
    check( kill( pid, SIGKILL ) == 0, "kill: %s", strerror( errno ) );
    check( test_wait_for( server_replaced, &pid ), "the killed server holds its lock" );
    /* the next request goes to a new server, as if nothing had happened */
    status = portres_persistent_lookup( PORTRES_PROTO_TCP, base, 5, &token );
    check( status == STATUS_SUCCESS && token == tokens[0], "request after the crash: %#x", status );
    check( current_server() != (unsigned int)pid, "no new server" );
    for (i = 0; i < 20; i++) check_lookup_tally( &found, PORTRES_PROTO_TCP, base + 10 * i, 5, tokens[i] );
    check_tally( &found, "lookups of the persistent reservations after the crash" );
    status = test_query_port( PORTRES_PROTO_TCP, base + 202, &info );
    check( !status && info.kind == PORTRES_KIND_RUNTIME && info.is_mine && info.token == runtime &&
           info.start == base + 200 && info.count == 5, "the runtime reservation after the crash: %#x, kind %u, "
           "mine %u, %u+%u", status, info.kind, info.is_mine, info.start, info.count );
    check( portres_release( runtime ) == STATUS_SUCCESS, "release after the crash" );
    check( wait_port_free( PORTRES_PROTO_TCP, base + 200 ), "the released reservation stays" );
}

TEST(test_malformed_requests)
{
    union generic_request req;
    union generic_reply reply;
    unsigned int seed = 12345, i;
    struct test_tally data_ok = { 0 }, reconnects = { 0 };
    int fd, closed = 0, answered = 0;

    test_prefix();

    /* truncated frame, then the connection goes */
    fd = raw_connect();
    raw_send( fd, "\0\0\0\0\0\0", 6 );
    close( fd );
    check_serving();

    /* a frame split in two writes is still one request */
    fd = raw_connect();
    memset( &req, 0, sizeof(req) );
    req.init_request.version = PORTRES_PROTOCOL_VERSION;
    raw_send( fd, &req, 30 );
    test_sleep_ms( 20 );
    raw_send( fd, (char *)&req + 30, sizeof(req) - 30 );
    check( raw_reply( fd, &reply ) == 1 && !reply.reply_header.status, "split init not answered" );

    /* unknown request code: an error, and the connection goes on */
    memset( &req, 0, sizeof(req) );
    req.request_header.req = 999;
    raw_send( fd, &req, sizeof(req) );
    check( raw_reply( fd, &reply ) == 1 && reply.reply_header.status == STATUS_NOT_IMPLEMENTED,
           "unknown request: status %#x", reply.reply_header.status );
    req.request_header.req = REQ_get_dynamic_range;
    req.get_dynamic_range_request.protocol = PORTRES_PROTO_UDP;
    raw_send( fd, &req, sizeof(req) );
    check( raw_reply( fd, &reply ) == 1 && !reply.reply_header.status &&
           reply.get_dynamic_range_reply.start == 49152, "request after an unknown one" );

    /* oversized: the connection is closed */
    req.request_header.data_size = 1 << 20;
    raw_send( fd, &req, sizeof(req) );
    check( raw_reply( fd, &reply ) == 0, "oversized request answered" );
    close( fd );
    check_serving();

    /* a request before init: an error and the end */
    fd = raw_connect();
    memset( &req, 0, sizeof(req) );
    req.request_header.req = REQ_acquire;
    req.acquire_request.protocol = PORTRES_PROTO_TCP;
    req.acquire_request.count = 1;
    raw_send( fd, &req, sizeof(req) );
    check( raw_reply( fd, &reply ) == 1 && reply.reply_header.status == STATUS_INVALID_PARAMETER,
           "request before init: %#x", reply.reply_header.status );
    check( raw_reply( fd, &reply ) == 0, "connection kept after a request before init" );
    close( fd );

    /* another protocol version: told so, and closed */
    fd = raw_connect();
    raw_init( fd, 0xdeadbeef );
    check( raw_reply( fd, &reply ) == 0, "connection kept after a version mismatch" );
    close( fd );

    /* garbage */
    fd = raw_connect();
    raw_init( fd, PORTRES_PROTOCOL_VERSION );
    for (i = 0; i < 300; i++)
    {
        unsigned int j;
        for (j = 0; j < sizeof(req); j++) req.frame[j] = rand_r( &seed );
        if (i % 2) req.request_header.data_size = 0;
        if (i % 4 == 1) req.request_header.req %= REQ_NB_REQUESTS;
        if (req.request_header.req == REQ_init) req.request_header.req = REQ_query_port;
        if (send( fd, &req, sizeof(req), MSG_NOSIGNAL ) != sizeof(req) || raw_reply( fd, &reply ) != 1)
        {
            closed++;
            close( fd );
            if (!tally( &reconnects, (fd = raw_open_quiet()) != -1, "request %u: cannot connect again", i )) break;
            continue;
        }
        answered++;
        if (reply.reply_header.data_size)
        {
            char data[PORTRES_MAX_REPLY_DATA];
            if (tally( &data_ok, reply.reply_header.data_size <= sizeof(data), "request %u: reply data %u", i,
                       reply.reply_header.data_size ))
                tally( &data_ok, recv( fd, data, reply.reply_header.data_size, MSG_WAITALL ) ==
                       (ssize_t)reply.reply_header.data_size, "request %u: reply data lost", i );
        }
    }
    if (fd != -1) close( fd );
    check_tally( &reconnects, "connections again after the server closed one" );
    check( closed > 0 && answered > 0, "garbage: %d closed, %d answered", closed, answered );
    check_tally_maybe_empty( &data_ok, "replies with data to garbage, each whole and in bounds" );
    check_serving();

    /* a client that sends without reading does not hold the others up */
    fd = raw_connect();
    raw_init( fd, PORTRES_PROTOCOL_VERSION );
    {
        int flags = fcntl( fd, F_GETFL );
        fcntl( fd, F_SETFL, flags | O_NONBLOCK );
        memset( &req, 0, sizeof(req) );
        req.request_header.req = REQ_get_dynamic_range;
        req.get_dynamic_range_request.protocol = PORTRES_PROTO_TCP;
        for (i = 0; i < 100000; i++)
            if (send( fd, &req, sizeof(req), MSG_NOSIGNAL ) != sizeof(req)) break;
        check( i > 100, "only %u requests went out", i );
    }
    check_serving();
    close( fd );
    check_serving();
}

TEST(test_wildcard_and_dynamic_range)
{
    portres_token_t token;
    unsigned short first, base;
    unsigned int i, status;
    struct test_tally inside = { 0 };

    test_prefix();
    base = test_free_ports( 255 );
    check( portres_acquire( PORTRES_PROTO_TCP, 0, 100, 0x10, &token, &first, NULL ) == STATUS_SUCCESS, "wildcard" );
    check( first >= 49152 && first + 99 <= 65535, "wildcard block at %u", first );
    check( portres_set_dynamic_range( PORTRES_PROTO_UDP, base, 255, 1 ) == STATUS_SUCCESS, "set range" );
    check( portres_set_dynamic_range( PORTRES_PROTO_UDP, base, 254, 1 ) == STATUS_INVALID_PARAMETER, "254 ports" );
    check( portres_set_dynamic_range( PORTRES_PROTO_UDP, base, 300, 0 ) == STATUS_ACCESS_DENIED, "not elevated" );
    for (i = 0; i < 300; i++)
    {
        if ((status = portres_acquire( PORTRES_PROTO_UDP, 0, 10, 0x20 + i, &token, &first, NULL ))) break;
        tally( &inside, first >= base && first + 9 < base + 255, "block %u at %u", i, first );
    }
    check_tally( &inside, "wildcard blocks inside the dynamic range" );
    check( status == STATUS_ADDRESS_ALREADY_EXISTS, "full range: status %#x after %u blocks", status, i );
    check( i >= 20 && i <= 25, "%u blocks of 10 fitted in 255 ports", i );
}

TEST(test_ports_in_use)
{
    struct sockaddr_in addr;
    portres_token_t token;
    unsigned short first, port;
    int fd;

    test_prefix();
    port = test_free_ports( 3 ) + 1;  /* a listener there, free ports around it */
    fd = socket( AF_INET, SOCK_STREAM, 0 );
    memset( &addr, 0, sizeof(addr) );
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    addr.sin_port = htons( port );
    check( !bind( fd, (struct sockaddr *)&addr, sizeof(addr) ) && !listen( fd, 1 ), "listen on %u: %s", port,
           strerror( errno ) );
    check( portres_acquire( PORTRES_PROTO_TCP, port - 1, 3, 0x10, &token, &first, NULL ) ==
           STATUS_ADDRESS_ALREADY_EXISTS, "range over listening port %u accepted", port );
    check( portres_persistent_create( PORTRES_PROTO_TCP, port, 1, 1, &token ) == STATUS_SHARING_VIOLATION,
           "persistent over listening port %u accepted", port );
    check( portres_acquire( PORTRES_PROTO_UDP, port - 1, 3, 0x10, &token, &first, NULL ) == STATUS_SUCCESS,
           "udp range blocked by a tcp listener" );
    close( fd );
    check( portres_acquire( PORTRES_PROTO_TCP, port - 1, 3, 0x10, &token, &first, NULL ) == STATUS_SUCCESS,
           "range refused after the listener closed" );
}

TEST(test_associate_and_bind)
{
    portres_token_t token;
    unsigned short first, start, count, port1, port2;
    unsigned int kind, released;
    unsigned int associated;

    test_prefix();
    check( portres_acquire( PORTRES_PROTO_UDP, 0, 4, 0x10, &token, &first, NULL ) == STATUS_SUCCESS, "acquire" );
    check( portres_associate( PORTRES_PROTO_UDP, 0, 0x20, token, &start, &count, &kind ) == STATUS_SUCCESS &&
           start == first && count == 4 && kind == PORTRES_KIND_RUNTIME, "associate" );
    check( portres_associate( PORTRES_PROTO_UDP, 0, 0x24, token, NULL, NULL, NULL ) == STATUS_SUCCESS, "associate 2" );
    check( portres_bind_port( PORTRES_PROTO_UDP, 0, 0x20, &port1, &associated ) == STATUS_SUCCESS && associated &&
           port1 == first, "bind 1 got %u", port1 );
    check( portres_bind_port( PORTRES_PROTO_UDP, 0, 0x24, &port2, &associated ) == STATUS_SUCCESS &&
           port2 == first + 1, "bind 2 got %u", port2 );
    check( portres_bind_port( PORTRES_PROTO_UDP, first + 2, 0x30, &port2, &associated ) == STATUS_ACCESS_DENIED,
           "unassociated bind into a runtime reservation" );
    check( portres_socket_closed( 0x10, &released ) == STATUS_SUCCESS && released == 1, "released %u", released );
    check( portres_bind_port( PORTRES_PROTO_UDP, 0, 0x20, &port1, &associated ) == STATUS_SUCCESS && !associated,
           "association survived" );
}

struct list_order
{
    unsigned int base;
    struct test_tally entries;
};

static int check_order( void *ctx, const struct portres_entry *entry )
{
    struct list_order *order = ctx;
    unsigned int n = order->entries.count;

    tally( &order->entries, entry->start == order->base + 2 * n && entry->count == 1, "entry %u: %u+%u", n,
           entry->start, entry->count );
    return 0;
}

TEST(test_list_paging)
{
    struct list_order order = { 0 };
    struct test_tally acquires = { 0 };
    portres_token_t token;
    unsigned short first;
    unsigned int i;

    test_prefix();
    order.base = test_free_ports( 6000 );
    for (i = 0; i < 3000; i++)
        tally( &acquires, portres_acquire( PORTRES_PROTO_TCP, order.base + 2 * i, 1, 0x10, &token, &first, NULL ) ==
               STATUS_SUCCESS, "acquire %u", i );
    check_tally( &acquires, "acquires" );
    check( portres_list( PORTRES_PROTO_TCP, check_order, &order ) == STATUS_SUCCESS, "list" );
    check_tally( &order.entries, "entries listed in order" );
    check( order.entries.count == 3000, "listed %u", order.entries.count );
}

struct expected_map
{
    int persistent_only;
    unsigned char reserved[65536];
    unsigned char runtime[65536];
};

static int mark_entry( void *ctx, const struct portres_entry *entry )
{
    struct expected_map *expected = ctx;
    unsigned int port;

    if (expected->persistent_only && entry->kind == PORTRES_KIND_RUNTIME) return 0;
    for (port = entry->start; port < (unsigned int)entry->start + entry->count; port++)
    {
        expected->reserved[port] = 1;
        expected->runtime[port] = entry->kind == PORTRES_KIND_RUNTIME;
    }
    return 0;
}

static const unsigned int map_protocols[] = { PORTRES_PROTO_TCP, PORTRES_PROTO_UDP };

/* what the server's tables say, for both protocols; 0 when a list fails */
static int expect_tables( struct expected_map expected[2], int persistent_only )
{
    unsigned int i;
    int ret = 1;

    for (i = 0; i < 2; i++)
    {
        memset( &expected[i], 0, sizeof(expected[i]) );
        expected[i].persistent_only = persistent_only;
        if (portres_list( map_protocols[i], mark_entry, &expected[i] ) != STATUS_SUCCESS) ret = 0;
    }
    return ret;
}

/* 1 when the map says what expected says, else 0 with what differs in msg */
static int map_equals( const struct portres_map *map, const struct expected_map expected[2], int step, char *msg,
                       size_t size )
{
    unsigned int i, port, wrong = 0;
    int runtime = 0;

    for (i = 0; i < 2; i++)
    {
        for (port = 0; port < 65536; port++)
        {
            int reserved = portres_map_lookup( map, map_protocols[i], port, &runtime );
            if (reserved != expected[i].reserved[port] || (reserved && runtime != expected[i].runtime[port]))
                wrong++;
        }
    }
    if (map->generation & 1) snprintf( msg, size, "step %d: the generation %u is odd at rest", step, map->generation );
    else if (wrong) snprintf( msg, size, "step %d: %u ports differ between the map and the tables", step, wrong );
    return !(map->generation & 1) && !wrong;
}

static void check_map_equals( const struct portres_map *map, const struct expected_map expected[2], int step )
{
    char msg[128];

    check( map_equals( map, expected, step, msg, sizeof(msg) ), "%s", msg );
}

/* the published map says exactly what the server's tables say */
static int map_equals_tables( const struct portres_map *map, int step, char *msg, size_t size )
{
    static struct expected_map expected[2];

    if (expect_tables( expected, 0 )) return map_equals( map, expected, step, msg, size );
    snprintf( msg, size, "step %d: cannot list the reservations", step );
    return 0;
}

static void check_map_equals_tables( const struct portres_map *map, int step )
{
    char msg[128];

    check( map_equals_tables( map, step, msg, sizeof(msg) ), "%s", msg );
}

TEST(test_shared_map)
{
    static struct expected_map persistent[2];
    const struct portres_map *map;
    portres_token_t tokens[64];
    unsigned int seed = 4242, i, n = 0;
    struct test_tally steps = { 0 };
    unsigned short first, base;
    char msg[128];
    int runtime = 0;

    test_prefix();
    base = test_free_ports( 2050 );
    /* asking for the map is enough: a server is started to publish it */
    check( (map = portres_get_map()) != NULL, "no map: %s", portres_error_message() );
    if (!map) return;
    check( lock_owner() != 0, "no server was started for the map" );
    check( portres_acquire( PORTRES_PROTO_TCP, base, 10, 0x10, &tokens[0], &first, NULL ) == STATUS_SUCCESS,
           "acquire" );
    check( portres_map_lookup( map, PORTRES_PROTO_TCP, base + 9, &runtime ) && runtime, "runtime port not in the map" );
    check( !portres_map_lookup( map, PORTRES_PROTO_TCP, base + 10, &runtime ), "port after the range in the map" );
    check( !portres_map_lookup( map, PORTRES_PROTO_UDP, base, &runtime ), "udp port in the map" );
    check( portres_release( tokens[0] ) == STATUS_SUCCESS, "release" );
    check( !portres_map_lookup( map, PORTRES_PROTO_TCP, base, &runtime ), "released port still in the map" );

    /* random requests, the map compared with the tables after each */
    for (i = 0; i < 60; i++)
    {
        unsigned int protocol = rand_r( &seed ) % 2 ? PORTRES_PROTO_TCP : PORTRES_PROTO_UDP;
        unsigned short start = base + rand_r( &seed ) % 2000, count = 1 + rand_r( &seed ) % 50;

        switch (rand_r( &seed ) % 4)
        {
        case 0:
            if (n < 64 && !portres_acquire( protocol, start, count, 0x10 + n, &tokens[n], &first, NULL )) n++;
            break;
        case 1:
            if (n < 64 && !portres_acquire( protocol, 0, count, 0x10 + n, &tokens[n], &first, NULL )) n++;
            break;
        case 2:
            if (n) portres_release( tokens[rand_r( &seed ) % n] );
            break;
        default:
            if (portres_persistent_create( protocol, start, count, 1, &tokens[63] ))
                portres_persistent_delete( protocol, start, count, 1 );
            break;
        }
        tally( &steps, map_equals_tables( map, i, msg, sizeof(msg) ), "%s", msg );
    }
    check_tally( &steps, "random requests, each followed by a map equal to the tables" );

    /* a server that exits leaves the persistent reservations published, so
     * that binds keep avoiding them; the runtime ones go with their clients */
    check( expect_tables( persistent, 1 ), "cannot list the reservations" );
    portres_disconnect();
    test_stop_server();
    check( test_wait_for( no_server, NULL ), "the server did not exit" );
    check_map_equals( map, persistent, -1 );
    check( current_server() != 0, "no new server" );
    check_map_equals_tables( map, -2 );
}

/* a server killed in the middle of an update, with its keeper, leaves an
 * odd generation and bits of nobody; the next server publishes a clean map
 * over it */
TEST(test_map_recovery)
{
    char dir[PORTRES_PATH_MAX], path[PORTRES_PATH_MAX + 8];
    const struct portres_map *map;
    struct portres_map *raw;
    portres_token_t token;
    unsigned short first, base;
    unsigned int pid;
    pid_t keeper;
    int fd;

    test_prefix();
    base = test_free_ports( 5 );
    check( portres_persistent_create( PORTRES_PROTO_UDP, base, 5, 1, &token ) == STATUS_SUCCESS, "create" );
    check( portres_acquire( PORTRES_PROTO_TCP, base, 5, 0x10, &token, &first, NULL ) == STATUS_SUCCESS, "acquire" );
    check( (map = portres_get_map()) != NULL, "no map: %s", portres_error_message() );
    pid = current_server();
    if (!map || !pid) return;
    /* both die: the runtime reservation goes with them */
    server_dir( dir, sizeof(dir) );
    check( (keeper = test_keeper_pid( dir )) > 0, "no keeper" );
    if (keeper > 0) kill( keeper, SIGKILL );
    kill( pid, SIGKILL );
    portres_disconnect();
    check( test_wait_for( no_server, NULL ), "the server did not die" );

    /* what a torn update looks like */
    snprintf( path, sizeof(path), "%s/map", dir );
    fd = open( path, O_RDWR );
    check( fd != -1, "cannot open %s", path );
    if (fd == -1) return;
    raw = mmap( NULL, sizeof(*raw), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0 );
    close( fd );
    check( raw != MAP_FAILED, "cannot map %s", path );
    if (raw == MAP_FAILED) return;
    raw->generation |= 1;
    raw->reserved[0][500] = raw->runtime[0][500] = ~(uint64_t)0;

    check( current_server() != 0, "no new server" );
    check_map_equals_tables( map, 0 );
    check( portres_map_lookup( map, PORTRES_PROTO_UDP, base + 4, NULL ), "the persistent reservation is not in the map" );
    check( !portres_map_lookup( map, PORTRES_PROTO_TCP, base, NULL ), "the runtime reservation of the dead server is in the map" );
    munmap( raw, sizeof(*raw) );
}

/* A stand-in for the prefix's wineserver: it holds the lock of Wine's
 * server directory of the prefix and a socket, whose inode it writes to
 * the pipe, and lives until killed */
static pid_t start_fake_wineserver( const char *lock_path, unsigned long long *inode )
{
    int fds[2];
    pid_t pid;

    if (pipe( fds ) == -1) return -1;
    if (!(pid = fork()))
    {
        struct flock fl;
        struct stat st;
        int lock_fd = open( lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600 );
        int sock = socket( AF_INET, SOCK_STREAM, 0 );

        memset( &fl, 0, sizeof(fl) );
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (lock_fd == -1 || sock == -1 || fcntl( lock_fd, F_SETLK, &fl ) == -1 || fstat( sock, &st ) == -1)
            _exit( 1 );
        *inode = st.st_ino;
        if (write( fds[1], inode, sizeof(*inode) ) != sizeof(*inode)) _exit( 1 );
        for (;;) pause();
    }
    close( fds[1] );
    if (pid == -1 || read( fds[0], inode, sizeof(*inode) ) != sizeof(*inode))
    {
        if (pid > 0) kill( pid, SIGKILL );
        pid = -1;
    }
    close( fds[0] );
    return pid;
}

static long long elapsed_ms( const struct timespec *start )
{
    struct timespec now;

    clock_gettime( CLOCK_MONOTONIC, &now );
    return (now.tv_sec - start->tv_sec) * 1000LL + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* A Wine socket's reservation ends with the wineserver that kept the
 * socket: the server waits on the wineserver's pidfd, and lets the ports
 * go when it exits rather than at its next sweep */
TEST(test_wineserver_exit)
{
    char dir[PATH_MAX], lock_path[PATH_MAX + 8];
    const char *prefix;
    unsigned long long inode;
    unsigned short port;
    portres_token_t token;
    struct timespec start;
    struct stat st;
    long long delay = -1;
    pid_t pid;

    /* one prefix: each test_prefix() makes a new one */
    prefix = test_prefix();
    check( !stat( prefix, &st ), "stat %s: %s", prefix, strerror( errno ) );
    snprintf( dir, sizeof(dir), "/tmp/.wine-%u", (unsigned int)getuid() );
    mkdir( dir, 0700 );
    snprintf( dir, sizeof(dir), "/tmp/.wine-%u/server-%llx-%llx", (unsigned int)getuid(),
              (unsigned long long)st.st_dev, (unsigned long long)st.st_ino );
    check( !mkdir( dir, 0700 ), "mkdir %s: %s", dir, strerror( errno ) );
    snprintf( lock_path, sizeof(lock_path), "%s/lock", dir );
    pid = start_fake_wineserver( lock_path, &inode );
    check( pid > 0, "no stand-in wineserver" );
    if (pid <= 0) return;

    portres_set_wine_client();
    port = test_free_ports( 1 );
    check( portres_acquire( PORTRES_PROTO_TCP, port, 1, inode, &token, NULL, NULL ) == STATUS_SUCCESS,
           "acquire for the Wine socket %llu", inode );
    check( test_bind( AF_INET, SOCK_STREAM, port, 0, NULL, NULL ) == EADDRINUSE, "port %u not held", port );
    /* a sweep or two: the server has found the wineserver */
    test_sleep_ms( 600 );
    check( test_bind( AF_INET, SOCK_STREAM, port, 0, NULL, NULL ) == EADDRINUSE, "port %u let go", port );

    clock_gettime( CLOCK_MONOTONIC, &start );
    kill( pid, SIGKILL );
    while (elapsed_ms( &start ) < 5000)
    {
        if (!test_bind( AF_INET, SOCK_STREAM, port, 0, NULL, NULL ))
        {
            delay = elapsed_ms( &start );
            break;
        }
        test_sleep_ms( 1 );
    }
    check( delay >= 0, "port %u still held 5 s after the wineserver exited", port );
    printf( "the wineserver's exit freed the reservation's port in %lld ms\n", delay );
    test_wait_child( pid, NULL, 1000 );
    unlink( lock_path );
    rmdir( dir );
}

TEST(test_idle_exit)
{
    unsigned int pid;
    char cmd[PATH_MAX * 2];

    test_prefix();
    pid = current_server();
    portres_disconnect();
    check( test_wait_for( no_server, NULL ), "server %u did not exit after its last client", pid );

    /* -p keeps it */
    snprintf( cmd, sizeof(cmd), "'%s' -p", test_server_path() );
    check( system( cmd ) == 0, "portres-server -p failed to start" );
    pid = current_server();
    portres_disconnect();
    test_sleep_ms( 4000 );
    check( lock_owner() == (int)pid, "a persistent server exited" );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_basic);
    RUN(test_clients_and_ownership);
    RUN(test_release_on_exit);
    RUN(test_release_on_sigkill);
    RUN(test_startup_race);
    RUN(test_persistence_across_restart);
    RUN(test_persistence_across_crash);
    RUN(test_malformed_requests);
    RUN(test_wildcard_and_dynamic_range);
    RUN(test_ports_in_use);
    RUN(test_associate_and_bind);
    RUN(test_list_paging);
    RUN(test_shared_map);
    RUN(test_map_recovery);
    RUN(test_wineserver_exit);
    RUN(test_idle_exit);
    return test_summary();
}
