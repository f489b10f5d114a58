/*
 * The portres client library: connection, start-up of the server, requests
 *
 * The first request of a process connects to the server of its prefix; when
 * no server listens, one is started and the connection retried, so that many
 * clients starting at once end up with one server (the server's lock decides,
 * the losers' servers exit with status 2).  A connection broken later makes
 * that request fail; the next one connects again.
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
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portres/client.h"

extern char **environ;

static pthread_mutex_t connection_lock = PTHREAD_MUTEX_INITIALIZER;
static int connection_fd = -1;
static pid_t connection_pid;          /* process that opened the connection */
static unsigned int connected_server_pid;
static int wine_client;               /* we are a Wine process: sockets are named by inode */
static uint64_t session;              /* what the server holds for us; 0 before the first connection */
static unsigned int completed;        /* requests of the session answered, the handshake apart */

#define CONNECT_ATTEMPTS 100
/* a broken connection is opened again, and the request sent again, this often at most */
#define RESEND_ATTEMPTS 3

static int write_all( int fd, const void *buf, size_t size )
{
    const char *ptr = buf;

    while (size)
    {
        ssize_t ret = send( fd, ptr, size, MSG_NOSIGNAL );
        if (ret < 0 && errno == EINTR) continue;
        if (ret <= 0) return -1;
        ptr += ret;
        size -= ret;
    }
    return 0;
}

static int read_all( int fd, void *buf, size_t size )
{
    char *ptr = buf;

    while (size)
    {
        ssize_t ret = recv( fd, ptr, size, 0 );
        if (ret < 0 && errno == EINTR) continue;
        if (ret <= 0)
        {
            if (!ret) errno = ECONNRESET;
            return -1;
        }
        ptr += ret;
        size -= ret;
    }
    return 0;
}

/* start the server and wait until it listens; returns its starter's exit
 * status (0 started, 2 another server holds the lock), -1 on failure */
static int start_server( void )
{
    char path[PORTRES_PATH_MAX];
    char *argv[2];
    pid_t pid;
    int status, err;

    portres_server_path( path, sizeof(path) );
    argv[0] = path;
    argv[1] = NULL;
    if ((err = posix_spawn( &pid, path, NULL, NULL, argv, environ )))
    {
        portres_set_error( "cannot start the reservation server %s: %s", path, strerror( err ) );
        return -1;
    }
    while (waitpid( pid, &status, 0 ) == -1)
    {
        if (errno != EINTR)
        {
            portres_set_error( "cannot wait for the reservation server %s: %s", path, strerror( errno ) );
            return -1;
        }
    }
    if (WIFEXITED( status ) && (WEXITSTATUS( status ) == 0 || WEXITSTATUS( status ) == 2))
        return WEXITSTATUS( status );
    portres_set_error( "the reservation server %s failed to start (status %#x)", path, status );
    return -1;
}

/* Say hello; 0 on success, -1 when the connection broke (retry), -2 on a
 * version mismatch.  The connection of the process (own_session) goes on
 * with its session after a broken connection: a server that died left it
 * to the next one, which takes it back. */
static int handshake( int fd, int own_session )
{
    union generic_request req;
    union generic_reply reply;

    memset( &req, 0, sizeof(req) );
    req.init_request.__header.req = REQ_init;
    req.init_request.version = PORTRES_PROTOCOL_VERSION;
    if (own_session)
    {
        req.init_request.session = session;
        req.init_request.completed = completed;
    }
    if (write_all( fd, &req, sizeof(req) ) == -1 || read_all( fd, &reply, sizeof(reply) ) == -1) return -1;
    if (reply.reply_header.status == STATUS_REVISION_MISMATCH || reply.init_reply.version != PORTRES_PROTOCOL_VERSION)
    {
        portres_set_error( "the running reservation server speaks protocol version %08x, this program %08x; "
                           "stop the server with 'portres-server -k' and use programs of one build",
                           reply.init_reply.version, PORTRES_PROTOCOL_VERSION );
        return -2;
    }
    if (reply.reply_header.status) return -1;
    connected_server_pid = reply.init_reply.server_pid;
    if (!own_session || reply.init_reply.resumed) return 0;
    session = reply.init_reply.session;
    completed = 0;
    if (!wine_client) return 0;
    memset( &req, 0, sizeof(req) );
    req.identify_request.__header.req = REQ_identify;
    req.identify_request.wine = 1;
    if (write_all( fd, &req, sizeof(req) ) == -1 || read_all( fd, &reply, sizeof(reply) ) == -1) return -1;
    return reply.reply_header.status ? -1 : 0;
}

