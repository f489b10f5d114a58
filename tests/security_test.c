/*
 * Security tests against real server processes: other users are kept out
 * by the private directories and refused by the server, directories and
 * sockets that are not private are refused, a token known to another
 * process gives it nothing, and tokens are the kernel's random numbers
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
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

#define NOBODY 65534

/* the server directory of the current prefix and the socket in it */
static void server_paths( char *dir, size_t dir_size, char *sock, size_t sock_size )
{
    char prefix[PORTRES_PATH_MAX];

    check( !portres_prefix_dir( prefix, sizeof(prefix), 1 ), "prefix: %s", portres_error_message() );
    check( !portres_server_dir( prefix, dir, dir_size, 1 ), "server dir: %s", portres_error_message() );
    snprintf( sock, sock_size, "%s/socket", dir );
}

static unsigned int current_server( void )
{
    unsigned int pid = 0;
    check( portres_connect( &pid ) == STATUS_SUCCESS, "connect: %s", portres_error_message() );
    return pid;
}

/* the server answers an ordinary client */
static void check_serving( void )
{
    unsigned short start, count;
    check( portres_get_dynamic_range( PORTRES_PROTO_TCP, &start, &count ) == STATUS_SUCCESS,
           "the server stopped serving: %s", portres_error_message() );
}

/* the whole of a small file, NUL-terminated; "" when it cannot be read */
static void read_text( const char *path, char *buf, size_t size )
{
    ssize_t len = 0;
    int fd;

    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) != -1)
    {
        len = read( fd, buf, size - 1 );
        close( fd );
    }
    buf[len > 0 ? len : 0] = 0;
}

/* run a shell command; its exit status, with its stderr in buf */
static int run_command( const char *cmd, const char *err_path, char *buf, size_t size )
{
    char line[PATH_MAX * 3];
    int status;

    snprintf( line, sizeof(line), "%s 2>'%s'", cmd, err_path );
    status = system( line );
    read_text( err_path, buf, size );
    return WIFEXITED( status ) ? WEXITSTATUS( status ) : -1;
}

/* a client connection refused for a reason that the message gives */
static void check_refused( const char *reason, const char *what )
{
    unsigned int status;

    portres_disconnect();
    status = portres_connect( NULL );
    check( status == STATUS_CONNECTION_REFUSED, "%s: connected (status %#x)", what, status );
    check( strstr( portres_error_message(), reason ) != NULL, "%s: message \"%s\" does not say \"%s\"", what,
           portres_error_message(), reason );
}

/* the server, started by hand, refuses to run there too */
static void check_server_refuses( const char *reason, const char *what )
{
    char cmd[PATH_MAX + 16], err[PATH_MAX + 16], text[4096];
    int status;

    snprintf( cmd, sizeof(cmd), "'%s' -f -p0", test_server_path() );
    snprintf( err, sizeof(err), "%s.server-err", getenv( "WINEPREFIX" ) );
    status = run_command( cmd, err, text, sizeof(text) );
    check( status == 1, "%s: the server exited with status %d", what, status );
    check( strstr( text, reason ) != NULL, "%s: the server said \"%s\"", what, text );
    unlink( err );
}

/***********************************************************************
 *           another user
 */

static int count_fds( unsigned int pid )
{
    char path[64];
    struct dirent *de;
    int count = 0;
    DIR *dir;

    snprintf( path, sizeof(path), "/proc/%u/fd", pid );
    if (!(dir = opendir( path ))) return -1;
    while ((de = readdir( dir ))) if (de->d_name[0] != '.') count++;
    closedir( dir );
    return count;
}

struct fd_count
{
    unsigned int pid;
    int          count;
};

static int has_fds( const void *ctx )
{
    const struct fd_count *expect = ctx;
    return count_fds( expect->pid ) == expect->count;
}

enum nobody_result
{
    NOBODY_REFUSED = 0,       /* connected, and the server closed without answering */
    NOBODY_SERVED = 1,        /* the server answered */
    NOBODY_NO_ANSWER = 2,     /* nothing within 5 s */
    NOBODY_SETUID_FAILED = 3,
    NOBODY_NO_ACCESS = 10,    /* connect() failed with EACCES */
    NOBODY_CONNECT_FAILED = 11
};

