/*
 * The reservation engine: port reservation tables of one prefix
 *
 * Per protocol, a table of 65536 slots points every reserved port at its
 * reservation; reservations are also found by token.  Runtime reservations
 * hang off the record of the socket that acquired them and live as long as
 * that socket, persistent ones hang off the engine.  Every change of the
 * tables also updates the published map of reserved ports, inside an odd
 * generation.  The structures are in engine_private.h, the invariants in
 * check.c.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"
#include "portmap.h"

int engine_protocol_index( unsigned int ipproto )
{
    switch (ipproto)
    {
    case PORTRES_PROTO_TCP: return ENGINE_TCP;
    case PORTRES_PROTO_UDP: return ENGINE_UDP;
    default: return -1;
    }
}

const char *engine_protocol_name( int protocol )
{
    return protocol == ENGINE_TCP ? "tcp" : "udp";
}

/* a range of ports that can be reserved: 1..65535, not empty */
int engine_valid_range( unsigned int start, unsigned int count )
{
    return start && count && start + count - 1 <= 65535;
}

static void update_map( struct engine *engine, const struct reservation *res, int set )
{
    struct portres_map *map = engine->map;

    portmap_begin( map );
    portmap_set_bits( map->reserved[res->protocol], res->start, res->count, set );
    if (res->kind == PORTRES_KIND_RUNTIME)
        portmap_set_bits( map->runtime[res->protocol], res->start, res->count, set );
    portmap_end( map );
}

/***********************************************************************
 *           reservations
 */

static int range_reserved( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    return portmap_find_set_bit( engine->map->reserved[protocol], start, start + count ) >= 0;
}

/* first port of a range bound on the host, or -1 */
static int range_in_use( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    unsigned int port;

    for (port = start; port < start + count; port++)
        if (engine->cb.port_in_use( engine->cb.ctx, protocol, port )) return port;
    return -1;
}

/* Hold every port of a range on the host, the hold being the test of
 * whether a port is in use: the holds, or NULL with *busy set to the first
 * port in use, or to -1 when a port could not be held otherwise. */
static int *hold_range( struct engine *engine, int protocol, unsigned int start, unsigned int count, int *busy )
{
    unsigned int i;
    int *holders, handle;

    *busy = -1;
    if (!(holders = malloc( count * sizeof(*holders) ))) return NULL;
    for (i = 0; i < count; i++)
    {
        if ((handle = engine->cb.hold( engine->cb.ctx, protocol, start + i )) >= 0)
        {
            holders[i] = handle;
            continue;
        }
        if (handle == ENGINE_HOLD_IN_USE) *busy = start + i;
        while (i--) engine->cb.unhold( engine->cb.ctx, holders[i], protocol, start + i );
        free( holders );
        return NULL;
    }
    return holders;
}

static void unhold_port( struct engine *engine, struct reservation *res, unsigned int port )
{
    int *holder = &res->holders[port - res->start];

    if (*holder >= 0) engine->cb.unhold( engine->cb.ctx, *holder, res->protocol, port );
    *holder = -1;
}

static portres_token_t new_token( struct engine *engine )
{
    portres_token_t token;

    do token = engine->cb.random_token( engine->cb.ctx );
    while (!token || hash_find( &engine->tokens, token ));
    return token;
}

struct reservation *engine_find_reservation( struct engine *engine, portres_token_t token )
{
    struct hash_entry *entry = hash_find( &engine->tokens, token );
    return entry ? HASH_ENTRY( entry, struct reservation, entry ) : NULL;
}

static struct reservation *insert_reservation( struct engine *engine, int protocol, unsigned int start,
                                               unsigned int count, unsigned int kind, portres_token_t token,
                                               int *holders )
{
    struct reservation *res;
    unsigned int port;

    if (!(res = calloc( 1, sizeof(*res) ))) return NULL;
    res->holders   = holders;
    res->entry.key = token ? token : new_token( engine );
    res->start     = start;
    res->count     = count;
    res->protocol  = protocol;
    res->kind      = kind;
    list_init( &res->assocs );
    list_init( &res->owner_entry );
    list_init( &res->owned_entry );
    for (port = start; port < start + count; port++) engine->ports[protocol][port] = res;
    hash_insert( &engine->tokens, &res->entry );
    engine->count[protocol]++;
    update_map( engine, res, 1 );
    return res;
}

