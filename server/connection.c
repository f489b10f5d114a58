/*
 * Connections of the reservation server: one thread, one poll loop
 *
 * Each connection is one client process, identified by SO_PEERCRED; other
 * users are refused.  Requests are fixed frames read without blocking,
 * handed to dispatch.c, and answered in order.  When a connection closes,
 * however it closed, everything its process owned is released.  The loop
 * ends on SIGTERM/SIGINT/SIGHUP or when the server has been idle for its
 * linger time.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "keeper.h"

/* ms between two looks at the Wine sockets whose reservations the server
 * keeps, at the least */
#define SWEEP_INTERVAL 250

static struct client **clients;
static unsigned int nb_clients, max_clients;
/* sessions an earlier server left, whose clients have not come back yet */
static struct client **detached;
static unsigned int nb_detached, max_detached;

/* add a client to an array of them; -1 without memory */
static int add_client( struct client ***array, unsigned int *count, unsigned int *max, struct client *client )
{
    if (*count == *max)
    {
        unsigned int new_max = *max ? *max * 2 : 16;
        struct client **new_array = realloc( *array, new_max * sizeof(**array) );

        if (!new_array) return -1;
        *array = new_array;
        *max = new_max;
    }
    (*array)[(*count)++] = client;
    return 0;
}

unsigned int get_nb_connections( void )
{
    return nb_clients;
}

/* each connection, and each session waiting for its client, has its own client in the engine */
int check_connections( unsigned int engine_clients, char *error, size_t size )
{
    unsigned int i, j;

    for (i = 0; i < nb_clients; i++)
    {
        if (!clients[i]->owner)
        {
            snprintf( error, size, "connection of pid %u has no client in the engine", clients[i]->pid );
            return 0;
        }
        for (j = 0; j < i; j++)
        {
            if (clients[j]->owner != clients[i]->owner) continue;
            snprintf( error, size, "connections of pids %u and %u share a client", clients[j]->pid,
                      clients[i]->pid );
            return 0;
        }
    }
    if (engine_clients != nb_clients + nb_detached)
    {
        snprintf( error, size, "%u connections and %u sessions waiting, %u clients in the engine", nb_clients,
                  nb_detached, engine_clients );
        return 0;
    }
    return 1;
}

/***********************************************************************
 *           sessions
 */

static struct client *find_client( uint64_t session, struct client **array, unsigned int count )
{
    unsigned int i;

    for (i = 0; i < count; i++) if (array[i]->session == session) return array[i];
    return NULL;
}

struct engine_client *find_session( uint64_t session )
{
    struct client *client = find_client( session, clients, nb_clients );

    if (!client) client = find_client( session, detached, nb_detached );
    return client ? client->owner : NULL;
}

void new_session( struct client *client )
{
    uint64_t session;

    do session = host_random_token( NULL );
    while (!session || find_session( session ));
    client->session = session;
    engine_client_set_id( client->owner, session );
}

void enum_sessions( void (*func)( struct client *client, void *ctx ), void *ctx )
{
    unsigned int i;

    for (i = 0; i < nb_clients; i++) if (clients[i]->session) func( clients[i], ctx );
    for (i = 0; i < nb_detached; i++) func( detached[i], ctx );
}

/* a session of a live client, as the keeper kept it: it waits for the client */
int restore_session( const struct keeper_session *data, int pidfd )
{
    struct client *client;

    if (!data->session || find_session( data->session ) || !(client = create_client( data->pid, getuid() )))
        return -1;
    client->initialized = 1;
    client->journaled = 1;
    client->session = data->session;
    client->pidfd = pidfd;
    client->start_time = data->start_time;
    client->wine = data->wine != 0;
    client->last_serial = data->last_serial;
    memcpy( &client->last_reply, data->last_reply, sizeof(client->last_reply) );
    memcpy( &client->last_request, data->last_request, sizeof(client->last_request) );
    /* a persistent change is answered again only if the store has it */
    if (data->pending && !persistent_change_done( &client->last_request, data->effect )) client->last_serial = 0;
    engine_client_set_id( client->owner, client->session );
    if ((client->wine && engine_client_set_wine( client->owner )) ||
        add_client( &detached, &nb_detached, &max_detached, client ) == -1)
    {
        client->pidfd = -1;
        destroy_client( client );
        return -1;
    }
    return 0;
}