void portres_set_wine_client( void )
{
    pthread_mutex_lock( &connection_lock );
    wine_client = 1;
    pthread_mutex_unlock( &connection_lock );
}

static void backoff( int attempt )
{
    struct timespec ts;
    long ms = attempt < 10 ? 1 + attempt : 20;

    ts.tv_sec = 0;
    ts.tv_nsec = ms * 1000000;
    nanosleep( &ts, NULL );
}

/* connect to the server of the prefix, starting it when needed */
static int open_connection( int own_session )
{
    char prefix[PORTRES_PATH_MAX], dir[PORTRES_PATH_MAX];
    struct sockaddr_un addr;
    int attempt, fd, ret, err;

    if (portres_prefix_dir( prefix, sizeof(prefix), 1 ) == -1) return -1;
    if (portres_server_dir( prefix, dir, sizeof(dir), 1 ) == -1) return -1;
    memset( &addr, 0, sizeof(addr) );
    addr.sun_family = AF_UNIX;
    if (snprintf( addr.sun_path, sizeof(addr.sun_path), "%s/socket", dir ) >= (int)sizeof(addr.sun_path))
    {
        portres_set_error( "the socket path %s/socket is too long", dir );
        return -1;
    }

    for (attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++)
    {
        if (portres_check_socket( addr.sun_path ) == -1) return -1;
        if ((fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 )) == -1)
        {
            portres_set_error( "cannot create a socket: %s", strerror( errno ) );
            return -1;
        }
        if (connect( fd, (struct sockaddr *)&addr, sizeof(addr) ) == 0)
        {
            if (!(ret = handshake( fd, own_session ))) return fd;
            close( fd );
            if (ret == -2) return -1;
            backoff( attempt );  /* the server was exiting; start another */
            continue;
        }
        err = errno;
        close( fd );
        if (err == EAGAIN)  /* the server's backlog is full */
        {
            backoff( attempt );
            continue;
        }
        if (err != ENOENT && err != ECONNREFUSED)
        {
            portres_set_error( "cannot connect to %s: %s", addr.sun_path, strerror( err ) );
            return -1;
        }
        if ((ret = start_server()) == -1) return -1;
        if (ret == 2) backoff( attempt );
    }
    portres_set_error( "no reservation server answers at %s", addr.sun_path );
    return -1;
}

static void close_connection( void )
{
    if (connection_fd != -1) close( connection_fd );
    connection_fd = -1;
}

/* connect when needed; called with the lock held */
static int ensure_connection( void )
{
    if (connection_pid != getpid())
    {
        /* inherited through fork: the parent's connection and session, not ours */
        close_connection();
        session = 0;
        completed = 0;
    }
    if (connection_fd == -1)
    {
        connection_pid = getpid();
        if ((connection_fd = open_connection( 1 )) == -1) return -1;
    }
    return 0;
}

unsigned int portres_connect( unsigned int *server_pid )
{
    unsigned int status = STATUS_SUCCESS;

    pthread_mutex_lock( &connection_lock );
    if (ensure_connection() == -1) status = STATUS_CONNECTION_REFUSED;
    else if (server_pid) *server_pid = connected_server_pid;
    pthread_mutex_unlock( &connection_lock );
    return status;
}

/* the session ends with the connection: the server lets go of what it held for us */
void portres_disconnect( void )
{
    pthread_mutex_lock( &connection_lock );
    close_connection();
    session = 0;
    completed = 0;
    pthread_mutex_unlock( &connection_lock );
}