static void free_sock_rec_if_unused( struct engine *engine, struct sock_rec *sock );
static void dissociate( struct engine *engine, struct sock_rec *sock );
static void journal_reservation( struct engine *engine, const struct reservation *res, int deleted );

/* free a reservation and forget the associations naming it; the map
 * forgets it unless it is to stay published */
static void free_reservation( struct engine *engine, struct reservation *res, int unpublish )
{
    struct sock_rec *sock, *next;
    unsigned int port;

    res->dying = 1;
    journal_reservation( engine, res, 1 );
    LIST_FOR_EACH_ENTRY_SAFE( sock, next, &res->assocs, struct sock_rec, assoc_entry )
    {
        dissociate( engine, sock );
        if (sock != res->sock) free_sock_rec_if_unused( engine, sock );
    }
    for (port = res->start; port < res->start + res->count; port++)
    {
        engine->ports[res->protocol][port] = NULL;
        if (res->holders) unhold_port( engine, res, port );
    }
    free( res->holders );
    if (unpublish) update_map( engine, res, 0 );
    hash_remove( &engine->tokens, &res->entry );
    engine->count[res->protocol]--;
    list_remove( &res->owner_entry );
    list_remove( &res->owned_entry );
    free( res );
}

static void destroy_reservation( struct engine *engine, struct reservation *res )
{
    free_reservation( engine, res, 1 );
}

static void fill_info( const struct reservation *res, const struct engine_client *client,
                       struct engine_info *info )
{
    info->start     = res->start;
    info->count     = res->count;
    info->kind      = res->kind;
    info->owner_pid = res->owner_pid;
    info->is_mine   = res->owner && res->owner == client;
    info->token     = (info->is_mine || res->kind == PORTRES_KIND_PERSISTENT) ? res->entry.key : 0;
}

/***********************************************************************
 *           records of what must outlive the server
 */

static void reservation_record( const struct reservation *res, struct engine_record *record )
{
    memset( record, 0, sizeof(*record) );
    record->type      = ENGINE_RECORD_RESERVATION;
    record->id        = res->entry.key;
    record->client    = res->owner ? res->owner->id : 0;
    record->socket    = res->sock->entry.key;
    record->owner_pid = res->owner_pid;
    record->start     = res->start;
    record->count     = res->count;
    record->protocol  = res->protocol;
    record->wine      = res->sock->wine;
}

static void association_record( const struct sock_rec *sock, struct engine_record *record )
{
    memset( record, 0, sizeof(*record) );
    record->type   = ENGINE_RECORD_ASSOCIATION;
    record->id     = sock->id;
    record->client = sock->client ? sock->client->id : 0;
    record->socket = sock->entry.key;
    record->token  = sock->assoc->entry.key;
    record->port   = sock->port;
    record->wine   = sock->wine;
}

static void journal_reservation( struct engine *engine, const struct reservation *res, int deleted )
{
    struct engine_record record;

    if (!engine->cb.journal || res->kind != PORTRES_KIND_RUNTIME) return;
    reservation_record( res, &record );
    record.deleted = deleted;
    engine->cb.journal( engine->cb.ctx, &record );
}

static void journal_association( struct engine *engine, const struct sock_rec *sock, int deleted )
{
    struct engine_record record;

    if (!engine->cb.journal) return;
    association_record( sock, &record );
    record.deleted = deleted;
    engine->cb.journal( engine->cb.ctx, &record );
}

/***********************************************************************
 *           sockets
 */

static struct hash_table *socket_table( struct engine_client *client )
{
    return client->wine ? &client->engine->sockets : &client->sockets;
}

static struct sock_rec *find_sock_rec( struct engine_client *client, portres_socket_t socket )
{
    struct hash_entry *entry = hash_find( socket_table( client ), socket );
    return entry ? HASH_ENTRY( entry, struct sock_rec, entry ) : NULL;
}

/* a new record of a socket; a Wine socket's may have no client (it outlived it) */
static struct sock_rec *new_sock_rec( struct engine *engine, struct engine_client *client, int wine,
                                      portres_socket_t socket )
{
    struct sock_rec *sock;

    if (!(sock = calloc( 1, sizeof(*sock) ))) return NULL;
    sock->entry.key = socket;
    sock->client = client;
    sock->wine = wine;
    sock->id = ++engine->last_sock_id;
    list_init( &sock->reservations );
    list_init( &sock->assoc_entry );
    list_init( &sock->client_entry );
    if (wine && client) list_add_tail( &client->wine_sockets, &sock->client_entry );
    hash_insert( wine ? &engine->sockets : &client->sockets, &sock->entry );
    return sock;
}

