/*
 * The server's journal: every change that must outlive the server goes to
 * the keeper before the client hears of it, and a new server starts from
 * what the keeper kept
 *
 * A request's changes (the engine's records, the holds it took or let go,
 * the client's session and the reply) are collected, then sent as one
 * transaction that the keeper applies whole or not at all (keeper.h).  A
 * transaction that lets a held port go waits until the keeper has closed
 * its copy of the hold, so that the port is free on the host when the
 * client hears of it.  Other transactions are only queued on the keeper's
 * connection: queued, they are the keeper's whatever happens to the
 * server, and the keeper reads them when it is next woken (keeper.h).
 * Should the keeper die, a new one gets everything at once; should the
 * server die, the keeper starts a new one, which takes everything back
 * (journal_open, restore.c).  The journal only receives
 * changes: what they are of is for the engine and session.c to say.
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
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"
#include "keeper.h"
#include "portres/client.h"

/* an operation of the transaction being collected */
struct jop
{
    unsigned short op;
    unsigned short kind;
    unsigned short size;
    int            fd;       /* the server's descriptor, sent as a duplicate; -1 for none */
    uint64_t       key;
    unsigned char  data[KEEPER_MAX_DATA];
};

/* a transaction of at most this many operations is one message */
#define LAZY_MAX_OPS  64
/* descriptors in flight to a keeper not woken, at most: the kernel counts
 * them against the sender's RLIMIT_NOFILE, which may be as low as 1,024 */
#define LAZY_MAX_FDS  256

static int keeper_fd = -1;
static unsigned int unread_fds;         /* descriptors sent since the keeper was last woken */
static struct fd keeper;                /* keeper_fd, waited on: it says nothing unasked but dying */
static char server_dir[PORTRES_PATH_MAX];
static char keeper_path[PORTRES_PATH_MAX + 32];
static struct keeper_writer *writer;
static struct jop *ops;
static unsigned int nb_ops, max_ops;
static int sync_needed;                 /* the transaction lets go of a hold the keeper has */
static int keeper_wanted;               /* journal_open ran: a keeper keeps whatever there is to keep */
static int keeper_broken;               /* none could be started: the server does without */
static void (*snapshot_sessions)( void );  /* journals every session again */
static int unkept;                      /* something to keep came while there was no keeper */
static unsigned int *hold_op[ENGINE_NB_PROTOCOLS];  /* by port: index + 1 of its PUT in ops, 0 if none */

/* Whether changes go to the keeper.  There is none until there is
 * something to keep: a change that adds something is noted, and the next
 * commit starts a keeper, which gets everything at once. */
static int journaling( int adds )
{
    if (keeper_fd != -1) return 1;
    if (adds && keeper_wanted && !keeper_broken) unkept = 1;
    return 0;
}

static struct jop *add_op( unsigned int op, unsigned int kind, uint64_t key, const void *data, size_t size,
                           int fd )
{
    struct jop *jop;

    if (nb_ops == max_ops)
    {
        unsigned int new_max = max_ops ? max_ops * 2 : 64;
        struct jop *new_ops = realloc( ops, new_max * sizeof(*ops) );

        /* without memory the change stays unjournaled: a later snapshot
         * (keeper_restart) carries it, and until then a crash would lose it */
        if (!new_ops) return NULL;
        ops = new_ops;
        max_ops = new_max;
    }
    jop = &ops[nb_ops++];
    jop->op = op;
    jop->kind = kind;
    jop->key = key;
    jop->size = size;
    jop->fd = fd;
    if (size) memcpy( jop->data, data, size );
    return jop;
}

/***********************************************************************
 *           the engine's callbacks
 */

/* A port this very request let go of (a reservation of a socket that had
 * ended, reaped on the way) is still the keeper's until it has closed its
 * copy: what the request did so far goes to it first, and the port is
 * looked at again.  What went is whole on its own. */
static int let_go_pending( void )
{
    if (keeper_fd == -1 || !sync_needed) return 0;
    journal_commit();
    return 1;
}