/* one exchange on the connection; 0, or -1 when it broke (errno 0: the server spoke nonsense) */
static int exchange( const union generic_request *req, union generic_reply *reply, void *data, size_t capacity )
{
    if (write_all( connection_fd, req, sizeof(*req) ) == -1 || read_all( connection_fd, reply, sizeof(*reply) ) == -1)
        return -1;
    if (reply->reply_header.data_size > capacity)
    {
        portres_set_error( "the reservation server sent %u bytes of data where %zu were expected",
                           reply->reply_header.data_size, capacity );
        errno = 0;
        return -1;
    }
    if (reply->reply_header.data_size && read_all( connection_fd, data, reply->reply_header.data_size ) == -1)
        return -1;
    return 0;
}

/* Send a request and read its reply and up to *data_size bytes of reply
 * data.  When the connection breaks (the server died), the request goes
 * again on a new connection that resumes the session: the new server
 * carries it out, or answers it as the dead one did if that one had.  The
 * one road to the server: the functions of requests.c and the two below
 * take it, as the Wine bridge does. */
unsigned int portres_request( union generic_request *req, union generic_reply *reply, void *data, size_t *data_size )
{
    size_t capacity = data_size ? *data_size : 0;
    unsigned int status, attempt;
    int err;

    pthread_mutex_lock( &connection_lock );
    for (attempt = 0; attempt < RESEND_ATTEMPTS; attempt++)
    {
        if (ensure_connection() == -1)
        {
            pthread_mutex_unlock( &connection_lock );
            return attempt ? STATUS_CONNECTION_RESET : STATUS_CONNECTION_REFUSED;
        }
        if (!exchange( req, reply, data, capacity ))
        {
            completed++;
            if (data_size) *data_size = reply->reply_header.data_size;
            status = reply->reply_header.status;
            pthread_mutex_unlock( &connection_lock );
            return status;
        }
        err = errno;
        if (err) portres_set_error( "lost the connection to the reservation server: %s", strerror( err ) );
        close_connection();
        if (!err) break;
    }
    pthread_mutex_unlock( &connection_lock );
    return STATUS_CONNECTION_RESET;
}

#define INIT_REQUEST(name) \
    union generic_request req; \
    union generic_reply reply; \
    struct name##_request *r = &req.name##_request; \
    const struct name##_reply *out = &reply.name##_reply; \
    unsigned int status; \
    memset( &req, 0, sizeof(req) ); \
    memset( &reply, 0, sizeof(reply) ); \
    r->__header.req = REQ_##name

/* map the file of the map read-only; NULL when it is missing or not of our version */
static const struct portres_map *map_file( const char *path )
{
    const struct portres_map *map;
    struct stat st;
    void *ptr;
    int fd;

    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) == -1)
    {
        portres_set_error( "cannot open %s: %s", path, strerror( errno ) );
        return NULL;
    }
    if (fstat( fd, &st ) == -1 || st.st_uid != getuid())
    {
        portres_set_error( "%s is not owned by you", path );
        close( fd );
        return NULL;
    }
    /* a short file cannot be read through a mapping without SIGBUS */
    if (st.st_size < (off_t)sizeof(*map))
    {
        portres_set_error( "%s is not a map of this version", path );
        close( fd );
        return NULL;
    }
    ptr = mmap( NULL, sizeof(*map), PROT_READ, MAP_SHARED, fd, 0 );
    close( fd );
    if (ptr == MAP_FAILED)
    {
        portres_set_error( "cannot map %s: %s", path, strerror( errno ) );
        return NULL;
    }
    map = ptr;
    if (__atomic_load_n( &map->version, __ATOMIC_ACQUIRE ) != PORTRES_PROTOCOL_VERSION)
    {
        portres_set_error( "%s is of another protocol version", path );
        munmap( ptr, sizeof(*map) );
        return NULL;
    }
    return map;
}

/* The map is the file "map" in the server directory.  Every server publishes
 * into it, and leaves the persistent reservations in it when it exits, so it
 * stays valid across servers.  When there is none yet (or one of another
 * version), a server is started to publish one. */