static struct sock_rec *get_sock_rec( struct engine_client *client, portres_socket_t socket )
{
    struct sock_rec *sock = find_sock_rec( client, socket );

    return sock ? sock : new_sock_rec( client->engine, client, client->wine, socket );
}

static void free_sock_rec_if_unused( struct engine *engine, struct sock_rec *sock )
{
    if (sock->assoc || !list_empty( &sock->reservations )) return;
    hash_remove( sock->wine ? &engine->sockets : &sock->client->sockets, &sock->entry );
    list_remove( &sock->client_entry );
    free( sock );
}

/* the map tells readers whether any socket is associated at all */
static void count_association( struct engine *engine, int delta )
{
    __atomic_add_fetch( &engine->map->associations, delta, __ATOMIC_RELEASE );
}

/* whether another socket associated with the reservation was given the port */
static int port_given( const struct reservation *res, const struct sock_rec *self, unsigned int port )
{
    const struct sock_rec *sock;

    LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry )
        if (sock != self && sock->port == port) return 1;
    return 0;
}

/* the port given to a socket is the reservation's again, held as before */
static void return_port( struct engine *engine, struct sock_rec *sock )
{
    struct reservation *res = sock->assoc;
    int handle, *holder;

    if (!sock->port) return;
    holder = res->holders ? &res->holders[sock->port - res->start] : NULL;
    if (holder && *holder < 0 && !res->dying && !port_given( res, sock, sock->port ) &&
        (handle = engine->cb.hold( engine->cb.ctx, res->protocol, sock->port )) >= 0)
        *holder = handle;
    sock->port = 0;
}

static void dissociate( struct engine *engine, struct sock_rec *sock )
{
    if (!sock->assoc) return;
    journal_association( engine, sock, 1 );
    return_port( engine, sock );
    list_remove( &sock->assoc_entry );
    sock->assoc = NULL;
    count_association( engine, -1 );
}

/* release everything of a socket; returns the number of reservations released */
static unsigned int close_sock_rec( struct engine *engine, struct sock_rec *sock )
{
    struct reservation *res, *next;
    unsigned int released = 0;

    dissociate( engine, sock );
    LIST_FOR_EACH_ENTRY_SAFE( res, next, &sock->reservations, struct reservation, owner_entry )
    {
        /* its own association is gone already, so the record stays alive */
        destroy_reservation( engine, res );
        released++;
    }
    free_sock_rec_if_unused( engine, sock );
    return released;
}

/* Whether a socket still lives.  A Wine socket lives as long as its kernel
 * socket, whichever handles of whichever processes keep it, and only the
 * host can tell (when it cannot, the socket is taken to live); another
 * client's socket lives until that client says it closed it, or goes. */
static int sock_alive( struct engine *engine, const struct sock_rec *sock )
{
    if (!sock->wine) return sock->client != NULL;
    return engine->cb.socket_alive( engine->cb.ctx, sock->entry.key ) != 0;
}

/* close the record of a socket that has ended; 1 when it had */
static int reap_sock_rec( struct engine *engine, struct sock_rec *sock )
{
    if (sock_alive( engine, sock )) return 0;
    close_sock_rec( engine, sock );
    return 1;
}

/* a runtime reservation whose socket has ended goes before anyone sees it */
static const struct reservation *live_reservation( struct engine *engine, const struct reservation *res )
{
    if (res && res->kind == PORTRES_KIND_RUNTIME && reap_sock_rec( engine, res->sock )) return NULL;
    return res;
}

/* the runtime reservations over a range whose sockets have ended go */
static void reap_range( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    unsigned int port = start;
    const struct reservation *res;

    while (port < start + count)
    {
        if (!(res = engine->ports[protocol][port])) port++;
        else
        {
            port = res->start + res->count;
            live_reservation( engine, res );
        }
    }
}

unsigned int engine_sweep( struct engine *engine )
{
    struct hash_entry *entry, *next;
    unsigned int pos = 0, reaped = 0;

    while ((entry = hash_next_bucket( &engine->sockets, &pos )))
    {
        for (; entry; entry = next)
        {
            next = entry->next;
            reaped += reap_sock_rec( engine, HASH_ENTRY( entry, struct sock_rec, entry ) );
        }
    }
    return reaped;
}