int journal_port_in_use( void *ctx, int protocol, unsigned short port )
{
    int ret = host_port_in_use( ctx, protocol, port );

    if (ret && let_go_pending()) ret = host_port_in_use( ctx, protocol, port );
    return ret;
}

int journal_hold( void *ctx, int protocol, unsigned short port )
{
    int fd = host_hold( ctx, protocol, port );

    if (fd == ENGINE_HOLD_IN_USE && let_go_pending()) fd = host_hold( ctx, protocol, port );

    if (fd >= 0 && journaling( 1 ) && add_op( KEEPER_PUT, KEEPER_HOLD, keeper_hold_key( protocol, port ), NULL, 0, fd ))
        hold_op[protocol][port] = nb_ops;
    return fd;
}

void journal_unhold( void *ctx, int handle, int protocol, unsigned short port )
{
    if (journaling( 0 ))
    {
        unsigned int index = hold_op[protocol][port];

        /* a hold the keeper has not seen yet is simply not sent: its
         * descriptor is about to close, and its number may come again */
        if (index && ops[index - 1].fd == handle)
        {
            ops[index - 1].op = 0;
            ops[index - 1].fd = -1;
        }
        else
        {
            add_op( KEEPER_DEL, KEEPER_HOLD, keeper_hold_key( protocol, port ), NULL, 0, -1 );
            sync_needed = 1;
        }
        hold_op[protocol][port] = 0;
    }
    host_unhold( ctx, handle, protocol, port );
}

void journal_record( void *ctx, const struct engine_record *record )
{
    unsigned int kind = record->type == ENGINE_RECORD_RESERVATION ? KEEPER_RESERVATION : KEEPER_ASSOCIATION;

    if (!journaling( !record->deleted )) return;
    if (record->deleted) add_op( KEEPER_DEL, kind, record->id, NULL, 0, -1 );
    else add_op( KEEPER_PUT, kind, record->id, record, sizeof(*record), -1 );
}

/* a session's data, and its pidfd when not -1; 0 when no keeper keeps it */
int journal_put_session( const struct keeper_session *data, int pidfd )
{
    if (!journaling( 1 )) return 0;
    add_op( KEEPER_PUT, KEEPER_SESSION, data->session, data, sizeof(*data), pidfd );
    return 1;
}

/* a session the keeper has ends; 0 when no keeper keeps it */
int journal_del_session( uint64_t session )
{
    if (!journaling( 0 )) return 0;
    add_op( KEEPER_DEL, KEEPER_SESSION, session, NULL, 0, -1 );
    return 1;
}

/* a record of what an earlier server left is not taken back */
void journal_drop( unsigned int kind, uint64_t key )
{
    add_op( KEEPER_DEL, kind, key, NULL, 0, -1 );
    if (kind == KEEPER_HOLD) sync_needed = 1;
}

/***********************************************************************
 *           the keeper
 */

/* the keeper reads what it was sent */
static void wake_keeper( void )
{
    if (writer->wake_fd != -1) keeper_wake( writer->wake_fd );
    unread_fds = 0;
}

/* Whether the keeper is to be woken once the transaction is sent: it is
 * longer than a message (should the connection fill meanwhile, the keeper
 * is woken then and reads along), or leaves too many descriptors in
 * flight.  Woken before the first message is queued, the keeper could
 * find nothing and sleep, leaving the work to the next release. */
static int wake_needed( void )
{
    unsigned int i;

    for (i = 0; i < nb_ops; i++) if (ops[i].op && ops[i].fd != -1) unread_fds++;
    return nb_ops > LAZY_MAX_OPS || unread_fds > LAZY_MAX_FDS;
}

static int send_ops( unsigned int flags )
{
    int wake = wake_needed(), ret = 0;
    unsigned int i;

    for (i = 0; i < nb_ops && !ret; i++)
    {
        const struct jop *jop = &ops[i];
        if (!jop->op) continue;
        ret = keeper_write_op( writer, jop->op, jop->kind, jop->key, jop->data, jop->size, jop->fd );
    }
    if (!ret) ret = keeper_flush( writer, flags );
    if (wake) wake_keeper();
    return ret;
}

