/*
 * A client of the reservation server: one process, connected or with a
 * session that waits for it, and its state in the engine
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

#include <stdlib.h>
#include <unistd.h>

#include "server.h"

struct client *create_client( unsigned int pid, unsigned int uid )
{
    struct client *client;

    if (!(client = calloc( 1, sizeof(*client) ))) return NULL;
    if (!(client->owner = engine_client_create( engine, pid )))
    {
        free( client );
        return NULL;
    }
    client->fd    = -1;
    client->pidfd = -1;
    client->pid   = pid;
    client->uid   = uid;
    return client;
}

void destroy_client( struct client *client )
{
    remove_fd( &client->conn );
    remove_fd( &client->process );
    if (client->owner) engine_client_destroy( client->owner );
    if (client->fd != -1) close( client->fd );
    if (client->pidfd != -1) close( client->pidfd );
    free( client->out );
    free( client );
}