unsigned int engine_nb_wine_sockets( struct engine *engine )
{
    return engine->sockets.count;
}

/* the lowest block of count free ports in the dynamic range, held; -1
 * when there is none, -2 when the ports could not be held */
static int find_free_block( struct engine *engine, int protocol, unsigned int count, int **holders )
{
    unsigned int start = engine->dyn_start[protocol];
    unsigned int end = start + engine->dyn_count[protocol];   /* one past the last port */
    int port, busy;

    while ((port = portmap_find_clear_run( engine->map->reserved[protocol], start, end, count )) >= 0)
    {
        if ((*holders = hold_range( engine, protocol, port, count, &busy ))) return port;
        if (busy < 0) return -2;
        start = busy + 1;
    }
    return -1;
}

/***********************************************************************
 *           engine and clients
 */

struct engine *engine_create( const struct engine_callbacks *callbacks, struct portres_map *map )
{
    struct engine *engine;
    int i;

    if (!(engine = calloc( 1, sizeof(*engine) ))) return NULL;
    engine->cb = *callbacks;
    if (!(engine->map = map))
    {
        engine->map = calloc( 1, sizeof(*engine->map) );
        engine->own_map = 1;
    }
    for (i = 0; i < ENGINE_NB_PROTOCOLS; i++)
    {
        engine->ports[i] = calloc( 65536, sizeof(*engine->ports[i]) );
        engine->dyn_start[i] = ENGINE_DEFAULT_DYNAMIC_START;
        engine->dyn_count[i] = ENGINE_DEFAULT_DYNAMIC_COUNT;
    }
    list_init( &engine->clients );
    list_init( &engine->persistent );
    if (!engine->map || !engine->ports[ENGINE_TCP] || !engine->ports[ENGINE_UDP] ||
        !hash_init( &engine->tokens ) || !hash_init( &engine->sockets ))
    {
        engine_destroy( engine );
        return NULL;
    }
    portmap_reset( engine->map );
    return engine;
}

void engine_publish( struct engine *engine, struct portres_map *map )
{
    portmap_copy( map, engine->map );
    if (engine->own_map) free( engine->map );
    engine->map = map;
    engine->own_map = 0;
}

void engine_destroy( struct engine *engine )
{
    struct engine_client *client, *next_client;
    struct reservation *res, *next;
    int i;

    if (!engine) return;
    if (engine->tokens.buckets && engine->sockets.buckets)
    {
        LIST_FOR_EACH_ENTRY_SAFE( client, next_client, &engine->clients, struct engine_client, entry )
            engine_client_destroy( client );
        /* the server ends: the sockets that outlived their clients too */
        for (i = 0; i < (int)engine->sockets.size; i++)
        {
            while (engine->sockets.buckets[i])
                close_sock_rec( engine, HASH_ENTRY( engine->sockets.buckets[i], struct sock_rec, entry ) );
        }
        /* persistent reservations stay in a shared map when the server
         * exits, so that binds keep avoiding them until the next server */
        LIST_FOR_EACH_ENTRY_SAFE( res, next, &engine->persistent, struct reservation, owner_entry )
            free_reservation( engine, res, engine->own_map );
    }
    hash_free( &engine->tokens );
    hash_free( &engine->sockets );
    for (i = 0; i < ENGINE_NB_PROTOCOLS; i++) free( engine->ports[i] );
    if (engine->own_map) free( engine->map );
    free( engine );
}

struct engine_client *engine_client_create( struct engine *engine, unsigned int pid )
{
    struct engine_client *client;

    if (!(client = calloc( 1, sizeof(*client) ))) return NULL;
    if (!hash_init( &client->sockets ))
    {
        free( client );
        return NULL;
    }
    client->engine = engine;
    client->pid = pid;
    list_init( &client->wine_sockets );
    list_init( &client->owned );
    list_add_tail( &engine->clients, &client->entry );
    return client;
}

void engine_client_set_id( struct engine_client *client, uint64_t id )
{
    client->id = id;
}

unsigned int engine_client_set_wine( struct engine_client *client )
{
    unsigned int i;

    /* before its first socket: the kind names where its sockets are */
    for (i = 0; i < client->sockets.size; i++) if (client->sockets.buckets[i]) return STATUS_INVALID_PARAMETER;
    client->wine = 1;
    return STATUS_SUCCESS;
}