/* a process of uid and gid NOBODY, without any privilege, connects to the
 * socket and says init; returns its enum nobody_result, -1 when it died */
static int connect_as_nobody( const char *sock, pid_t *child )
{
    int status;
    pid_t pid;

    fflush( stdout );
    if (!(pid = fork()))
    {
        union generic_request req;
        union generic_reply reply;
        struct sockaddr_un addr;
        struct pollfd pfd;
        ssize_t ret;
        int fd;

        if (setgroups( 0, NULL ) == -1 || setgid( NOBODY ) == -1 || setuid( NOBODY ) == -1 ||
            getuid() != NOBODY || geteuid() != NOBODY || setuid( 0 ) != -1)
            _exit( NOBODY_SETUID_FAILED );
        memset( &addr, 0, sizeof(addr) );
        addr.sun_family = AF_UNIX;
        snprintf( addr.sun_path, sizeof(addr.sun_path), "%s", sock );
        fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 );
        if (connect( fd, (struct sockaddr *)&addr, sizeof(addr) ) == -1)
            _exit( errno == EACCES ? NOBODY_NO_ACCESS : NOBODY_CONNECT_FAILED );
        memset( &req, 0, sizeof(req) );
        req.init_request.__header.req = REQ_init;
        req.init_request.version = PORTRES_PROTOCOL_VERSION;
        if (send( fd, &req, sizeof(req), MSG_NOSIGNAL ) != sizeof(req)) _exit( NOBODY_REFUSED );
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll( &pfd, 1, 5000 ) != 1) _exit( NOBODY_NO_ANSWER );
        ret = recv( fd, &reply, sizeof(reply), 0 );
        if (ret == 0 || (ret == -1 && errno == ECONNRESET)) _exit( NOBODY_REFUSED );
        _exit( NOBODY_SERVED );
    }
    *child = pid;
    while (waitpid( pid, &status, 0 ) == -1 && errno == EINTR);
    return WIFEXITED( status ) ? WEXITSTATUS( status ) : -1;
}

/* Only the owner gets through: the private directories and the socket's
 * mode keep everyone else out, and with all of them opened to the world,
 * the server's own SO_PEERCRED check refuses the connection.  The test
 * opens /tmp/.portres-0 too, so it runs with a /tmp of its own. */
TEST(test_other_uid_refused)
{
    char dir[PORTRES_PATH_MAX], sock[PORTRES_PATH_MAX + 8], top[64], log_path[PATH_MAX + 16];
    char cmd[PATH_MAX * 2 + 32], line[64];
    static char text[65536];
    struct fd_count fds;
    const char *prefix;
    pid_t child;
    int ret;

    if (geteuid() != 0)
    {
        test_skip( "needs root to run a client as another user" );
        return;
    }
    if (test_private_tmp() == -1)
    {
        test_skip( "needs a private /tmp to open /tmp/.portres-0 to other users" );
        return;
    }
    prefix = test_prefix();
    snprintf( log_path, sizeof(log_path), "%s/server.log", prefix );
    snprintf( cmd, sizeof(cmd), "'%s' -d -p 2>'%s'", test_server_path(), log_path );
    check( system( cmd ) == 0, "cannot start the server with -d" );
    fds.pid = current_server();
    fds.count = count_fds( fds.pid );
    check( fds.count > 0, "cannot count the descriptors of server %u", fds.pid );
    server_paths( dir, sizeof(dir), sock, sizeof(sock) );
    snprintf( top, sizeof(top), "/tmp/.portres-%u", (unsigned int)getuid() );

    /* every layer keeps another user out on its own */
    ret = connect_as_nobody( sock, &child );
    if (ret == NOBODY_SETUID_FAILED)
    {
        test_skip( "cannot become uid %u", NOBODY );
        return;
    }
    check( ret == NOBODY_NO_ACCESS, "private directories: result %d", ret );
    check( !chmod( top, 0711 ), "chmod %s: %s", top, strerror( errno ) );
    ret = connect_as_nobody( sock, &child );
    check( ret == NOBODY_NO_ACCESS, "private server directory: result %d", ret );
    check( !chmod( dir, 0711 ), "chmod %s: %s", dir, strerror( errno ) );
    ret = connect_as_nobody( sock, &child );
    check( ret == NOBODY_NO_ACCESS, "private socket: result %d", ret );

    /* everything open: the server itself refuses */
    check( !chmod( sock, 0666 ), "chmod %s: %s", sock, strerror( errno ) );
    ret = connect_as_nobody( sock, &child );
    check( ret == NOBODY_REFUSED, "another user was %s (result %d)",
           ret == NOBODY_SERVED ? "served" : "not refused", ret );
    check( !chmod( sock, 0600 ) && !chmod( dir, 0700 ) && !chmod( top, 0700 ), "cannot close the directories" );

    /* nothing of the refused connection remains, and the owner is served */
    check( test_wait_for( has_fds, &fds ), "server %u has %d descriptors, %d before", fds.pid,
           count_fds( fds.pid ), fds.count );
    check_serving();
    portres_disconnect();
    check_serving();
    read_text( log_path, text, sizeof(text) );
    check( strstr( text, "refused a connection from uid 65534" ) != NULL, "the server did not log the refusal:\n%s",
           text );
    snprintf( line, sizeof(line), "%04x: *connected*", (unsigned int)child );
    check( !strstr( text, line ), "the refused process %d was taken as a client", (int)child );
    snprintf( line, sizeof(line), "%04x: *connected*", (unsigned int)getpid() );
    check( strstr( text, line ) != NULL, "the owner's connection is not in the log" );
}

