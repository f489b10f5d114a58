/*
 * Request handlers: the reservation requests of a client, applied to the
 * engine, with persistent changes written to the store before the reply
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "request_handlers.h"
#include "portres/client.h"

struct engine *engine;
const char *store_file;

/* when not 0, the store is not to be written, and this is why */
static unsigned int store_locked;

static unsigned int errno_status( int err )
{
    switch (err)
    {
    case EROFS:  return STATUS_MEDIA_WRITE_PROTECTED;
    case EACCES:
    case EPERM:  return STATUS_ACCESS_DENIED;
    default:     return STATUS_UNEXPECTED_IO_ERROR;
    }
}

/* A store that cannot be loaded whole must not keep the prefix from
 * working, nor be lost: it is moved aside for a human to look at, the
 * server starts with what could be read from it and saves that at once, so
 * that the next server finds it too.  When it cannot even be moved aside,
 * the server serves without writing the store, and refuses persistent
 * changes, rather than overwrite it. */
static void recover_store( const char *store, const char *error )
{
    char aside[PORTRES_PATH_MAX + 64];
    unsigned int loaded = engine_count( engine, ENGINE_TCP ) + engine_count( engine, ENGINE_UDP ), status;

    fprintf( stderr, "portres-server: the store of persistent reservations is damaged: %s\n", error );
    if (store_set_aside( store, aside, sizeof(aside) ) == -1)
    {
        store_locked = errno_status( errno );
        fprintf( stderr, "portres-server: cannot move %s aside: %s; serving with the %u persistent reservations "
                 "read from it, but refusing persistent changes, so as not to overwrite it\n", store,
                 strerror( errno ), loaded );
        return;
    }
    fprintf( stderr, "portres-server: kept it as %s; starting with the %u persistent reservations read from it\n",
             aside, loaded );
    if ((status = store_save( store, engine )))
        fprintf( stderr, "portres-server: cannot write %s (status %#x)\n", store, status );
}

int init_reservations( const char *store, struct portres_map *map, const struct engine_callbacks *callbacks )
{
    char error[PORTRES_PATH_MAX + 256];

    if (!(engine = engine_create( callbacks, map )))
    {
        fprintf( stderr, "portres-server: out of memory\n" );
        return -1;
    }
    store_file = store;
    if (store_load( store, engine, error, sizeof(error) )) recover_store( store, error );
    return 0;
}

void close_reservations( void )
{
    engine_destroy( engine );
    engine = NULL;
}

/* the protocol index of a request, or -1 after setting the error */
static int get_protocol( unsigned int ipproto )
{
    int protocol = engine_protocol_index( ipproto );
    if (protocol < 0) set_error( STATUS_INVALID_PARAMETER );
    return protocol;
}

/* Write the store after a persistent change; when that fails, undo the
 * change.  The keeper hears of it first, answered as a success that the
 * store may or may not have: should the server die before answering, the
 * next one tells by the store (persistent_change_done) whether to answer
 * the client's repeated request so, or to carry it out. */
static unsigned int save_or_undo( void (*undo)( const void *arg ), const void *arg, uint64_t effect,
                                  const void *reply )
{
    unsigned int status;

    session_keep_reply( current, current_request, reply, 1, effect );
    journal_commit();
    status = store_locked ? store_locked : store_save( store_file, engine );

    if (status)
    {
        if (debug_level) fprintf( stderr, "portres-server: cannot write %s (status %#x)\n", store_file, status );
        undo( arg );
    }
    return status;
}

DECL_HANDLER(init)
{
    reply->version    = PORTRES_PROTOCOL_VERSION;
    reply->server_pid = getpid();
    reply->client_pid = current->pid;
    if (req->version != PORTRES_PROTOCOL_VERSION)
    {
        fprintf( stderr, "portres-server: client %u speaks protocol version %08x, the server %08x\n",
                 current->pid, req->version, PORTRES_PROTOCOL_VERSION );
        set_error( STATUS_REVISION_MISMATCH );
        current->closing = 1;
        return;
    }
    /* the first init of a connection opens or resumes its session; another only says hello again */
    if (!current->initialized)
    {
        current->initialized = 1;
        if (req->session && resume_session( current, req->session, req->completed )) reply->resumed = 1;
        else new_session( current );
    }
    reply->session = current->session;
}

DECL_HANDLER(identify)
{
    unsigned int status;

    if (!req->wine) return;
    if ((status = engine_client_set_wine( current->owner ))) set_error( status );
    else current->wine = 1;
}

DECL_HANDLER(acquire)
{
    struct engine_info info;
    unsigned int status;
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    if ((status = engine_acquire( current->owner, protocol, req->start, req->count, req->socket, &info )))
    {
        set_error( status );
        return;
    }
    reply->token = info.token;
    reply->start = info.start;
    reply->count = info.count;
}

DECL_HANDLER(release)
{
    set_error( engine_release( current->owner, req->token ) );
}

DECL_HANDLER(associate)
{
    struct engine_info info;
    unsigned int status;
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    if ((status = engine_associate( current->owner, protocol, req->socket, req->token, req->elevated, &info )))
    {
        set_error( status );
        return;
    }
    reply->start = info.start;
    reply->count = info.count;
    reply->kind  = info.kind;
}

DECL_HANDLER(bind_port)
{
    unsigned short port = 0;
    int protocol, associated = 0;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    set_error( engine_bind_port( current->owner, protocol, req->socket, req->port, &port, &associated ) );
    reply->port = port;
    reply->associated = associated;
}

DECL_HANDLER(query_socket)
{
    engine_query_socket( current->owner, req->socket, &reply->associated, &reply->acquired );
}

