/*
 * Sessions of the reservation server: who the clients are, and what of
 * them outlives a server
 *
 * A client's session is the name under which its process is known across
 * servers.  It holds the last request that changed something and its reply,
 * so that a client whose connection broke with a server and that resumes
 * its session with the next one gets the answer it lost rather than the
 * request done twice.  Every change of a session goes to the keeper
 * (journal.c) before the client hears of it.  A session that an earlier
 * server left waits for its client, detached, until the client resumes it
 * or its process ends (its pidfd, or the sweeps without one).
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

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "keeper.h"

/* a list of clients; each knows its index in it */
struct client_list
{
    struct client **array;
    unsigned int    count;
    unsigned int    max;
};

static struct client_list connected;   /* clients with a connection */
static struct client_list detached;    /* sessions an earlier server left, whose clients have not come back yet */

/* -1 without memory */
static int list_add( struct client_list *list, struct client *client )
{
    if (list->count == list->max)
    {
        unsigned int new_max = list->max ? list->max * 2 : 16;
        struct client **new_array = realloc( list->array, new_max * sizeof(*list->array) );

        if (!new_array) return -1;
        list->array = new_array;
        list->max = new_max;
    }
    client->index = list->count;
    list->array[list->count++] = client;
    return 0;
}

static void list_remove( struct client_list *list, struct client *client )
{
    list->array[client->index] = list->array[--list->count];
    list->array[client->index]->index = client->index;
}

unsigned int get_nb_connections( void )
{
    return connected.count;
}

unsigned int get_nb_detached( void )
{
    return detached.count;
}

/***********************************************************************
 *           what the keeper keeps of a session
 */

static void session_data( const struct client *client, struct keeper_session *data )
{
    memset( data, 0, sizeof(*data) );
    data->session = client->session;
    data->pid = client->pid;
    data->start_time = client->start_time;
    data->wine = client->wine;
    data->last_serial = client->last_serial;
    data->pending = client->pending;
    data->effect = client->effect;
    memcpy( data->last_reply, &client->last_reply, sizeof(data->last_reply) );
    memcpy( data->last_request, &client->last_request, sizeof(data->last_request) );
}

static void journal_session( struct client *client )
{
    struct keeper_session data;

    if (!client->session) return;
    session_data( client, &data );
    /* the keeper gets the pidfd once: a new server tells by it whether the client lives */
    if (journal_put_session( &data, client->journaled ? -1 : client->pidfd )) client->journaled = 1;
}

static void unjournal_session( struct client *client )
{
    if (client->session && client->journaled && journal_del_session( client->session )) client->journaled = 0;
}

static void for_each_session( void (*func)( struct client *client ) )
{
    unsigned int i;

    for (i = 0; i < connected.count; i++) if (connected.array[i]->session) func( connected.array[i] );
    for (i = 0; i < detached.count; i++) func( detached.array[i] );
}

/* what the store tells of persistent changes in flight, after a restore */
void journal_sessions( void )
{
    for_each_session( journal_session );
}

static void journal_again( struct client *client )
{
    client->journaled = 0;
    journal_session( client );
}

/* every session, for a new keeper */
void journal_all_sessions( void )
{
    for_each_session( journal_again );
}

/***********************************************************************
 *           the last change and its reply
 */

/* Before a request is carried out: 1 when the last server carried it out
 * already and its answer was lost, which is then *reply */
int session_replay( struct client *client, const union generic_request *req, union generic_reply *reply )
{
    unsigned int code = req->request_header.req;

    if (code != REQ_init && code != REQ_identify) client->requests++;
    if (!client->replay || client->requests != client->last_serial) return 0;
    *reply = client->last_reply;
    return 1;
}

/* the request being carried out changed something: its reply is kept, and
 * journaled; pending says the store may not have the change yet, and
 * effect what the store shows when it has */