/***********************************************************************
 *           private directories
 */

/* the server directory of the prefix and the socket in it, each made not
 * private in every way, are refused by clients and by the server */
TEST(test_private_directory)
{
    char dir[PORTRES_PATH_MAX], sock[PORTRES_PATH_MAX + 8], moved[PORTRES_PATH_MAX + 8];
    int fd;

    test_prefix();
    current_server();
    server_paths( dir, sizeof(dir), sock, sizeof(sock) );
    snprintf( moved, sizeof(moved), "%s.moved", dir );

    check( !chmod( dir, 0755 ), "chmod: %s", strerror( errno ) );
    check_refused( "has insecure permissions", "directory of mode 0755" );
    check( !chmod( dir, 0701 ), "chmod: %s", strerror( errno ) );
    check_refused( "has insecure permissions", "directory of mode 0701" );
    check( !chmod( dir, 0700 ), "chmod: %s", strerror( errno ) );

    check( !rename( dir, moved ) && !symlink( moved, dir ), "cannot make a symbolic link: %s", strerror( errno ) );
    check_refused( "is a symbolic link", "symbolic link to a private directory" );
    check( !unlink( dir ) && !rename( moved, dir ), "cannot undo the symbolic link: %s", strerror( errno ) );

    check( !chmod( sock, 0666 ), "chmod: %s", strerror( errno ) );
    check_refused( "has insecure permissions", "socket of mode 0666" );
    check( !chmod( sock, 0600 ), "chmod: %s", strerror( errno ) );

    check( !rename( sock, moved ), "rename: %s", strerror( errno ) );
    fd = open( sock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600 );
    check( fd != -1, "cannot create a file in place of the socket: %s", strerror( errno ) );
    close( fd );
    check_refused( "is not a socket", "a file in place of the socket" );
    check( !unlink( sock ) && !rename( moved, sock ), "cannot put the socket back: %s", strerror( errno ) );

    if (geteuid() == 0)
    {
        check( !chown( dir, NOBODY, NOBODY ), "chown: %s", strerror( errno ) );
        check_refused( "is not owned by you", "directory of another user" );
        check( !chown( dir, getuid(), getgid() ), "chown back: %s", strerror( errno ) );
        check( !chown( sock, NOBODY, NOBODY ), "chown: %s", strerror( errno ) );
        check_refused( "is not owned by you", "socket of another user" );
        check( !chown( sock, getuid(), getgid() ), "chown back: %s", strerror( errno ) );
    }
    else test_skip( "needs root for directories of another user" );
    check( portres_connect( NULL ) == STATUS_SUCCESS, "no connection once mended: %s", portres_error_message() );

    /* a server does not start in such a directory either */
    portres_disconnect();
    test_stop_server();
    check( !chmod( dir, 0750 ), "chmod: %s", strerror( errno ) );
    check_server_refuses( "has insecure permissions", "server in a directory of mode 0750" );
    check( !chmod( dir, 0700 ), "chmod: %s", strerror( errno ) );
    check_serving();
}