/* A client has gone: what it acquired has no owner any more, the records
 * of its own sockets go, and those of Wine sockets go unless the socket
 * lives on in another process. */
void engine_client_destroy( struct engine_client *client )
{
    struct engine *engine = client->engine;
    struct reservation *res, *next_res;
    struct sock_rec *sock, *next_sock;
    unsigned int i;

    LIST_FOR_EACH_ENTRY_SAFE( res, next_res, &client->owned, struct reservation, owned_entry )
    {
        list_remove( &res->owned_entry );
        list_init( &res->owned_entry );
        res->owner = NULL;
    }
    LIST_FOR_EACH_ENTRY_SAFE( sock, next_sock, &client->wine_sockets, struct sock_rec, client_entry )
    {
        list_remove( &sock->client_entry );
        list_init( &sock->client_entry );
        sock->client = NULL;
        reap_sock_rec( engine, sock );
    }
    for (i = 0; i < client->sockets.size; i++)
    {
        while (client->sockets.buckets[i])
            close_sock_rec( engine, HASH_ENTRY( client->sockets.buckets[i], struct sock_rec, entry ) );
    }
    hash_free( &client->sockets );
    list_remove( &client->entry );
    free( client );
}

/***********************************************************************
 *           requests of a client
 */

unsigned int engine_acquire( struct engine_client *client, int protocol, unsigned int start,
                             unsigned int count, portres_socket_t socket, struct engine_info *info )
{
    struct engine *engine = client->engine;
    struct reservation *res;
    struct sock_rec *sock;
    int found, busy, *holders = NULL;

    if (!count || count > 65535) return STATUS_INVALID_PARAMETER;
    if (start)
    {
        if (!engine_valid_range( start, count )) return STATUS_INVALID_PARAMETER;
        if (range_reserved( engine, protocol, start, count ))
        {
            reap_range( engine, protocol, start, count );
            if (range_reserved( engine, protocol, start, count )) return STATUS_ADDRESS_ALREADY_EXISTS;
        }
        /* its ports are held from now on: no process of the host can bind them */
        if (!(holders = hold_range( engine, protocol, start, count, &busy )))
            return busy >= 0 ? STATUS_ADDRESS_ALREADY_EXISTS : STATUS_NO_MEMORY;
    }
    else
    {
        /* before giving up, the reservations of sockets that have ended go */
        if ((found = find_free_block( engine, protocol, count, &holders )) == -1 && engine_sweep( engine ))
            found = find_free_block( engine, protocol, count, &holders );
        if (found < 0) return found == -1 ? STATUS_ADDRESS_ALREADY_EXISTS : STATUS_NO_MEMORY;
        start = found;
    }
    if (!(sock = get_sock_rec( client, socket )) ||
        !(res = insert_reservation( engine, protocol, start, count, PORTRES_KIND_RUNTIME, 0, holders )))
    {
        while (count--) engine->cb.unhold( engine->cb.ctx, holders[count], protocol, start + count );
        free( holders );
        if (sock) free_sock_rec_if_unused( engine, sock );
        return STATUS_NO_MEMORY;
    }
    res->sock = sock;
    res->owner = client;
    res->owner_pid = client->pid;
    list_add_tail( &sock->reservations, &res->owner_entry );
    list_add_tail( &client->owned, &res->owned_entry );
    journal_reservation( engine, res, 0 );
    fill_info( res, client, info );
    return STATUS_SUCCESS;
}

/* a runtime reservation of the client's, whose socket lives, or NULL */
static struct reservation *own_reservation( struct engine_client *client, portres_token_t token )
{
    struct reservation *res = engine_find_reservation( client->engine, token );

    if (!res || res->kind != PORTRES_KIND_RUNTIME || res->owner != client) return NULL;
    return live_reservation( client->engine, res ) ? res : NULL;
}

unsigned int engine_release( struct engine_client *client, portres_token_t token )
{
    struct reservation *res = own_reservation( client, token );
    struct sock_rec *sock;

    if (!res) return STATUS_INVALID_PARAMETER;
    sock = res->sock;
    destroy_reservation( client->engine, res );
    free_sock_rec_if_unused( client->engine, sock );
    return STATUS_SUCCESS;
}