/* The client's connection broke with the last server, and it came back:
 * the connection goes on with the session, and the request whose answer
 * was lost may come again.  Only the process itself may resume it. */
int resume_session( struct client *client, uint64_t session, unsigned int completed )
{
    unsigned int i;

    for (i = 0; i < nb_detached; i++)
    {
        struct client *old = detached[i];

        if (old->session != session || old->pid != client->pid) continue;
        engine_client_destroy( client->owner );
        client->owner       = old->owner;
        client->session     = old->session;
        client->wine        = old->wine;
        client->journaled   = 1;
        client->requests    = completed;
        client->last_serial  = old->last_serial;
        client->last_reply   = old->last_reply;
        client->last_request = old->last_request;
        client->pending      = old->pending;
        client->effect       = old->effect;
        client->replay      = old->last_serial == completed + 1;
        old->owner = NULL;
        destroy_client( old );
        detached[i] = detached[--nb_detached];
        return 1;
    }
    return 0;
}

static void remove_detached( unsigned int index );

/* the clients whose sessions wait and that have no pidfd are looked at with the sweeps */
static void reap_detached( void )
{
    unsigned int i;

    for (i = nb_detached; i-- > 0;)
    {
        const struct client *client = detached[i];
        if (client->pidfd == -1 && !host_process_alive( client->pid, -1, client->start_time ))
            remove_detached( i );
    }
}

/* a client goes from an array of them, with everything of its session */
static void drop_client( struct client **array, unsigned int *count, unsigned int index, const char *why )
{
    struct client *client = array[index];

    if (debug_level) fprintf( stderr, "%04x: *%s*\n", client->pid, why );
    array[index] = array[--*count];
    journal_session( client, 1 );
    destroy_client( client );
    journal_commit();
}

/* a client whose session waited has died */
static void remove_detached( unsigned int index )
{
    drop_client( detached, &nb_detached, index, "gone" );
}