/* /tmp/.portres-UID, which holds the server directories of all prefixes, in
 * a /tmp of the test's own */
TEST(test_private_top_directory)
{
    char top[64], elsewhere[] = "/tmp/portres-elsewhere-XXXXXX";
    char dir[PORTRES_PATH_MAX], sock[PORTRES_PATH_MAX + 8];
    struct stat st;

    if (test_private_tmp() == -1)
    {
        test_skip( "needs a private /tmp to tamper with /tmp/.portres-%u", (unsigned int)getuid() );
        return;
    }
    test_prefix();
    snprintf( top, sizeof(top), "/tmp/.portres-%u", (unsigned int)getuid() );

    check( !mkdir( top, 0755 ) && !chmod( top, 0755 ), "mkdir %s: %s", top, strerror( errno ) );
    check_refused( "has insecure permissions", "top directory of mode 0755" );
    check_server_refuses( "has insecure permissions", "server under a top directory of mode 0755" );
    check( !rmdir( top ), "rmdir: %s", strerror( errno ) );

    check( mkdtemp( elsewhere ) && !symlink( elsewhere, top ), "cannot make a symbolic link: %s", strerror( errno ) );
    check_refused( "is a symbolic link", "top directory as a symbolic link" );
    check_server_refuses( "is a symbolic link", "server under a top directory as a symbolic link" );
    check( lstat( elsewhere, &st ) == 0 && S_ISDIR( st.st_mode ), "the link's target is gone" );
    check( !unlink( top ), "unlink: %s", strerror( errno ) );

    if (geteuid() == 0)
    {
        check( !mkdir( top, 0700 ) && !chown( top, NOBODY, NOBODY ), "chown %s: %s", top, strerror( errno ) );
        check_refused( "is not owned by you", "top directory of another user" );
        check_server_refuses( "is not owned by you", "server under a top directory of another user" );
        check( !rmdir( top ), "rmdir: %s", strerror( errno ) );
    }
    else test_skip( "needs root for a directory of another user" );

    /* created as it must be when missing */
    check( portres_connect( NULL ) == STATUS_SUCCESS, "no connection: %s", portres_error_message() );
    server_paths( dir, sizeof(dir), sock, sizeof(sock) );
    check( lstat( top, &st ) == 0 && S_ISDIR( st.st_mode ) && (st.st_mode & 0777) == 0700 &&
           st.st_uid == getuid(), "%s created with mode %03o", top, (unsigned int)(st.st_mode & 0777) );
    check( lstat( dir, &st ) == 0 && S_ISDIR( st.st_mode ) && (st.st_mode & 0777) == 0700,
           "%s created with mode %03o", dir, (unsigned int)(st.st_mode & 0777) );
    check( lstat( sock, &st ) == 0 && S_ISSOCK( st.st_mode ) && (st.st_mode & 0777) == 0600,
           "%s created with mode %03o", sock, (unsigned int)(st.st_mode & 0777) );
}

/***********************************************************************
 *           tokens
 */

/* the reservation of token, 10 ports at base, is ours as we made it, with socket
 * 0x14 associated with it */
static void check_whole( unsigned short base, portres_token_t token, const char *when )
{
    struct query_port_reply info;
    unsigned short port = 0;
    unsigned int associated = 0;

    memset( &info, 0, sizeof(info) );
    check( test_query_port( PORTRES_PROTO_TCP, base + 9, &info ) == STATUS_SUCCESS &&
           info.kind == PORTRES_KIND_RUNTIME && info.is_mine && info.token == token && info.start == base &&
           info.count == 10 && info.owner_pid == (unsigned int)getpid(), "%s: kind %u, mine %u, owner %u", when,
           info.kind, info.is_mine, info.owner_pid );
    check( portres_bind_port( PORTRES_PROTO_TCP, 0, 0x14, &port, &associated ) == STATUS_SUCCESS && associated &&
           port == base, "%s: the association is lost (port %u, associated %d)", when, port, associated );
}