void session_keep_reply( struct client *client, const union generic_request *req,
                         const union generic_reply *reply, int pending, uint64_t effect )
{
    if (!client->session) return;
    client->last_serial  = client->requests;
    client->last_reply   = *reply;
    client->last_request = *req;
    client->pending      = pending;
    client->effect       = effect;
    journal_session( client );
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

/* a request is answered: what it changed reaches the keeper before the
 * client hears of it; a request that changed nothing is simply done again
 * if its answer is lost */
void session_request_done( struct client *client, const union generic_request *req,
                           const union generic_reply *reply, int replayed )
{
    unsigned int code = req->request_header.req;

    if (!replayed && changes_state( code ) && journal_pending())
        session_keep_reply( client, req, reply, 0, 0 );
    if (code != REQ_init) client->replay = 0;
    journal_commit();
}

/***********************************************************************
 *           sessions
 */

/* The change a persistent request made took effect when the store shows
 * it: the reservation with the new token, none with the deleted one, the
 * new dynamic range. */
static int persistent_change_done( const union generic_request *req, uint64_t effect )
{
    unsigned short start, count;
    portres_token_t token;
    int protocol;

    switch (req->request_header.req)
    {
    case REQ_persistent_create:
        protocol = engine_protocol_index( req->persistent_create_request.protocol );
        return protocol >= 0 && !engine_persistent_lookup( engine, protocol, req->persistent_create_request.start,
                                                           req->persistent_create_request.count, &token ) &&
               token == effect;
    case REQ_persistent_delete:
        return !engine_has_token( engine, effect );
    case REQ_set_dynamic_range:
        if ((protocol = engine_protocol_index( req->set_dynamic_range_request.protocol )) < 0) return 0;
        engine_get_dynamic_range( engine, protocol, &start, &count );
        return start == req->set_dynamic_range_request.start && count == req->set_dynamic_range_request.count;
    }
    return 0;
}

static struct client *find_client( uint64_t session, const struct client_list *list )
{
    unsigned int i;

    for (i = 0; i < list->count; i++) if (list->array[i]->session == session) return list->array[i];
    return NULL;
}

struct engine_client *find_session( uint64_t session )
{
    struct client *client = find_client( session, &connected );

    if (!client) client = find_client( session, &detached );
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

/* a client goes from its list, with everything of its session */
static void drop_client( struct client_list *list, struct client *client, const char *why )
{
    if (debug_level) fprintf( stderr, "%04x: *%s*\n", client->pid, why );
    list_remove( list, client );
    unjournal_session( client );
    destroy_client( client );
    journal_commit();
}

/* the pidfd of a client whose session waits: it is readable once the process has exited */
static void detached_poll_event( struct fd *fd, short revents )
{
    drop_client( &detached, OBJECT_OF( fd, struct client, process ), "gone" );
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
    if ((client->wine && engine_client_set_wine( client->owner )) || list_add( &detached, client ) == -1)
    {
        client->pidfd = -1;
        destroy_client( client );
        return -1;
    }
    if (pidfd != -1 && add_fd( &client->process, pidfd, POLLIN, detached_poll_event ) == -1)
    {
        /* the sweeps look at it instead */
        close( pidfd );
        client->pidfd = -1;
    }
    return 0;
}

/* the session a client resumes takes over its connection's */
static void take_session( struct client *client, struct client *old, unsigned int completed )
{
    engine_client_destroy( client->owner );
    client->owner        = old->owner;
    client->session      = old->session;
    client->wine         = old->wine;
    client->journaled    = 1;
    client->requests     = completed;
    client->last_serial  = old->last_serial;
    client->last_reply   = old->last_reply;
    client->last_request = old->last_request;
    client->pending      = old->pending;
    client->effect       = old->effect;
    client->replay       = old->last_serial == completed + 1;
    old->owner = NULL;
}

/* The client's connection broke with the last server, and it came back:
 * the connection goes on with the session, and the request whose answer
 * was lost may come again.  Only the process itself may resume it. */
int resume_session( struct client *client, uint64_t session, unsigned int completed )
{
    struct client *old = find_client( session, &detached );

    if (!old || old->pid != client->pid) return 0;
    take_session( client, old, completed );
    list_remove( &detached, old );
    destroy_client( old );
    return 1;
}

/* the clients whose sessions wait and that have no pidfd are looked at with the sweeps */
void reap_sessions( void )
{
    unsigned int i;

    for (i = detached.count; i-- > 0;)
    {
        struct client *client = detached.array[i];
        if (client->pidfd == -1 && !host_process_alive( client->pid, -1, client->start_time ))
            drop_client( &detached, client, "gone" );
    }
}

/***********************************************************************
 *           connections
 */

/* a client connected; without memory, it is destroyed */
void connect_client( struct client *client )
{
    if (list_add( &connected, client ) == -1)
    {
        destroy_client( client );
        return;
    }
    if (debug_level) fprintf( stderr, "%04x: *connected*\n", client->pid );
}

void disconnect_client( struct client *client )
{
    drop_client( &connected, client, "disconnected" );
}

/* a stop: everything goes */
void close_sessions( void )
{
    while (connected.count) disconnect_client( connected.array[connected.count - 1] );
    while (detached.count) drop_client( &detached, detached.array[detached.count - 1], "gone" );
    free( connected.array );
    free( detached.array );
    memset( &connected, 0, sizeof(connected) );
    memset( &detached, 0, sizeof(detached) );
}

/* each connection, and each session waiting for its client, has its own client in the engine */
int check_connections( unsigned int engine_clients, char *error, size_t size )
{
    unsigned int i, j;

    for (i = 0; i < connected.count; i++)
    {
        if (!connected.array[i]->owner)
        {
            snprintf( error, size, "connection of pid %u has no client in the engine", connected.array[i]->pid );
            return 0;
        }
        for (j = 0; j < i; j++)
        {
            if (connected.array[j]->owner != connected.array[i]->owner) continue;
            snprintf( error, size, "connections of pids %u and %u share a client", connected.array[j]->pid,
                      connected.array[i]->pid );
            return 0;
        }
    }
    if (engine_clients != connected.count + detached.count)
    {
        snprintf( error, size, "%u connections and %u sessions waiting, %u clients in the engine",
                  connected.count, detached.count, engine_clients );
        return 0;
    }
    return 1;
}