static long long now_ms( void )
{
    struct timespec ts;
    clock_gettime( CLOCK_MONOTONIC, &ts );
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/***********************************************************************
 *           clients
 */

static void accept_client( int listen_fd )
{
    struct client *client;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int fd;

    if ((fd = accept4( listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC )) == -1) return;
    if (getsockopt( fd, SOL_SOCKET, SO_PEERCRED, &cred, &len ) == -1 || cred.uid != getuid())
    {
        if (debug_level) fprintf( stderr, "portres-server: refused a connection from uid %d\n",
                                  len == sizeof(cred) ? (int)cred.uid : -1 );
        close( fd );
        return;
    }
    if (!(client = create_client( cred.pid, cred.uid )))
    {
        close( fd );
        return;
    }
    client->fd = fd;
    /* the process's own descriptor: a later server tells by it whether the
     * process lives, whatever pid the system may have given again */
    client->pidfd = syscall( SYS_pidfd_open, cred.pid, 0 );
    client->start_time = host_process_start( cred.pid );
    if (add_client( &clients, &nb_clients, &max_clients, client ) == -1)
    {
        destroy_client( client );
        return;
    }
    if (debug_level) fprintf( stderr, "%04x: *connected*\n", client->pid );
}

static void remove_client( unsigned int index )
{
    drop_client( clients, &nb_clients, index, "disconnected" );
}

/* send what is pending; -1 when the connection is dead */
static int flush_output( struct client *client )
{
    while (client->out_pos < client->out_len)
    {
        ssize_t ret = send( client->fd, client->out + client->out_pos, client->out_len - client->out_pos,
                            MSG_NOSIGNAL | MSG_DONTWAIT );
        if (ret < 0)
        {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        client->out_pos += ret;
    }
    free( client->out );
    client->out = NULL;
    client->out_len = client->out_pos = 0;
    return 0;
}

static int queue_reply( struct client *client, const union generic_reply *reply, const void *data )
{
    size_t data_size = reply->reply_header.data_size, size = sizeof(*reply) + data_size;

    if (!(client->out = malloc( size ))) return -1;
    memcpy( client->out, reply, sizeof(*reply) );
    if (data_size) memcpy( client->out + sizeof(*reply), data, data_size );
    client->out_len = size;
    client->out_pos = 0;
    return flush_output( client );
}

/* whether a request changes what the server holds: its answer must not be
 * lost, nor the request done twice */
static int changes_state( unsigned int code )
{
    switch (code)
    {
    case REQ_acquire:
    case REQ_release:
    case REQ_associate:
    case REQ_bind_port:
    case REQ_socket_closed:
    case REQ_persistent_create:
    case REQ_persistent_delete:
    case REQ_set_dynamic_range:
        return 1;
    default:
        return 0;
    }
}

/* Handle one request frame; -1 when the connection must close.  What it
 * changed reaches the keeper before the client hears of it. */
static int call_handler( struct client *client, const union generic_request *req )
{
    unsigned int code = req->request_header.req;
    union generic_reply reply;
    void *data = NULL;
    int ret;

    if (code != REQ_init && code != REQ_identify) client->requests++;
    if (client->replay && client->requests == client->last_serial)
    {
        /* carried out by the last server, whose answer was lost */
        reply = client->last_reply;
    }
    else
    {
        if (dispatch_request( client, req, &reply, &data ) == -1) return -1;
        /* a request that changed nothing is done again if its answer is lost */
        if (changes_state( code ) && client->session && journal_pending())
        {
            client->last_serial = client->requests;
            client->last_reply  = reply;
            client->pending     = 0;
            journal_session( client, 0 );
        }
    }
    if (code != REQ_init) client->replay = 0;
    journal_commit();
    ret = queue_reply( client, &reply, data );
    free( data );
    return ret;
}

/* Handle the complete request frames in the input buffer, one at a time:
 * each reply is sent before the next request is looked at, so the frames
 * wait while a reply is still going out.  -1 when the connection must close. */
static int handle_frames( struct client *client )
{
    size_t pos = 0;
    int ret = 0;

    while (client->in_len - pos >= PORTRES_FRAME_SIZE && !client->out && !client->closing)
    {
        union generic_request req;

        memcpy( &req, client->in + pos, sizeof(req) );
        pos += sizeof(req);
        if ((ret = call_handler( client, &req )) == -1) break;
    }
    memmove( client->in, client->in + pos, client->in_len - pos );
    client->in_len -= pos;
    return ret;
}

/* read what is there and handle complete requests; -1 when the connection must close */
static int read_requests( struct client *client )
{
    ssize_t ret;

    ret = recv( client->fd, client->in + client->in_len, sizeof(client->in) - client->in_len, MSG_DONTWAIT );
    if (ret == 0) return -1;
    if (ret < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    client->in_len += ret;
    return handle_frames( client );
}

/***********************************************************************
 *           the loop
 */

static int open_signals( void )
{
    sigset_t set;

    signal( SIGPIPE, SIG_IGN );
    sigemptyset( &set );
    sigaddset( &set, SIGTERM );
    sigaddset( &set, SIGINT );
    sigaddset( &set, SIGHUP );
    sigaddset( &set, SIGQUIT );
    sigprocmask( SIG_BLOCK, &set, NULL );
    return signalfd( -1, &set, SFD_CLOEXEC | SFD_NONBLOCK );
}

/* serve until a signal or, with linger >= 0, linger seconds without
 * clients nor anything that outlives them */
int main_loop( int listen_fd, int linger )
{
    struct pollfd *fds = NULL;
    unsigned int i, max_fds = 0, first_detached;
    long long idle_since = now_ms(), next_sweep = 0;
    int signal_fd = open_signals();

    if (signal_fd == -1)
    {
        perror( "portres-server: signalfd" );
        return -1;
    }
    for (;;)
    {
        int timeout = -1;

        if (nb_clients + nb_detached + 3 > max_fds)
        {
            struct pollfd *new_fds = realloc( fds, (nb_clients + nb_detached + 16) * sizeof(*fds) );
            if (!new_fds) break;
            fds = new_fds;
            max_fds = nb_clients + nb_detached + 16;
        }
        fds[0].fd = listen_fd;
        fds[0].events = POLLIN;
        fds[1].fd = signal_fd;
        fds[1].events = POLLIN;
        fds[2].fd = journal_fd();
        fds[2].events = POLLIN;
        for (i = 0; i < nb_clients; i++)
        {
            struct client *client = clients[i];
            fds[i + 3].fd = client->fd;
            fds[i + 3].events = client->out ? POLLOUT : POLLIN;
        }
        /* a pidfd is readable once its process has exited */
        first_detached = nb_clients + 3;
        for (i = 0; i < nb_detached; i++)
        {
            fds[first_detached + i].fd = detached[i]->pidfd;
            fds[first_detached + i].events = POLLIN;
        }
        if (!nb_clients && !nb_detached && !engine_nb_wine_sockets( engine ) && linger >= 0)
        {
            long long left = idle_since + linger * 1000LL - now_ms();
            if (left <= 0) break;
            timeout = left;
        }
        /* Wine sockets can end without a word to us (CloseHandle, a CRT
         * _close, a duplicate in another process): they are looked at every
         * SWEEP_INTERVAL ms or more while there are any */
        if (engine_nb_wine_sockets( engine ) || nb_detached)
        {
            long long now = now_ms(), left;

            if (!next_sweep) next_sweep = now + SWEEP_INTERVAL;
            if ((left = next_sweep - now) <= 0)
            {
                /* a sweep costs a readlink a socket: it takes no more than
                 * 1% of the time, however many sockets there are */
                wineserver_new_round();
                engine_sweep( engine );
                journal_commit();
                reap_detached();
                left = (now_ms() - now) * 100;
                if (left < SWEEP_INTERVAL) left = SWEEP_INTERVAL;
                next_sweep = now + left;
            }
            if (timeout < 0 || left < timeout) timeout = left;
        }
        else next_sweep = 0;
        wineserver_new_round();

        if (poll( fds, first_detached + nb_detached, timeout ) == -1)
        {
            if (errno == EINTR) continue;
            perror( "portres-server: poll" );
            break;
        }
        if (fds[1].revents) break;  /* asked to stop */
        if (fds[2].revents) journal_keeper_event();
        for (i = nb_detached; i-- > 0;)
            if (fds[first_detached + i].revents) remove_detached( i );

        /* clients polled in this round sit at the same indices until removed;
         * walk backwards so that a removal only moves clients already handled */
        for (i = nb_clients; i-- > 0;)
        {
            struct client *client = clients[i];
            short revents = fds[i + 3].revents;
            int dead = 0;

            if (!revents) continue;
            if (revents & POLLOUT)
            {
                /* requests that arrived meanwhile are in the buffer already */
                dead = flush_output( client ) == -1 || handle_frames( client ) == -1;
            }
            else if (revents & POLLIN) dead = read_requests( client ) == -1;
            else if (revents & (POLLERR | POLLHUP | POLLNVAL)) dead = 1;
            if (!dead && client->closing && !client->out) dead = 1;
            if (dead)
            {
                remove_client( i );
                if (!nb_clients) idle_since = now_ms();
            }
        }
        if (fds[0].revents & POLLIN) accept_client( listen_fd );
    }
    /* a stop: the keeper lets go of everything, as the server does */
    journal_close();
    while (nb_clients) remove_client( nb_clients - 1 );
    while (nb_detached) remove_detached( nb_detached - 1 );
    free( clients );
    free( detached );
    free( fds );
    close( signal_fd );
    return 0;
}