/* A runtime token told to another process of the same user is of no use to
 * it: it cannot release the reservation, associate a socket with it, see
 * the token, or drop it through socket values of the owner */
TEST(test_foreign_token)
{
    struct query_port_reply info;
    unsigned short base, first, port, start, count;
    portres_token_t token;
    unsigned int kind, released, owner = getpid();
    unsigned int associated;
    int status, ready[2], go[2];
    pid_t pid;
    char c;

    test_prefix();
    base = test_free_ports( 10 );
    check( portres_acquire( PORTRES_PROTO_TCP, base, 10, 0x10, &token, &first, NULL ) == STATUS_SUCCESS &&
           first == base, "acquire: %s", portres_error_message() );
    check( portres_associate( PORTRES_PROTO_TCP, 0, 0x14, token, NULL, NULL, NULL ) == STATUS_SUCCESS, "associate" );
    check( portres_bind_port( PORTRES_PROTO_TCP, 0, 0x14, &port, &associated ) == STATUS_SUCCESS && associated &&
           port == base, "bind of the associated socket got %u", port );
    check( !pipe( ready ) && !pipe( go ), "pipe" );

    fflush( stdout );
    if (!(pid = fork()))
    {
        portres_token_t other;

        close( ready[0] );
        close( go[1] );
        memset( &info, 0, sizeof(info) );
        check( portres_release( token ) == STATUS_INVALID_PARAMETER, "released a foreign token" );
        check( portres_associate( PORTRES_PROTO_TCP, 0, 0x14, token, NULL, NULL, NULL ) == STATUS_INVALID_PARAMETER,
               "associated a foreign token" );
        check( portres_associate( PORTRES_PROTO_TCP, 1, 0x20, token, NULL, NULL, NULL ) == STATUS_INVALID_PARAMETER,
               "associated a foreign token, elevated" );
        check( portres_associate( PORTRES_PROTO_UDP, 1, 0x20, token, NULL, NULL, NULL ) == STATUS_INVALID_PARAMETER,
               "associated a foreign token for udp" );
        check( test_query_port( PORTRES_PROTO_TCP, base + 3, &info ) == STATUS_SUCCESS &&
               info.kind == PORTRES_KIND_RUNTIME && !info.is_mine && info.owner_pid == owner,
               "query: kind %u, mine %u, owner %u", info.kind, info.is_mine, info.owner_pid );
        check( !info.token, "query revealed the token %#llx", (unsigned long long)info.token );
        check( portres_persistent_lookup( PORTRES_PROTO_TCP, base, 10, &other ) == STATUS_NOT_FOUND,
               "lookup found the runtime reservation" );
        check( portres_persistent_delete( PORTRES_PROTO_TCP, base, 10, 1 ) == STATUS_ACCESS_DENIED,
               "deleted the runtime reservation" );
        check( portres_bind_port( PORTRES_PROTO_TCP, base + 1, 0x14, &port, &associated ) == STATUS_ACCESS_DENIED,
               "bound into the reservation with the owner's socket value" );
        check( portres_socket_closed( 0x10, &released ) == STATUS_SUCCESS && !released,
               "closing the owner's socket value released %u", released );
        check( portres_socket_closed( 0x14, &released ) == STATUS_SUCCESS && !released,
               "closing the owner's associated socket value released %u", released );
        check( portres_acquire( PORTRES_PROTO_TCP, base, 10, 0x10, &other, &first, NULL ) ==
               STATUS_ADDRESS_ALREADY_EXISTS, "acquired over the reservation" );
        c = 'y';
        if (write( ready[1], &c, 1 ) != 1 || read( go[0], &c, 1 ) < 0) _exit( 3 );
        fflush( stdout );
        _exit( test_failures() ? 1 : 0 );
    }
    close( ready[1] );
    close( go[0] );
    check( read( ready[0], &c, 1 ) == 1, "the other process died" );

    /* the reservation is whole, while the other process is connected and after it left */
    check_whole( base, token, "with the other process connected" );
    close( go[1] );
    waitpid( pid, &status, 0 );
    check( WIFEXITED( status ) && !WEXITSTATUS( status ), "the other process failed (status %#x)", status );
    check_whole( base, token, "after the other process left" );
    check( portres_associate( PORTRES_PROTO_TCP, 0, 0x18, token, &start, &count, &kind ) == STATUS_SUCCESS &&
           start == base && count == 10 && kind == PORTRES_KIND_RUNTIME, "the owner cannot associate" );
    check( portres_release( token ) == STATUS_SUCCESS, "the owner cannot release" );
    close( ready[0] );
}

