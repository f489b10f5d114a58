/*
 * Connections of the reservation server: the listening socket, and each
 * client's connection
 *
 * Each connection is one client process, identified by SO_PEERCRED; other
 * users are refused.  Requests are fixed frames read without blocking,
 * handed to request.c, and answered in order, each reply sent before the
 * next request is looked at.  When a connection closes, however it closed,
 * the client goes with everything its process owned (session.c).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server.h"

static struct fd listener;

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

/* Handle one request frame; -1 when the connection must close.  A request
 * whose answer the last server lost is answered as it was. */
static int call_handler( struct client *client, const union generic_request *req )
{
    union generic_reply reply;
    void *data = NULL;
    int ret, replayed = session_replay( client, req, &reply );

    if (!replayed && dispatch_request( client, req, &reply, &data ) == -1) return -1;
    session_request_done( client, req, &reply, replayed );
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

static void client_poll_event( struct fd *fd, short revents )
{
    struct client *client = OBJECT_OF( fd, struct client, conn );
    int dead = 0;

    if (revents & POLLOUT)
    {
        /* requests that arrived meanwhile are in the buffer already */
        dead = flush_output( client ) == -1 || handle_frames( client ) == -1;
    }
    else if (revents & POLLIN) dead = read_requests( client ) == -1;
    else if (revents & (POLLERR | POLLHUP | POLLNVAL)) dead = 1;
    if (!dead && client->closing && !client->out) dead = 1;
    if (dead) disconnect_client( client );
    else set_fd_events( fd, client->out ? POLLOUT : POLLIN );
}

static void listener_poll_event( struct fd *fd, short revents )
{
    struct client *client;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int unix_fd;

    if ((unix_fd = accept4( fd->unix_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC )) == -1) return;
    if (getsockopt( unix_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len ) == -1 || cred.uid != getuid())
    {
        if (debug_level) fprintf( stderr, "portres-server: refused a connection from uid %d\n",
                                  len == sizeof(cred) ? (int)cred.uid : -1 );
        close( unix_fd );
        return;
    }
    if (!(client = create_client( cred.pid, cred.uid )))
    {
        close( unix_fd );
        return;
    }
    client->fd = unix_fd;
    /* the process's own descriptor: a later server tells by it whether the
     * process lives, whatever pid the system may have given again */
    client->pidfd = syscall( SYS_pidfd_open, cred.pid, 0 );
    client->start_time = host_process_start( cred.pid );
    if (add_fd( &client->conn, unix_fd, POLLIN, client_poll_event ) == -1)
    {
        destroy_client( client );
        return;
    }
    connect_client( client );
}

int open_listener( int listen_fd )
{
    return add_fd( &listener, listen_fd, POLLIN, listener_poll_event );
}

void close_listener( void )
{
    remove_fd( &listener );
}
