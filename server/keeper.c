/*
 * The keeper: a process that outlives the server, and keeps what the
 * server must not lose
 *
 * It keeps records and descriptors as the server sends them (keeper.h),
 * without knowing what they mean: above all the sockets that hold reserved
 * ports, so that the ports stay held while there is no server.  When the
 * server dies it starts a new one, and gives it everything back; when the
 * server stops for good it drops everything and exits.
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

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "keeper.h"
#include "server.h"
#include "portres/client.h"

extern char **environ;

/* the server is started again at most this often (ms), should it die at once each time */
#define RESTART_INTERVAL 500

struct kept
{
    struct hash_entry entry;
    int               fd;
    unsigned short    size;
    unsigned char     data[KEEPER_MAX_DATA];
};

/* an operation that waits for its commit */
struct pending
{
    struct keeper_op op;
    int              fd;
    unsigned char    data[KEEPER_MAX_DATA];
};

static struct hash_table records[KEEPER_NB_KINDS];
static struct keeper_writer writer;   /* what goes to the server: everything kept, or a sync */
static struct pending *pending;
static unsigned int nb_pending, max_pending;
static int server_fd = -1;               /* the connection of the server */
static int wake_fd = -1;                 /* its wake-up pipe, once it gave one: read only when woken */
static long long server_lost;            /* when the last one went, 0 while one is there */
static long long last_start = -RESTART_INTERVAL;  /* when the keeper last started one */

static void drop_record( struct hash_table *table, struct kept *kept )
{
    hash_remove( table, &kept->entry );
    if (kept->fd != -1) close( kept->fd );
    free( kept );
}

static void drop_all( void )
{
    unsigned int kind, pos;

    for (kind = 0; kind < KEEPER_NB_KINDS; kind++)
    {
        struct hash_table *table = &records[kind];

        for (pos = 0; pos < table->size; pos++)
            while (table->buckets[pos]) drop_record( table, HASH_ENTRY( table->buckets[pos], struct kept, entry ) );
    }
}

static unsigned int nb_records( void )
{
    unsigned int kind, count = 0;

    for (kind = 0; kind < KEEPER_NB_KINDS; kind++) count += records[kind].count;
    return count;
}

static void apply( const struct pending *p )
{
    struct hash_table *table = &records[p->op.kind];
    struct hash_entry *entry = hash_find( table, p->op.key );
    struct kept *kept = entry ? HASH_ENTRY( entry, struct kept, entry ) : NULL;

    switch (p->op.op)
    {
    case KEEPER_PUT:
        if (!kept)
        {
            if (!(kept = calloc( 1, sizeof(*kept) )))
            {
                /* the server's own copy still holds; a new server would miss it */
                fprintf( stderr, "portres-keeper: out of memory\n" );
                if (p->fd != -1) close( p->fd );
                return;
            }
            kept->fd = -1;
            kept->entry.key = p->op.key;
            hash_insert( table, &kept->entry );
        }
        kept->size = p->op.size;
        memcpy( kept->data, p->data, p->op.size );
        if (p->fd != -1)
        {
            if (kept->fd != -1) close( kept->fd );
            kept->fd = p->fd;
        }
        break;
    case KEEPER_DEL:
        if (kept) drop_record( table, kept );
        if (p->fd != -1) close( p->fd );
        break;
    case KEEPER_RESET:
        drop_all();
        if (p->fd != -1) close( p->fd );
        break;
    }
}

static void drop_pending( void )
{
    while (nb_pending) if (pending[--nb_pending].fd != -1) close( pending[nb_pending].fd );
}

/* the server wakes the keeper from now on when it must read */
static void set_wake_fd( int fd )
{
    if (wake_fd != -1) close( wake_fd );
    wake_fd = fd;
}

static void add_pending( void *ctx, const struct keeper_op *op, const void *data, int fd )
{
    struct pending *p;

    if (op->op == KEEPER_WAKE && fd != -1)
    {
        set_wake_fd( fd );
        return;
    }
    if (op->kind >= KEEPER_NB_KINDS || (op->op != KEEPER_PUT && op->op != KEEPER_DEL && op->op != KEEPER_RESET))
    {
        if (fd != -1) close( fd );
        return;
    }
    if (nb_pending == max_pending)
    {
        unsigned int new_max = max_pending ? max_pending * 2 : 256;
        struct pending *new_pending = realloc( pending, new_max * sizeof(*pending) );

        if (!new_pending)
        {
            fprintf( stderr, "portres-keeper: out of memory\n" );
            if (fd != -1) close( fd );
            return;
        }
        pending = new_pending;
        max_pending = new_max;
    }
    p = &pending[nb_pending++];
    p->op = *op;
    p->fd = fd;
    memcpy( p->data, data, op->size );
}

/* everything kept, to a new server */
static int send_all( int fd )
{
    struct hash_entry *entry;
    unsigned int kind, pos;
    int ret = 0;

    keeper_writer_init( &writer, fd );
    for (kind = 0; kind < KEEPER_NB_KINDS && !ret; kind++)
    {
        pos = 0;
        while (!ret && (entry = hash_next_bucket( &records[kind], &pos )))
        {
            for (; entry && !ret; entry = entry->next)
            {
                const struct kept *kept = HASH_ENTRY( entry, struct kept, entry );
                ret = keeper_write_op( &writer, KEEPER_PUT, kind, kept->entry.key, kept->data, kept->size,
                                       kept->fd );
            }
        }
    }
    if (!ret) ret = keeper_flush( &writer, KEEPER_END );
    return ret;
}