unsigned int engine_associate( struct engine_client *client, int protocol, portres_socket_t socket,
                               portres_token_t token, int elevated, struct engine_info *info )
{
    struct reservation *res = engine_find_reservation( client->engine, token );
    struct sock_rec *sock;

    if (!res || res->protocol != protocol) return STATUS_INVALID_PARAMETER;
    if (res->kind == PORTRES_KIND_RUNTIME && !(res = own_reservation( client, token )))
        return STATUS_INVALID_PARAMETER;
    if (res->kind == PORTRES_KIND_PERSISTENT && !elevated) return STATUS_ACCESS_DENIED;
    if (!(sock = get_sock_rec( client, socket ))) return STATUS_NO_MEMORY;
    dissociate( client->engine, sock );
    sock->assoc = res;
    list_add_tail( &res->assocs, &sock->assoc_entry );
    count_association( client->engine, 1 );
    journal_association( client->engine, sock, 0 );
    fill_info( res, client, info );
    return STATUS_SUCCESS;
}

/* An associated socket binds a port of its reservation: the hold lets go
 * of it just before, and the socket's own bind holds it from then on (the
 * moment between the two is the one window another process has) */
static void give_port( struct engine *engine, struct sock_rec *sock, unsigned int port )
{
    struct reservation *res = sock->assoc;

    if (sock->port != port) return_port( engine, sock );
    if (res->holders) unhold_port( engine, res, port );
    sock->port = port;
    journal_association( engine, sock, 0 );
}

unsigned int engine_bind_port( struct engine_client *client, int protocol, portres_socket_t socket,
                               unsigned int port, unsigned short *result, int *associated )
{
    struct engine *engine = client->engine;
    struct sock_rec *sock = find_sock_rec( client, socket );
    const struct reservation *res;

    if (port > 65535) return STATUS_INVALID_PARAMETER;
    /* an association ends with the socket that acquired the reservation */
    if (sock && sock->assoc) live_reservation( engine, sock->assoc );
    *associated = sock && sock->assoc;
    if (*associated)
    {
        struct reservation *assoc = sock->assoc;

        if (port)
        {
            if (port < assoc->start || port >= (unsigned int)assoc->start + assoc->count)
                return STATUS_INVALID_PARAMETER;
            give_port( engine, sock, port );
            *result = port;
            return STATUS_SUCCESS;
        }
        for (port = assoc->start; port < (unsigned int)assoc->start + assoc->count; port++)
        {
            if (port_given( assoc, sock, port )) continue;
            /* a held port is free for it; another was held by somebody when its socket ended */
            if ((!assoc->holders || assoc->holders[port - assoc->start] < 0) &&
                engine->cb.port_in_use( engine->cb.ctx, protocol, port ))
                continue;
            give_port( engine, sock, port );
            *result = port;
            return STATUS_SUCCESS;
        }
        return STATUS_ADDRESS_ALREADY_EXISTS;
    }
    /* an ordinary socket: the system chooses port 0, explicit runtime ports are refused */
    res = port ? live_reservation( engine, engine->ports[protocol][port] ) : NULL;
    if (res && res->kind == PORTRES_KIND_RUNTIME) return STATUS_ACCESS_DENIED;
    *result = port;
    return STATUS_SUCCESS;
}

/* A socket of the client was closed, or a handle of it: what hangs off it
 * goes once the socket has ended.  A Wine client may name any socket of
 * the prefix: whether it ended is the host's to say. */
unsigned int engine_socket_closed( struct engine_client *client, portres_socket_t socket )
{
    struct sock_rec *sock = find_sock_rec( client, socket );

    if (!sock || (sock->wine && sock_alive( client->engine, sock ))) return 0;
    return close_sock_rec( client->engine, sock );
}

void engine_query_socket( struct engine_client *client, portres_socket_t socket, unsigned int *associated,
                          unsigned int *acquired )
{
    struct sock_rec *sock = find_sock_rec( client, socket );
    const struct reservation *res;

    *associated = *acquired = 0;
    if (!sock) return;
    if (sock->assoc) live_reservation( client->engine, sock->assoc );
    *associated = sock->assoc != NULL;
    LIST_FOR_EACH_ENTRY( res, &sock->reservations, struct reservation, owner_entry ) (*acquired)++;
}

