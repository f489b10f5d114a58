/*
 * The server's descriptors and timers, and the loop that waits on them
 *
 * Every descriptor the server waits on (the listening socket, a client's
 * connection, the keeper, the signals, a pidfd) is a struct fd with its own
 * poll_event handler; a timer is a struct timeout_user with its own callback.
 * The loop polls them all, runs the timers that are due and hands each event
 * to its descriptor's handler, until stop_loop.  A descriptor removed while
 * the loop walks the events gets none of them after its removal: its slot is
 * cleared, and a slot taken again in the same round starts without events.
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

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "server.h"

static struct fd **users;          /* by slot; NULL for a free one */
static struct pollfd *pollfds;     /* by slot; fd -1 for a free one */
static unsigned int nb_users;      /* slots in use or free below the last used one */
static unsigned int max_users;
static unsigned int nb_free;       /* free slots below nb_users */
static int stopping;

static struct timeout_user *timeouts;  /* sorted by when */

long long now_ms( void )
{
    struct timespec ts;

    clock_gettime( CLOCK_MONOTONIC, &ts );
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/***********************************************************************
 *           descriptors
 */

static int grow_users( void )
{
    unsigned int new_max = max_users ? max_users * 2 : 32;
    struct fd **new_users;
    struct pollfd *new_pollfds;

    if (!(new_users = realloc( users, new_max * sizeof(*users) ))) return -1;
    users = new_users;
    if (!(new_pollfds = realloc( pollfds, new_max * sizeof(*pollfds) ))) return -1;
    pollfds = new_pollfds;
    max_users = new_max;
    return 0;
}

/* start waiting on a descriptor; -1 without memory */
int add_fd( struct fd *fd, int unix_fd, short events, void (*poll_event)( struct fd *fd, short revents ) )
{
    unsigned int slot = nb_users;

    if (nb_free)
    {
        for (slot = 0; users[slot]; slot++);
        nb_free--;
    }
    else if (nb_users == max_users && grow_users() == -1) return -1;
    else nb_users++;
    fd->unix_fd = unix_fd;
    fd->slot = slot;
    fd->poll_event = poll_event;
    users[slot] = fd;
    pollfds[slot].fd = unix_fd;
    pollfds[slot].events = events;
    pollfds[slot].revents = 0;
    return 0;
}

void set_fd_events( struct fd *fd, short events )
{
    pollfds[fd->slot].events = events;
}

/* stop waiting on a descriptor; it stays open, and it may not have been added */
void remove_fd( struct fd *fd )
{
    if (!fd->poll_event) return;
    users[fd->slot] = NULL;
    pollfds[fd->slot].fd = -1;
    pollfds[fd->slot].revents = 0;
    fd->poll_event = NULL;
    if (fd->slot == nb_users - 1)
    {
        while (nb_users && !users[nb_users - 1])
        {
            if (--nb_users != fd->slot) nb_free--;
        }
    }
    else nb_free++;
}

/***********************************************************************
 *           timers
 */

void add_timeout( struct timeout_user *user, long long when, void (*callback)( void *arg ), void *arg )
{
    struct timeout_user **pos = &timeouts;

    remove_timeout( user );
    user->when = when;
    user->callback = callback;
    user->arg = arg;
    while (*pos && (*pos)->when <= when) pos = &(*pos)->next;
    user->next = *pos;
    *pos = user;
}

void remove_timeout( struct timeout_user *user )
{
    struct timeout_user **pos;

    if (!user->callback) return;
    for (pos = &timeouts; *pos != user; pos = &(*pos)->next);
    *pos = user->next;
    user->callback = NULL;
}

/* run the timers that are due; ms until the next one, -1 for none */
static int run_timeouts( void )
{
    long long now;

    if (!timeouts) return -1;
    now = now_ms();

    while (timeouts && timeouts->when <= now && !stopping)
    {
        struct timeout_user *user = timeouts;
        void (*callback)( void *arg ) = user->callback;

        remove_timeout( user );
        callback( user->arg );
        now = now_ms();
    }
    if (!timeouts) return -1;
    return timeouts->when > now ? timeouts->when - now : 0;
}

/***********************************************************************
 *           the loop
 */

void stop_loop( void )
{
    stopping = 1;
}

/* wait and hand out events until stop_loop; before_poll runs before each wait */
int main_loop( void (*before_poll)( void ) )
{
    unsigned int i;
    int timeout;

    while (!stopping)
    {
        before_poll();
        timeout = run_timeouts();
        if (stopping) break;
        if (poll( pollfds, nb_users, timeout ) == -1)
        {
            if (errno == EINTR) continue;
            perror( "portres-server: poll" );
            return -1;
        }
        for (i = 0; i < nb_users && !stopping; i++)
        {
            short revents = pollfds[i].revents;

            if (!revents) continue;
            pollfds[i].revents = 0;
            users[i]->poll_event( users[i], revents );
        }
    }
    return 0;
}

void free_fds( void )
{
    free( users );
    free( pollfds );
    users = NULL;
    pollfds = NULL;
    nb_users = max_users = nb_free = 0;
}