const struct portres_map *portres_get_map( void )
{
    static const struct portres_map *map;
    char prefix[PORTRES_PATH_MAX], dir[PORTRES_PATH_MAX], path[PORTRES_PATH_MAX + 8];
    int fd;

    pthread_mutex_lock( &connection_lock );
    if (!map && portres_prefix_dir( prefix, sizeof(prefix), 1 ) != -1 &&
        portres_server_dir( prefix, dir, sizeof(dir), 1 ) != -1)
    {
        snprintf( path, sizeof(path), "%s/map", dir );
        if (!(map = map_file( path )) && (fd = open_connection( 0 )) != -1)
        {
            /* the server has published by the time it answers */
            close( fd );
            map = map_file( path );
        }
    }
    pthread_mutex_unlock( &connection_lock );
    return map;
}

/* Whether a runtime reservation of another prefix of this user takes a
 * port of a protocol: 1 when one does, else 0.  Windows keeps one table of
 * reservations for the host, and refuses a bind into any of them that the
 * binding process does not own; here each prefix has its own server, whose
 * holds keep the port on the whole host, so a bind of another prefix fails
 * as a port in use.  The other servers' maps, in the server directories
 * beside this prefix's, tell why; a map whose server no longer holds its
 * lock says nothing (one that died leaves its map behind). */
int portres_reserved_elsewhere( unsigned int protocol, unsigned short port )
{
    char prefix[PORTRES_PATH_MAX], own[PORTRES_PATH_MAX], path[PORTRES_PATH_MAX + 300];
    const struct portres_map *map;
    struct dirent *entry;
    char *name;
    int found = 0, runtime;
    DIR *dir;

    if (portres_prefix_dir( prefix, sizeof(prefix), 0 ) == -1 ||
        portres_server_dir( prefix, own, sizeof(own), 0 ) == -1 || !(name = strrchr( own, '/' )))
        return 0;
    *name++ = 0;
    if (!(dir = opendir( own ))) return 0;
    while (!found && (entry = readdir( dir )))
    {
        if (strncmp( entry->d_name, "server-", 7 ) || !strcmp( entry->d_name, name )) continue;
        snprintf( path, sizeof(path), "%s/%s/lock", own, entry->d_name );
        if (portres_lock_holder( path ) <= 0) continue;
        snprintf( path, sizeof(path), "%s/%s/map", own, entry->d_name );
        if (!(map = map_file( path ))) continue;
        found = portres_map_lookup( map, protocol, port, &runtime ) > 0 && runtime;
        munmap( (void *)map, sizeof(*map) );
    }
    closedir( dir );
    return found;
}

/* one page of the list, from the first reservation starting at or after
 * first_port; *next_port is where the next page starts, 0 after the last */
static unsigned int list_page( unsigned int protocol, unsigned int first_port, struct portres_entry *entries,
                               unsigned int *count, unsigned int *next_port )
{
    size_t size = PORTRES_LIST_PAGE * sizeof(*entries);
    INIT_REQUEST( list );
    r->protocol   = protocol;
    r->first_port = first_port;
    *count = 0;
    if ((status = portres_request( &req, &reply, entries, &size ))) return status;
    *count = size / sizeof(*entries);
    *next_port = out->next_port;
    return STATUS_SUCCESS;
}

unsigned int portres_list( unsigned int protocol, portres_list_func func, void *ctx )
{
    struct portres_entry entries[PORTRES_LIST_PAGE];
    unsigned int first_port = 0, i, count, status;

    do
    {
        if ((status = list_page( protocol, first_port, entries, &count, &first_port ))) return status;
        for (i = 0; i < count; i++)
            if (func( ctx, &entries[i] )) return STATUS_SUCCESS;
    } while (first_port);
    return STATUS_SUCCESS;
}

unsigned int portres_check_state( struct check_state_reply *state, char *message, size_t size )
{
    char data[PORTRES_MAX_REPLY_DATA];
    size_t len = sizeof(data);
    INIT_REQUEST( check_state );
    (void)r;
    if (size) message[0] = 0;
    status = portres_request( &req, &reply, data, &len );
    if (status == STATUS_CONNECTION_REFUSED || status == STATUS_CONNECTION_RESET) return status;
    *state = *out;
    if (size) snprintf( message, size, "%.*s", (int)len, data );
    return status;
}