int engine_query_port( struct engine *engine, const struct engine_client *client, int protocol,
                       unsigned int port, struct engine_info *info )
{
    const struct reservation *res = port <= 65535 ? live_reservation( engine, engine->ports[protocol][port] ) : NULL;

    memset( info, 0, sizeof(*info) );
    if (!res) return 0;
    fill_info( res, client, info );
    return 1;
}

/***********************************************************************
 *           persistent reservations
 */

unsigned int engine_persistent_add( struct engine *engine, int protocol, unsigned int start,
                                    unsigned int count, portres_token_t token )
{
    struct reservation *res;

    if (!engine_valid_range( start, count )) return STATUS_INVALID_PARAMETER;
    if (range_reserved( engine, protocol, start, count )) return STATUS_SHARING_VIOLATION;
    if (token && engine_find_reservation( engine, token )) return STATUS_INVALID_PARAMETER;
    if (!(res = insert_reservation( engine, protocol, start, count, PORTRES_KIND_PERSISTENT, token, NULL )))
        return STATUS_NO_MEMORY;
    list_add_tail( &engine->persistent, &res->owner_entry );
    return STATUS_SUCCESS;
}

unsigned int engine_persistent_create( struct engine *engine, int protocol, unsigned int start,
                                       unsigned int count, portres_token_t *token )
{
    unsigned int status;

    if (!engine_valid_range( start, count )) return STATUS_INVALID_PARAMETER;
    if (range_reserved( engine, protocol, start, count )) return STATUS_SHARING_VIOLATION;
    if (range_in_use( engine, protocol, start, count ) >= 0) return STATUS_SHARING_VIOLATION;
    *token = new_token( engine );
    if ((status = engine_persistent_add( engine, protocol, start, count, *token ))) *token = 0;
    return status;
}

/* the reservation with exactly this start and count, or NULL */
static struct reservation *find_exact( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    struct reservation *res = start <= 65535 ? engine->ports[protocol][start] : NULL;
    return (res && res->start == start && res->count == count) ? res : NULL;
}

unsigned int engine_persistent_delete( struct engine *engine, int protocol, unsigned int start,
                                       unsigned int count, portres_token_t *token )
{
    struct reservation *res;

    if (!engine_valid_range( start, count )) return STATUS_INVALID_PARAMETER;
    if (!(res = find_exact( engine, protocol, start, count ))) return STATUS_NOT_FOUND;
    if (res->kind != PORTRES_KIND_PERSISTENT) return STATUS_ACCESS_DENIED;
    *token = res->entry.key;
    destroy_reservation( engine, res );
    return STATUS_SUCCESS;
}

unsigned int engine_persistent_lookup( struct engine *engine, int protocol, unsigned int start,
                                       unsigned int count, portres_token_t *token )
{
    struct reservation *res;

    if (!engine_valid_range( start, count )) return STATUS_INVALID_PARAMETER;
    res = find_exact( engine, protocol, start, count );
    if (!res || res->kind != PORTRES_KIND_PERSISTENT) return STATUS_NOT_FOUND;
    *token = res->entry.key;
    return STATUS_SUCCESS;
}

/***********************************************************************
 *           dynamic range, listing, checking
 */

void engine_get_dynamic_range( struct engine *engine, int protocol, unsigned short *start, unsigned short *count )
{
    *start = engine->dyn_start[protocol];
    *count = engine->dyn_count[protocol];
}

/* Windows' limits for the dynamic range: start at least 1025, at least 255 ports */
unsigned int engine_set_dynamic_range( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    if (start < 1025 || count < 255 || start + count - 1 > 65535) return STATUS_INVALID_PARAMETER;
    engine->dyn_start[protocol] = start;
    engine->dyn_count[protocol] = count;
    return STATUS_SUCCESS;
}

int engine_has_token( struct engine *engine, portres_token_t token )
{
    return engine_find_reservation( engine, token ) != NULL;
}

unsigned int engine_count( struct engine *engine, int protocol )
{
    return engine->count[protocol];
}

int engine_enum( struct engine *engine, const struct engine_client *client, int protocol,
                 unsigned int first_port, engine_enum_func func, void *ctx )
{
    struct engine_info info;
    int port = first_port;

    while (port <= 65535 && (port = portmap_find_set_bit( engine->map->reserved[protocol], port, 65536 )) >= 0)
    {
        const struct reservation *res = engine->ports[protocol][port];
        if (res->start == port)
        {
            fill_info( res, client, &info );
            if (func( ctx, &info )) return 1;
        }
        port = res->start + res->count;
    }
    return 0;
}