static void ignore_op( void *ctx, const struct keeper_op *op, const void *data, int fd )
{
    if (fd != -1) close( fd );
}

/* wake the keeper and wait for it to say it applied what it got */
static int wait_sync( void )
{
    int flags;

    wake_keeper();
    while ((flags = keeper_read( keeper_fd, 0, ignore_op, NULL )) != -1)
        if (flags & KEEPER_SYNC) return 0;
    return -1;
}

static void clear_ops( void )
{
    unsigned int i;

    for (i = 0; i < nb_ops; i++)
        if (ops[i].op == KEEPER_PUT && ops[i].kind == KEEPER_HOLD) hold_op[ops[i].key >> 16][ops[i].key & 0xffff] = 0;
    nb_ops = 0;
    sync_needed = 0;
}

static int start_keeper( void );
static int keeper_restart( void );

/* whether the transaction being collected changes anything */
int journal_pending( void )
{
    return nb_ops != 0 || unkept;
}

/* send the collected changes as one transaction; a keeper that died is
 * replaced, and the new one gets everything */
void journal_commit( void )
{
    unsigned int flags = KEEPER_COMMIT | (sync_needed ? KEEPER_SYNC : 0);
    int ret;

    if (keeper_fd == -1)
    {
        if (unkept) keeper_restart();
        unkept = 0;
        return;
    }
    if (!nb_ops) return;
    ret = send_ops( flags );
    if (!ret && (flags & KEEPER_SYNC)) ret = wait_sync();
    clear_ops();
    if (ret == -1) keeper_restart();
}

/***********************************************************************
 *           everything at once: to a new keeper, or from the old one
 */

static void snapshot_record( void *ctx, const struct engine_record *record, const int *holders )
{
    unsigned int i;

    journal_record( ctx, record );
    if (!holders) return;
    for (i = 0; i < record->count; i++)
        if (holders[i] >= 0)
            add_op( KEEPER_PUT, KEEPER_HOLD, keeper_hold_key( record->protocol, record->start + i ), NULL, 0,
                    holders[i] );
}

/* everything the server has, in place of what the keeper had */
static int send_snapshot( void )
{
    int ret;

    clear_ops();
    add_op( KEEPER_RESET, KEEPER_HOLD, 0, NULL, 0, -1 );
    snapshot_sessions();
    engine_enum_records( engine, snapshot_record, NULL );
    ret = send_ops( KEEPER_COMMIT | KEEPER_SYNC );
    if (!ret) ret = wait_sync();
    clear_ops();
    return ret;
}

static void add_restored( void *ctx, const struct keeper_op *op, const void *data, int fd )
{
    struct keeper_state *restore = ctx;

    switch (op->kind)
    {
    case KEEPER_HOLD:
        if ((op->key >> 16) < ENGINE_NB_PROTOCOLS && fd != -1)
        {
            int *slot = &restore->holds[op->key >> 16][op->key & 0xffff];
            if (*slot != -1) close( *slot );
            *slot = fd;
            return;
        }
        break;
    case KEEPER_SESSION:
        if (op->size == sizeof(struct keeper_session))
        {
            void *sessions = realloc( restore->sessions, (restore->nb_sessions + 1) * sizeof(*restore->sessions) );
            void *pidfds = sessions ? realloc( restore->pidfds, (restore->nb_sessions + 1) * sizeof(int) ) : NULL;

            if (sessions) restore->sessions = sessions;
            if (pidfds) restore->pidfds = pidfds;
            if (!pidfds) break;
            memcpy( &restore->sessions[restore->nb_sessions], data, op->size );
            restore->pidfds[restore->nb_sessions++] = fd;
            return;
        }
        break;
    case KEEPER_RESERVATION:
    case KEEPER_ASSOCIATION:
        if (op->size == sizeof(struct engine_record))
        {
            void *records = realloc( restore->records, (restore->nb_records + 1) * sizeof(*restore->records) );

            if (!records) break;
            restore->records = records;
            memcpy( &restore->records[restore->nb_records++], data, op->size );
        }
        break;
    }
    if (fd != -1) close( fd );
}