DECL_HANDLER(query_port)
{
    struct engine_info info;
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    if (!engine_query_port( engine, current->owner, protocol, req->port, &info )) return;
    reply->kind      = info.kind;
    reply->start     = info.start;
    reply->count     = info.count;
    reply->owner_pid = info.owner_pid;
    reply->is_mine   = info.is_mine;
    reply->token     = info.token;
}

DECL_HANDLER(socket_closed)
{
    reply->released = engine_socket_closed( current->owner, req->socket );
}

struct persistent_args
{
    int             protocol;
    unsigned short  start;
    unsigned short  count;
    portres_token_t token;
};

static void undo_create( const void *arg )
{
    const struct persistent_args *args = arg;
    portres_token_t token;
    engine_persistent_delete( engine, args->protocol, args->start, args->count, &token );
}

static void undo_delete( const void *arg )
{
    const struct persistent_args *args = arg;
    engine_persistent_add( engine, args->protocol, args->start, args->count, args->token );
}

DECL_HANDLER(persistent_create)
{
    struct persistent_args args;
    unsigned int status;

    if ((args.protocol = get_protocol( req->protocol )) < 0) return;
    if (!req->elevated)
    {
        set_error( STATUS_ACCESS_DENIED );
        return;
    }
    args.start = req->start;
    args.count = req->count;
    if ((status = engine_persistent_create( engine, args.protocol, req->start, req->count, &args.token )))
    {
        set_error( status );
        return;
    }
    reply->token = args.token;
    if ((status = save_or_undo( undo_create, &args, args.token, reply )))
    {
        reply->token = 0;
        set_error( status );
    }
}

DECL_HANDLER(persistent_delete)
{
    struct persistent_args args;
    unsigned int status;

    if ((args.protocol = get_protocol( req->protocol )) < 0) return;
    if (!req->elevated)
    {
        set_error( STATUS_ACCESS_DENIED );
        return;
    }
    args.start = req->start;
    args.count = req->count;
    if ((status = engine_persistent_delete( engine, args.protocol, req->start, req->count, &args.token )) ||
        (status = save_or_undo( undo_delete, &args, args.token, reply )))
        set_error( status );
}

DECL_HANDLER(persistent_lookup)
{
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    set_error( engine_persistent_lookup( engine, protocol, req->start, req->count, &reply->token ) );
}

struct list_context
{
    struct portres_entry *entries;
    unsigned int          count;
    unsigned int          max;
    unsigned int          next_port;
};

static int list_one( void *ctx, const struct engine_info *info )
{
    struct list_context *list = ctx;

    if (list->count == list->max)
    {
        list->next_port = info->start;
        return 1;
    }
    list->entries[list->count].start     = info->start;
    list->entries[list->count].count     = info->count;
    list->entries[list->count].kind      = info->kind;
    list->entries[list->count].owner_pid = info->owner_pid;
    list->entries[list->count].reserved  = 0;
    list->count++;
    return 0;
}

DECL_HANDLER(list)
{
    struct portres_entry entries[PORTRES_MAX_REPLY_DATA / sizeof(struct portres_entry)];
    struct list_context list = { entries, 0, sizeof(entries) / sizeof(entries[0]), 0 };
    void *data;
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    /* a listing shows what lives now */
    if (!req->first_port) engine_sweep( engine );
    if (req->first_port <= 65535)
        engine_enum( engine, current->owner, protocol, req->first_port, list_one, &list );
    reply->next_port = list.next_port;
    reply->total = engine_count( engine, protocol );
    if (list.count && (data = set_reply_data_size( list.count * sizeof(entries[0]) )))
        memcpy( data, entries, list.count * sizeof(entries[0]) );
}

DECL_HANDLER(get_dynamic_range)
{
    int protocol;

    if ((protocol = get_protocol( req->protocol )) < 0) return;
    engine_get_dynamic_range( engine, protocol, &reply->start, &reply->count );
}

static void undo_range( const void *arg )
{
    const struct persistent_args *args = arg;
    engine_set_dynamic_range( engine, args->protocol, args->start, args->count );
}

DECL_HANDLER(set_dynamic_range)
{
    struct persistent_args old;
    unsigned int status;

    if ((old.protocol = get_protocol( req->protocol )) < 0) return;
    if (!req->elevated)
    {
        set_error( STATUS_ACCESS_DENIED );
        return;
    }
    engine_get_dynamic_range( engine, old.protocol, &old.start, &old.count );
    if ((status = engine_set_dynamic_range( engine, old.protocol, req->start, req->count )) ||
        (status = save_or_undo( undo_range, &old, 0, reply )))
        set_error( status );
}

/* the debugging aid: counts, and the first broken invariant if any */
DECL_HANDLER(check_state)
{
    struct engine_stats stats;
    char error[1024];
    size_t len;
    void *data;

    engine_sweep( engine );
    engine_get_stats( engine, &stats );
    reply->clients        = get_nb_connections();
    reply->sockets        = stats.sockets;
    reply->associations   = stats.associations;
    reply->tcp_runtime    = stats.reservations[ENGINE_TCP][0];
    reply->tcp_persistent = stats.reservations[ENGINE_TCP][1];
    reply->udp_runtime    = stats.reservations[ENGINE_UDP][0];
    reply->udp_persistent = stats.reservations[ENGINE_UDP][1];
    if (engine_check( engine, error, sizeof(error) ) &&
        check_connections( stats.clients, error, sizeof(error) )) return;

    fprintf( stderr, "portres-server: internal state is inconsistent: %s\n", error );
    len = strlen( error );
    if ((data = set_reply_data_size( len ))) memcpy( data, error, len );
    set_error( STATUS_INTERNAL_ERROR );
}
