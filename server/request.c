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
#include <time.h>
#include <unistd.h>

#include "server.h"

/* ms between two looks at the Wine sockets whose reservations the server
 * keeps, at the least */
#define SWEEP_INTERVAL 250

static struct client **clients;
static unsigned int nb_clients, max_clients;

unsigned int get_nb_connections( void )
{
    return nb_clients;
}

/* each connection has its own client in the engine */
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
    if (engine_clients != nb_clients)
    {
        snprintf( error, size, "%u connections, %u clients in the engine", nb_clients, engine_clients );
        return 0;
    }
    return 1;
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
    if (nb_clients == max_clients)
    {
        unsigned int new_max = max_clients ? max_clients * 2 : 16;
        struct client **new_clients = realloc( clients, new_max * sizeof(*clients) );
        if (!new_clients)
        {
            close( fd );
            return;
        }
        clients = new_clients;
        max_clients = new_max;
    }
    if (!(client = create_client( cred.pid, cred.uid )))
    {
        close( fd );
        return;
    }
    client->fd = fd;
    clients[nb_clients++] = client;
    if (debug_level) fprintf( stderr, "%04x: *connected*\n", client->pid );
}

static void remove_client( unsigned int index )
{
    struct client *client = clients[index];

    if (debug_level) fprintf( stderr, "%04x: *disconnected*\n", client->pid );
    close( client->fd );
    destroy_client( client );
    clients[index] = clients[--nb_clients];
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

/* handle one request frame; -1 when the connection must close */
static int call_handler( struct client *client, const union generic_request *req )
{
    union generic_reply reply;
    void *data;
    int ret;

    if (dispatch_request( client, req, &reply, &data ) == -1) return -1;
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

/* serve until a signal or, with linger >= 0, linger seconds without clients */
int main_loop( int listen_fd, int linger )
{
    struct pollfd *fds = NULL;
    unsigned int i, max_fds = 0;
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

        if (nb_clients + 2 > max_fds)
        {
            struct pollfd *new_fds = realloc( fds, (nb_clients + 16) * sizeof(*fds) );
            if (!new_fds) break;
            fds = new_fds;
            max_fds = nb_clients + 16;
        }
        fds[0].fd = listen_fd;
        fds[0].events = POLLIN;
        fds[1].fd = signal_fd;
        fds[1].events = POLLIN;
        for (i = 0; i < nb_clients; i++)
        {
            struct client *client = clients[i];
            fds[i + 2].fd = client->fd;
            fds[i + 2].events = client->out ? POLLOUT : POLLIN;
        }
        if (!nb_clients && linger >= 0)
        {
            long long left = idle_since + linger * 1000LL - now_ms();
            if (left <= 0) break;
            timeout = left;
        }
        /* Wine sockets can end without a word to us (CloseHandle, a CRT
         * _close, a duplicate in another process): they are looked at every
         * SWEEP_INTERVAL ms or more while there are any */
        if (engine_nb_wine_sockets( engine ))
        {
            long long now = now_ms(), left;

            if (!next_sweep) next_sweep = now + SWEEP_INTERVAL;
            if ((left = next_sweep - now) <= 0)
            {
                /* a sweep costs a readlink a socket: it takes no more than
                 * 1% of the time, however many sockets there are */
                wineserver_new_round();
                engine_sweep( engine );
                left = (now_ms() - now) * 100;
                if (left < SWEEP_INTERVAL) left = SWEEP_INTERVAL;
                next_sweep = now + left;
            }
            if (timeout < 0 || left < timeout) timeout = left;
        }
        else next_sweep = 0;
        wineserver_new_round();

        if (poll( fds, nb_clients + 2, timeout ) == -1)
        {
            if (errno == EINTR) continue;
            perror( "portres-server: poll" );
            break;
        }
        if (fds[1].revents) break;  /* asked to stop */

        /* clients polled in this round sit at the same indices until removed;
         * walk backwards so that a removal only moves clients already handled */
        for (i = nb_clients; i-- > 0;)
        {
            struct client *client = clients[i];
            short revents = fds[i + 2].revents;
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
    while (nb_clients) remove_client( nb_clients - 1 );
    free( clients );
    free( fds );
    close( signal_fd );
    return 0;
}