/* the server its clients would start (PORTRES_SERVER, or this program) */
static void start_server( void )
{
    char path[PORTRES_PATH_MAX];
    char *argv[] = { path, NULL };
    pid_t pid;
    int err;

    portres_server_path( path, sizeof(path) );
    if ((err = posix_spawn( &pid, path, NULL, NULL, argv, environ )))
        fprintf( stderr, "portres-keeper: cannot start the server %s: %s\n", path, strerror( err ) );
}

/* a message of the server, read with its flags; -1 when the connection is done with */
static int serve_message( int fd, int flags )
{
    unsigned int i;

    if (flags == -1) return -1;
    if (flags & KEEPER_QUIT)
    {
        drop_pending();
        drop_all();
        exit( 0 );
    }
    if (!(flags & KEEPER_COMMIT)) return 0;
    for (i = 0; i < nb_pending; i++) apply( &pending[i] );
    nb_pending = 0;
    if (!(flags & KEEPER_SYNC)) return 0;
    keeper_writer_init( &writer, fd );
    return keeper_flush( &writer, KEEPER_SYNC );
}

/* one message of the server; -1 when the connection is done with */
static int serve( int fd )
{
    return serve_message( fd, keeper_read( fd, 0, add_pending, NULL ) );
}

/* Every message queued, and the rest of a transaction begun (the server
 * is sending it, or has died and the read ends); -1 when the connection
 * is done with */
static int serve_queued( int fd )
{
    int flags;

    while ((flags = keeper_read( fd, nb_pending ? 0 : MSG_DONTWAIT, add_pending, NULL )) != KEEPER_NONE)
        if (serve_message( fd, flags ) == -1) return -1;
    return 0;
}

/* the server woke the keeper */
static int serve_woken( int fd )
{
    char buf[64];

    /* a byte a wake-up: one read takes them all but when the pipe is full */
    while (read( wake_fd, buf, sizeof(buf) ) == sizeof(buf));
    return serve_queued( fd );
}

/* the server went: what it had not committed goes, the rest stays */
static void lose_server( void )
{
    drop_pending();
    set_wake_fd( -1 );
    close( server_fd );
    server_fd = -1;
    server_lost = now_ms();
}

/* a server connects; only the one holding the lock does, so an earlier one is dead */
static void accept_server( int listen_fd )
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int fd = accept4( listen_fd, NULL, NULL, SOCK_CLOEXEC );

    if (fd == -1) return;
    if (getsockopt( fd, SOL_SOCKET, SO_PEERCRED, &cred, &len ) == -1 || cred.uid != getuid())
    {
        close( fd );
        return;
    }
    /* what the earlier one queued is kept before it goes */
    if (server_fd != -1)
    {
        serve_queued( server_fd );
        lose_server();
    }
    server_fd = fd;
    server_lost = 0;
    if (send_all( server_fd ) == -1) lose_server();
}

/* without a server, one is started again, at most every RESTART_INTERVAL
 * ms; the ms until then, -1 for no timeout, -2 when there is nothing kept
 * to keep a server for */
static int restart_timeout( void )
{
    int timeout;

    if (server_fd != -1 || !server_lost) return -1;
    if (!nb_records()) return -2;
    if ((timeout = last_start + RESTART_INTERVAL - now_ms()) > 0) return timeout;
    last_start = now_ms();
    server_lost = 0;
    start_server();
    return -1;
}

/* the keeper's own process: its own session, no children to reap, its name */
static int init_keeper( const char *dir )
{
    struct sigaction sa;
    unsigned int kind;

    for (kind = 0; kind < KEEPER_NB_KINDS; kind++)
        if (!hash_init( &records[kind] )) return -1;
    memset( &sa, 0, sizeof(sa) );
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = SA_NOCLDWAIT;
    sigaction( SIGCHLD, &sa, NULL );  /* the servers it starts need no reaping */
    signal( SIGPIPE, SIG_IGN );
    setsid();
    prctl( PR_SET_NAME, "portres-keeper" );  /* not to be taken for the server by name */
    if (chdir( dir ) == -1) perror( "portres-keeper: chdir" );
    return 0;
}

int keeper_main( const char *dir )
{
    int listen_fd = 3, timeout;

    if (init_keeper( dir ) == -1) return 1;
    for (;;)
    {
        /* with a wake-up pipe, the server's connection only for its end */
        struct pollfd fds[3] = { { listen_fd, POLLIN, 0 }, { server_fd, wake_fd == -1 ? POLLIN : 0, 0 },
                                 { wake_fd, POLLIN, 0 } };

        /* nothing kept: nothing to keep a server for */
        if ((timeout = restart_timeout()) == -2) return 0;
        if (poll( fds, 3, timeout ) == -1)
        {
            if (errno == EINTR) continue;
            perror( "portres-keeper: poll" );
            return 1;
        }
        if (fds[2].revents && serve_woken( server_fd ) == -1) lose_server();
        else if (fds[1].revents && serve( server_fd ) == -1) lose_server();
        if (fds[0].revents & POLLIN) accept_server( listen_fd );
    }
}