static int cmp_token( const void *a, const void *b )
{
    portres_token_t x = *(const portres_token_t *)a, y = *(const portres_token_t *)b;
    return x < y ? -1 : x > y;
}

/* tokens of 20000 acquires: distinct, never 0, every bit set in about half
 * of them, consecutive ones unrelated */
TEST(test_token_randomness)
{
    enum { N = 20000 };
    portres_token_t *tokens = malloc( N * sizeof(*tokens) ), *sorted = malloc( N * sizeof(*tokens) );
    unsigned int i, bit, bits[64] = { 0 }, zero = 0, close_steps = 0, strides = 0, dups = 0;
    struct test_tally requests = { 0 }, balanced = { 0 };
    unsigned long long flipped = 0;
    unsigned short port, first;

    test_prefix();
    port = test_free_ports( 1 );
    for (i = 0; i < N; i++)
    {
        if (!tally( &requests, !portres_acquire( PORTRES_PROTO_TCP, port, 1, 0x10, &tokens[i], &first, NULL ) &&
                    !portres_release( tokens[i] ), "acquire and release %u: %s", i, portres_error_message() ))
            break;
    }
    check_tally( &requests, "acquires and releases" );
    if (requests.failed) return;
    for (i = 0; i < N; i++)
    {
        zero += !tokens[i];
        for (bit = 0; bit < 64; bit++) bits[bit] += (tokens[i] >> bit) & 1;
        if (!i) continue;
        /* a counter, or a generator of small steps, would show here */
        if (tokens[i] - tokens[i - 1] < (1ull << 24) || tokens[i - 1] - tokens[i] < (1ull << 24)) close_steps++;
        if (i > 1 && tokens[i] - tokens[i - 1] == tokens[i - 1] - tokens[i - 2]) strides++;
        flipped += __builtin_popcountll( tokens[i] ^ tokens[i - 1] );
    }
    check( !zero, "%u tokens are 0", zero );
    check( !close_steps, "%u tokens are within 2^24 of the one before", close_steps );
    check( !strides, "%u tokens continue the step of the two before", strides );
    /* each count is binomial(20000, 1/2): 1000 off is 14 standard deviations */
    for (bit = 0; bit < 64; bit++)
        tally( &balanced, bits[bit] >= N * 45 / 100 && bits[bit] <= N * 55 / 100, "bit %u is set in %u of %u tokens",
               bit, bits[bit], N );
    check_tally( &balanced, "bits of the tokens, each set in 45 to 55%," );
    /* about 32 bits differ from one token to the next (the mean of 19999 has a deviation of 0.03) */
    check( flipped >= 31ull * (N - 1) && flipped <= 33ull * (N - 1), "%.2f bits differ between consecutive tokens",
           (double)flipped / (N - 1) );
    memcpy( sorted, tokens, N * sizeof(*tokens) );
    qsort( sorted, N, sizeof(*sorted), cmp_token );
    for (i = 1; i < N; i++) dups += sorted[i] == sorted[i - 1];
    check( !dups, "%u tokens were handed out twice", dups );
    free( tokens );
    free( sorted );
}

static int server_listens( const void *ctx )
{
    const char *sock = ctx;
    struct stat st;
    unsigned int pid;
    int ok;

    if (lstat( sock, &st ) == -1) return 0;
    /* the first connection after the socket appears; a client that comes too
     * early starts a server that loses the lock and is retried */
    ok = portres_connect( &pid ) == STATUS_SUCCESS;
    return ok;
}