/***********************************************************************
 *           records for a new server
 */

static void enum_associations( struct hash_table *table, engine_record_func func, void *ctx )
{
    struct engine_record record;
    struct hash_entry *entry;
    unsigned int pos = 0;

    while ((entry = hash_next_bucket( table, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            const struct sock_rec *sock = HASH_ENTRY( entry, struct sock_rec, entry );
            if (!sock->assoc) continue;
            association_record( sock, &record );
            func( ctx, &record, NULL );
        }
    }
}

void engine_enum_records( struct engine *engine, engine_record_func func, void *ctx )
{
    struct engine_record record;
    struct engine_client *client;
    struct hash_entry *entry;
    unsigned int pos = 0;

    /* reservations first: an association names one */
    while ((entry = hash_next_bucket( &engine->tokens, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            const struct reservation *res = HASH_ENTRY( entry, struct reservation, entry );
            if (res->kind != PORTRES_KIND_RUNTIME) continue;
            reservation_record( res, &record );
            func( ctx, &record, res->holders );
        }
    }
    enum_associations( &engine->sockets, func, ctx );
    LIST_FOR_EACH_ENTRY( client, &engine->clients, struct engine_client, entry )
        enum_associations( &client->sockets, func, ctx );
}

/* the record of a restored socket: a client's own socket needs the client */
static struct sock_rec *restore_sock_rec( struct engine *engine, struct engine_client *client,
                                          const struct engine_record *record )
{
    struct hash_entry *entry;

    if (!record->wine && (!client || client->wine)) return NULL;
    if (record->wine && client && !client->wine) client = NULL;
    entry = hash_find( record->wine ? &engine->sockets : &client->sockets, record->socket );
    if (entry) return HASH_ENTRY( entry, struct sock_rec, entry );
    return new_sock_rec( engine, client, record->wine, record->socket );
}

unsigned int engine_restore_reservation( struct engine *engine, struct engine_client *client,
                                         const struct engine_record *record, int *holders )
{
    struct reservation *res;
    struct sock_rec *sock;

    if (record->type != ENGINE_RECORD_RESERVATION || record->protocol >= ENGINE_NB_PROTOCOLS ||
        !record->id || !engine_valid_range( record->start, record->count ) ||
        engine_find_reservation( engine, record->id ))
        return STATUS_INVALID_PARAMETER;
    if (range_reserved( engine, record->protocol, record->start, record->count ))
        return STATUS_ADDRESS_ALREADY_EXISTS;
    if (!(sock = restore_sock_rec( engine, client, record ))) return STATUS_INVALID_PARAMETER;
    if (!(res = insert_reservation( engine, record->protocol, record->start, record->count,
                                    PORTRES_KIND_RUNTIME, record->id, holders )))
    {
        free_sock_rec_if_unused( engine, sock );
        return STATUS_NO_MEMORY;
    }
    res->sock = sock;
    res->owner = sock->client;
    res->owner_pid = record->owner_pid;
    list_add_tail( &sock->reservations, &res->owner_entry );
    if (res->owner) list_add_tail( &res->owner->owned, &res->owned_entry );
    return STATUS_SUCCESS;
}

unsigned int engine_restore_association( struct engine *engine, struct engine_client *client,
                                         const struct engine_record *record )
{
    struct reservation *res = engine_find_reservation( engine, record->token );
    struct sock_rec *sock;

    if (record->type != ENGINE_RECORD_ASSOCIATION || !res) return STATUS_INVALID_PARAMETER;
    if (record->port && (record->port < res->start || record->port >= res->start + res->count))
        return STATUS_INVALID_PARAMETER;
    if (!(sock = restore_sock_rec( engine, client, record ))) return STATUS_INVALID_PARAMETER;
    if (sock->assoc)
    {
        free_sock_rec_if_unused( engine, sock );
        return STATUS_INVALID_PARAMETER;
    }
    sock->assoc = res;
    sock->port = record->port;
    sock->id = record->id;   /* the keeper knows it by that */
    list_add_tail( &res->assocs, &sock->assoc_entry );
    count_association( engine, 1 );
    return STATUS_SUCCESS;
}

void engine_restore_ids( struct engine *engine, uint64_t last )
{
    if (last > engine->last_sock_id) engine->last_sock_id = last;
}