void free_kept( struct keeper_state *restore )
{
    unsigned int protocol, port;

    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
    {
        if (!restore->holds[protocol]) continue;
        for (port = 0; port < 65536; port++)
            if (restore->holds[protocol][port] != -1) close( restore->holds[protocol][port] );
        free( restore->holds[protocol] );
    }
    free( restore->sessions );
    free( restore->pidfds );
    free( restore->records );
}

/* The keeper is given a pipe by which it is woken, and sleeps otherwise;
 * without one, it reads every message as it comes */
static void give_wake_pipe( void )
{
    int fds[2];

    if (pipe2( fds, O_CLOEXEC | O_NONBLOCK ) == -1) return;
    if (keeper_write_op( writer, KEEPER_WAKE, 0, 0, NULL, 0, fds[0] ) == -1 || keeper_flush( writer, 0 ) == -1)
    {
        close( fds[1] );
        fds[1] = -1;
    }
    close( fds[0] );
    writer->wake_fd = fds[1];
    unread_fds = 0;
}

/* read what the keeper has, then give it its wake-up pipe; -1 when it broke off */
static int read_restore( struct keeper_state *restore )
{
    unsigned int protocol;
    int flags;

    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
    {
        if (!(restore->holds[protocol] = malloc( 65536 * sizeof(int) ))) return -1;
        memset( restore->holds[protocol], 0xff, 65536 * sizeof(int) );
    }
    while ((flags = keeper_read( keeper_fd, 0, add_restored, restore )) != -1)
    {
        if (!(flags & KEEPER_END)) continue;
        give_wake_pipe();
        return 0;
    }
    return -1;
}

/* the keeper's address; -1 when the path does not fit */
static int keeper_address( struct sockaddr_un *addr )
{
    memset( addr, 0, sizeof(*addr) );
    addr->sun_family = AF_UNIX;
    if (strlen( keeper_path ) < sizeof(addr->sun_path))
    {
        memcpy( addr->sun_path, keeper_path, strlen( keeper_path ) );
        return 0;
    }
    errno = ENAMETOOLONG;
    return -1;
}

static int connect_keeper( void )
{
    struct sockaddr_un addr;
    int fd;

    if (keeper_address( &addr ) == -1) return -1;
    if ((fd = socket( AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0 )) == -1) return -1;
    if (!connect( fd, (struct sockaddr *)&addr, sizeof(addr) )) return fd;
    close( fd );
    return -1;
}

/* A keeper of its own, out of the server's process group and session:
 * started through a child that exits at once, so that nobody need reap it */
static int start_keeper( void )
{
    char exe[PORTRES_PATH_MAX];
    struct sockaddr_un addr;
    int listen_fd, status;
    ssize_t len;
    pid_t pid;

    /* this program, by its path: under a tool such as valgrind,
     * /proc/self/exe itself would be the tool */
    if ((len = readlink( "/proc/self/exe", exe, sizeof(exe) - 1 )) <= 0) return -1;
    exe[len] = 0;
    if (keeper_address( &addr ) == -1) return -1;
    if ((listen_fd = socket( AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0 )) == -1) return -1;
    unlink( keeper_path );
    if (bind( listen_fd, (struct sockaddr *)&addr, sizeof(addr) ) == -1 || listen( listen_fd, 4 ) == -1)
    {
        close( listen_fd );
        return -1;
    }
    switch ((pid = fork()))
    {
    case -1:
        close( listen_fd );
        return -1;
    case 0:
        if (fork() == 0)
        {
            /* none of the starting client's descriptors: a pipe it reads would never close */
            int null_fd = open( "/dev/null", O_RDWR | O_CLOEXEC );

            if (null_fd != -1)
            {
                dup2( null_fd, 0 );
                dup2( null_fd, 1 );
                if (!debug_level) dup2( null_fd, 2 );
            }
            dup2( listen_fd, 3 );
            closefrom( 4 );
            execl( exe, "portres-keeper", "--keeper", server_dir, (char *)NULL );
            _exit( 127 );
        }
        _exit( 0 );
    }
    close( listen_fd );
    while (waitpid( pid, &status, 0 ) == -1 && errno == EINTR);
    return connect_keeper();
}