/* parse strace's lines "getrandom("\x..", N, 0) = N" into the 8-byte
 * values they returned */
static unsigned int traced_tokens( const char *path, portres_token_t *tokens, unsigned int max )
{
    static char line[4096];
    unsigned int n = 0;
    FILE *file = fopen( path, "r" );

    while (file && n < max && fgets( line, sizeof(line), file ))
    {
        unsigned int size, returned, i, value;
        unsigned char bytes[8];
        const char *p = strstr( line, "getrandom(\"" ), *end;

        if (!p || !(end = strstr( p, "\", " )) || sscanf( end, "\", %u, 0) = %u", &size, &returned ) != 2 ||
            returned != size)
            continue;
        p += strlen( "getrandom(\"" );
        while (p + 4 * 8 <= end && n < max)
        {
            for (i = 0; i < 8; i++, p += 4)
            {
                if (sscanf( p, "\\x%2x", &value ) != 1) break;
                bytes[i] = value;
            }
            if (i < 8) break;
            memcpy( &tokens[n++], bytes, sizeof(tokens[0]) );
        }
    }
    if (file) fclose( file );
    return n;
}

/* every token is eight bytes that the kernel's getrandom() gave the server
 * (which asks for 32 tokens' worth at a time): the server is run under
 * strace, which shows them */
TEST(test_tokens_from_getrandom)
{
    enum { N = 50 };
    char dir[PORTRES_PATH_MAX], sock[PORTRES_PATH_MAX + 8], trace[PATH_MAX + 16];
    static portres_token_t traced[64 * N];
    portres_token_t tokens[N];
    unsigned int i, j, nb_traced, found = 0;
    struct test_tally requests = { 0 };
    unsigned short port, first;
    const char *prefix;
    int status;
    pid_t pid;

    if (system( "strace -V >/dev/null 2>&1" ) != 0)
    {
        check( 0, "strace is not installed: run tools/install-deps" );
        return;
    }
    prefix = test_prefix();
    server_paths( dir, sizeof(dir), sock, sizeof(sock) );
    snprintf( trace, sizeof(trace), "%s/getrandom.trace", prefix );
    fflush( stdout );
    if (!(pid = fork()))
    {
        const char *asan = getenv( "ASAN_OPTIONS" );
        char options[1024];

        /* LeakSanitizer cannot work under ptrace */
        snprintf( options, sizeof(options), "%s%sdetect_leaks=0", asan ? asan : "", asan ? ":" : "" );
        setenv( "ASAN_OPTIONS", options, 1 );
        execlp( "strace", "strace", "-f", "-qq", "-xx", "-s", "1024", "-e", "trace=getrandom", "-o", trace, "--",
                test_server_path(), "-f", "-p", (char *)NULL );
        _exit( 127 );
    }
    check( test_wait_for( server_listens, sock ), "the traced server does not listen" );
    port = test_free_ports( 1 );
    for (i = 0; i < N; i++)
    {
        tally( &requests, portres_acquire( PORTRES_PROTO_TCP, port, 1, 0x10, &tokens[i], &first, NULL ) ==
               STATUS_SUCCESS && portres_release( tokens[i] ) == STATUS_SUCCESS, "acquire %u: %s", i, portres_error_message() );
    }
    check_tally( &requests, "acquires and releases" );
    portres_disconnect();
    test_stop_server();
    waitpid( pid, &status, 0 );
    check( WIFEXITED( status ) && !WEXITSTATUS( status ), "strace exited with status %#x", status );

    nb_traced = traced_tokens( trace, traced, 64 * N );
    check( nb_traced >= N, "getrandom() gave %u tokens' worth for %u acquires", nb_traced, N );
    for (i = 0; i < N; i++)
    {
        for (j = 0; j < nb_traced; j++) if (traced[j] == tokens[i]) break;
        found += j < nb_traced;
    }
    check( found == N, "%u of %u tokens came from getrandom()", found, N );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_other_uid_refused);
    RUN(test_private_directory);
    RUN(test_private_top_directory);
    RUN(test_foreign_token);
    RUN(test_token_randomness);
    RUN(test_tokens_from_getrandom);
    return test_summary();
}