/* the keeper said something unasked: it can only have died */
static void keeper_poll_event( struct fd *fd, short revents )
{
    char c;
    ssize_t ret = recv( keeper_fd, &c, 1, MSG_DONTWAIT | MSG_PEEK );

    if (ret == -1 && (errno == EAGAIN || errno == EINTR)) return;
    if (ret > 0 && keeper_read( keeper_fd, 0, ignore_op, NULL ) != -1) return;
    keeper_restart();
}

/* the connection to a keeper, or -1 for none; what it is given */
static int set_keeper( int fd )
{
    keeper_fd = fd;
    if (fd != -1) add_fd( &keeper, fd, POLLIN, keeper_poll_event );
    return fd;
}

static void close_keeper( void )
{
    if (keeper_fd == -1) return;
    if (writer->wake_fd != -1) close( writer->wake_fd );
    writer->wake_fd = -1;
    remove_fd( &keeper );
    close( keeper_fd );
    keeper_fd = -1;
}

/* the keeper died: a new one gets everything */
static int keeper_restart( void )
{
    struct keeper_state restore;

    close_keeper();
    clear_ops();
    if (set_keeper( start_keeper() ) == -1)
    {
        fprintf( stderr, "portres-server: cannot start a keeper: %s; a crash would lose the runtime "
                 "reservations\n", strerror( errno ) );
        keeper_broken = 1;
        return -1;
    }
    keeper_writer_init( writer, keeper_fd );
    memset( &restore, 0, sizeof(restore) );
    if (read_restore( &restore ) == -1 || send_snapshot() == -1)
    {
        fprintf( stderr, "portres-server: the new keeper broke off: %s; a crash would lose the runtime "
                 "reservations\n", strerror( errno ) );
        free_kept( &restore );
        close_keeper();
        return -1;
    }
    free_kept( &restore );
    if (debug_level) fprintf( stderr, "portres-server: %d: a new keeper has everything\n", (int)getpid() );
    return 0;
}

/* Connect to the keeper an earlier server left, if any, and read what it
 * keeps into *kept: 1 when there was one, which the caller takes back
 * (restore.c) then frees (free_kept); 0 when there was none or it broke
 * off (a new one has everything then); -1 without memory */
int journal_open( const char *dir, void (*snapshot)( void ), struct keeper_state *kept )
{
    unsigned int protocol;

    snprintf( server_dir, sizeof(server_dir), "%s", dir );
    snprintf( keeper_path, sizeof(keeper_path), "%s/keeper", dir );
    snapshot_sessions = snapshot;
    memset( kept, 0, sizeof(*kept) );
    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
        if (!(hold_op[protocol] = calloc( 65536, sizeof(*hold_op[protocol]) ))) return -1;
    if (!(writer = malloc( sizeof(*writer) ))) return -1;

    /* no keeper: nothing was left; one starts with the first thing to keep */
    keeper_wanted = 1;
    if (set_keeper( connect_keeper() ) == -1) return 0;
    keeper_writer_init( writer, keeper_fd );
    if (read_restore( kept ) != -1) return 1;
    free_kept( kept );
    memset( kept, 0, sizeof(*kept) );
    keeper_restart();
    return 0;
}

/* the server stops for good: the keeper lets everything go */
void journal_close( void )
{
    if (keeper_fd == -1) return;
    clear_ops();
    keeper_flush( writer, KEEPER_QUIT );
    close_keeper();
}
