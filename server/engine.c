/*
 * The reservation engine: port reservation tables of one prefix
 *
 * Per protocol, a table of 65536 slots points every reserved port at its
 * reservation; reservations are also found by token.  Runtime reservations
 * hang off the record of the socket that acquired them, persistent ones off
 * the engine.  Every change of the tables also updates the published map of
 * reserved ports, inside an odd generation.
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

#include "engine.h"
#include "hash.h"
#include "portres/list.h"

struct reservation;

/* what the engine knows of one socket of a client */
struct sock_rec
{
    struct hash_entry     entry;         /* in the client's sockets, keyed by handle */
    struct engine_client *client;
    struct list           reservations;  /* runtime reservations acquired on it */
    struct reservation   *assoc;         /* associated reservation, or NULL */
    struct list           assoc_entry;   /* in assoc->assocs */
    unsigned short        port;          /* port handed out for its bind, 0 if none */
};

struct reservation
{
    struct hash_entry     entry;         /* in the engine's tokens */
    struct list           owner_entry;   /* in sock->reservations, or engine->persistent */
    struct list           assocs;        /* sock_recs associated with it */
    struct sock_rec      *sock;          /* acquiring socket, NULL when persistent */
    unsigned short        start;
    unsigned short        count;
    unsigned char         protocol;
    unsigned char         kind;
};

struct engine_client
{
    struct list        entry;            /* in engine->clients */
    struct engine     *engine;
    struct hash_table  sockets;
    unsigned int       pid;
};

struct engine
{
    struct engine_callbacks cb;
    struct portres_map     *map;
    int                     own_map;
    struct reservation    **ports[ENGINE_NB_PROTOCOLS];   /* 65536 slots each */
    struct hash_table       tokens;
    struct list             clients;
    struct list             persistent;
    unsigned int            count[ENGINE_NB_PROTOCOLS];
    unsigned short          dyn_start[ENGINE_NB_PROTOCOLS];
    unsigned short          dyn_count[ENGINE_NB_PROTOCOLS];
};

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
static int valid_range( unsigned int start, unsigned int count )
{
    return start && count && start + count - 1 <= 65535;
}

/***********************************************************************
 *           the published map
 */

static void set_bits( uint64_t *words, unsigned int start, unsigned int count, int set )
{
    unsigned int port = start, end = start + count;

    while (port < end)
    {
        unsigned int bit = port % 64, n = end - port < 64 - bit ? end - port : 64 - bit;
        uint64_t mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << bit;
        uint64_t *word = &words[port / 64];
        uint64_t val = __atomic_load_n( word, __ATOMIC_RELAXED );

        __atomic_store_n( word, set ? (val | mask) : (val & ~mask), __ATOMIC_RELAXED );
        port += n;
    }
}

/* first set bit in [start, end), or -1 */
static int find_set_bit( const uint64_t *words, unsigned int start, unsigned int end )
{
    unsigned int port = start;

    while (port < end)
    {
        uint64_t val = __atomic_load_n( &words[port / 64], __ATOMIC_RELAXED ) >> (port % 64);
        if (val)
        {
            port += __builtin_ctzll( val );
            return port < end ? (int)port : -1;
        }
        port = (port / 64 + 1) * 64;
    }
    return -1;
}

/* first clear bit in [start, end), or -1 */
static int find_clear_bit( const uint64_t *words, unsigned int start, unsigned int end )
{
    unsigned int port = start;

    while (port < end)
    {
        uint64_t val = ~__atomic_load_n( &words[port / 64], __ATOMIC_RELAXED ) >> (port % 64);
        if (val)
        {
            port += __builtin_ctzll( val );
            return port < end ? (int)port : -1;
        }
        port = (port / 64 + 1) * 64;
    }
    return -1;
}

/* the clear bits of a word and the next one, as one 128-bit value */
static unsigned __int128 clear_window( const uint64_t *words, unsigned int index )
{
    uint64_t low = ~__atomic_load_n( &words[index], __ATOMIC_RELAXED );
    uint64_t high = index + 1 < PORTRES_MAP_WORDS ? ~__atomic_load_n( &words[index + 1], __ATOMIC_RELAXED ) : 0;

    return ((unsigned __int128)high << 64) | low;
}

/* first start of count clear bits in [start, end), or -1; a word at a time
 * for runs of up to 64 bits, run by run for longer ones */
static int find_clear_run( const uint64_t *words, unsigned int start, unsigned int end, unsigned int count )
{
    unsigned int index;

    if (count > 64)
    {
        int clear, set;

        while ((clear = find_clear_bit( words, start, end )) >= 0 && clear + count <= end)
        {
            if ((set = find_set_bit( words, clear, clear + count )) < 0) return clear;
            start = set;
        }
        return -1;
    }
    for (index = start / 64; index * 64 < end; index++)
    {
        unsigned __int128 runs = clear_window( words, index );
        unsigned int have = 1, step;
        uint64_t starts;

        /* bit i of runs: bits i .. i + have - 1 are all clear */
        while (have < count)
        {
            step = have < count - have ? have : count - have;
            runs &= runs >> step;
            have += step;
        }
        starts = (uint64_t)runs;
        if (index == start / 64) starts &= ~(uint64_t)0 << (start % 64);
        if (starts)
        {
            unsigned int port = index * 64 + __builtin_ctzll( starts );
            return port + count <= end ? (int)port : -1;
        }
    }
    return -1;
}

/* a writer makes the generation odd while it changes the map, and even again
 * after; readers retry when they saw an odd or changed generation */
static void map_begin( struct portres_map *map )
{
    __atomic_store_n( &map->generation, (map->generation | 1), __ATOMIC_RELAXED );
    __atomic_thread_fence( __ATOMIC_RELEASE );
}

static void map_end( struct portres_map *map )
{
    __atomic_store_n( &map->generation, map->generation + 1, __ATOMIC_RELEASE );
}

static void update_map( struct engine *engine, const struct reservation *res, int set )
{
    struct portres_map *map = engine->map;

    map_begin( map );
    set_bits( map->reserved[res->protocol], res->start, res->count, set );
    if (res->kind == PORTRES_KIND_RUNTIME)
        set_bits( map->runtime[res->protocol], res->start, res->count, set );
    map_end( map );
}

/* empty a map that readers may be looking at: what an earlier server left
 * there (a crash can even leave the generation odd) goes, in one generation */
static void reset_map( struct portres_map *map )
{
    map_begin( map );
    map->version = PORTRES_PROTOCOL_VERSION;
    memset( map->reserved, 0, sizeof(map->reserved) );
    memset( map->runtime, 0, sizeof(map->runtime) );
    map_end( map );
}

/***********************************************************************
 *           reservations
 */

static int range_reserved( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    return find_set_bit( engine->map->reserved[protocol], start, start + count ) >= 0;
}

/* first port of a range bound on the host, or -1 */
static int range_in_use( struct engine *engine, int protocol, unsigned int start, unsigned int count )
{
    unsigned int port;

    for (port = start; port < start + count; port++)
        if (engine->cb.port_in_use( engine->cb.ctx, protocol, port )) return port;
    return -1;
}

static portres_token_t new_token( struct engine *engine )
{
    portres_token_t token;

    do token = engine->cb.random_token( engine->cb.ctx );
    while (!token || hash_find( &engine->tokens, token ));
    return token;
}

static struct reservation *find_reservation( struct engine *engine, portres_token_t token )
{
    struct hash_entry *entry = hash_find( &engine->tokens, token );
    return entry ? HASH_ENTRY( entry, struct reservation, entry ) : NULL;
}

static struct reservation *insert_reservation( struct engine *engine, int protocol, unsigned int start,
                                               unsigned int count, unsigned int kind, portres_token_t token )
{
    struct reservation *res;
    unsigned int port;

    if (!(res = calloc( 1, sizeof(*res) ))) return NULL;
    res->entry.key = token ? token : new_token( engine );
    res->start     = start;
    res->count     = count;
    res->protocol  = protocol;
    res->kind      = kind;
    list_init( &res->assocs );
    list_init( &res->owner_entry );
    for (port = start; port < start + count; port++) engine->ports[protocol][port] = res;
    hash_insert( &engine->tokens, &res->entry );
    engine->count[protocol]++;
    update_map( engine, res, 1 );
    return res;
}

static void free_sock_rec_if_unused( struct sock_rec *sock );

/* remove a reservation from every table and forget the associations naming it */
/* free a reservation; the map forgets it unless it is to stay published */
static void free_reservation( struct engine *engine, struct reservation *res, int unpublish )
{
    struct sock_rec *sock, *next;
    unsigned int port;

    LIST_FOR_EACH_ENTRY_SAFE( sock, next, &res->assocs, struct sock_rec, assoc_entry )
    {
        list_remove( &sock->assoc_entry );
        sock->assoc = NULL;
        sock->port = 0;
        if (sock != res->sock) free_sock_rec_if_unused( sock );
    }
    for (port = res->start; port < res->start + res->count; port++) engine->ports[res->protocol][port] = NULL;
    if (unpublish) update_map( engine, res, 0 );
    hash_remove( &engine->tokens, &res->entry );
    engine->count[res->protocol]--;
    list_remove( &res->owner_entry );
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
    info->owner_pid = res->sock ? res->sock->client->pid : 0;
    info->is_mine   = res->sock && res->sock->client == client;
    info->token     = (info->is_mine || res->kind == PORTRES_KIND_PERSISTENT) ? res->entry.key : 0;
}

/* lowest block of count free ports in the dynamic range, or -1 */
static int find_free_block( struct engine *engine, int protocol, unsigned int count )
{
    unsigned int start = engine->dyn_start[protocol];
    unsigned int end = start + engine->dyn_count[protocol];   /* one past the last port */
    int port, busy;

    while ((port = find_clear_run( engine->map->reserved[protocol], start, end, count )) >= 0)
    {
        if ((busy = range_in_use( engine, protocol, port, count )) < 0) return port;
        start = busy + 1;
    }
    return -1;
}

/***********************************************************************
 *           sockets
 */

static struct sock_rec *find_sock_rec( const struct engine_client *client, portres_socket_t socket )
{
    struct hash_entry *entry = hash_find( &client->sockets, socket );
    return entry ? HASH_ENTRY( entry, struct sock_rec, entry ) : NULL;
}

static struct sock_rec *get_sock_rec( struct engine_client *client, portres_socket_t socket )
{
    struct sock_rec *sock = find_sock_rec( client, socket );

    if (sock) return sock;
    if (!(sock = calloc( 1, sizeof(*sock) ))) return NULL;
    sock->entry.key = socket;
    sock->client = client;
    list_init( &sock->reservations );
    list_init( &sock->assoc_entry );
    hash_insert( &client->sockets, &sock->entry );
    return sock;
}

static void free_sock_rec_if_unused( struct sock_rec *sock )
{
    if (sock->assoc || !list_empty( &sock->reservations )) return;
    hash_remove( &sock->client->sockets, &sock->entry );
    free( sock );
}

static void dissociate( struct sock_rec *sock )
{
    if (!sock->assoc) return;
    list_remove( &sock->assoc_entry );
    sock->assoc = NULL;
    sock->port = 0;
}

/* release everything of a socket; returns the number of reservations released */
static unsigned int close_sock_rec( struct engine *engine, struct sock_rec *sock )
{
    struct reservation *res, *next;
    unsigned int released = 0;

    dissociate( sock );
    LIST_FOR_EACH_ENTRY_SAFE( res, next, &sock->reservations, struct reservation, owner_entry )
    {
        /* its own association is gone already, so the record stays alive */
        destroy_reservation( engine, res );
        released++;
    }
    free_sock_rec_if_unused( sock );
    return released;
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
    if (!engine->map || !engine->ports[ENGINE_TCP] || !engine->ports[ENGINE_UDP] || !hash_init( &engine->tokens ))
    {
        engine_destroy( engine );
        return NULL;
    }
    reset_map( engine->map );
    return engine;
}

void engine_destroy( struct engine *engine )
{
    struct engine_client *client, *next_client;
    struct reservation *res, *next;
    int i;

    if (!engine) return;
    if (engine->tokens.buckets)
    {
        LIST_FOR_EACH_ENTRY_SAFE( client, next_client, &engine->clients, struct engine_client, entry )
            engine_client_destroy( client );
        /* persistent reservations stay in a shared map when the server
         * exits, so that binds keep avoiding them until the next server */
        LIST_FOR_EACH_ENTRY_SAFE( res, next, &engine->persistent, struct reservation, owner_entry )
            free_reservation( engine, res, engine->own_map );
    }
    hash_free( &engine->tokens );
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
    list_add_tail( &engine->clients, &client->entry );
    return client;
}

void engine_client_destroy( struct engine_client *client )
{
    unsigned int i;

    for (i = 0; i < client->sockets.size; i++)
    {
        while (client->sockets.buckets[i])
            close_sock_rec( client->engine, HASH_ENTRY( client->sockets.buckets[i], struct sock_rec, entry ) );
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

    if (!count || count > 65535) return STATUS_INVALID_PARAMETER;
    if (start)
    {
        if (!valid_range( start, count )) return STATUS_INVALID_PARAMETER;
        if (range_reserved( engine, protocol, start, count )) return STATUS_ADDRESS_ALREADY_EXISTS;
        if (range_in_use( engine, protocol, start, count ) >= 0) return STATUS_ADDRESS_ALREADY_EXISTS;
    }
    else
    {
        int found = find_free_block( engine, protocol, count );
        if (found < 0) return STATUS_ADDRESS_ALREADY_EXISTS;
        start = found;
    }
    if (!(sock = get_sock_rec( client, socket ))) return STATUS_NO_MEMORY;
    if (!(res = insert_reservation( engine, protocol, start, count, PORTRES_KIND_RUNTIME, 0 )))
    {
        free_sock_rec_if_unused( sock );
        return STATUS_NO_MEMORY;
    }
    res->sock = sock;
    list_add_tail( &sock->reservations, &res->owner_entry );
    fill_info( res, client, info );
    return STATUS_SUCCESS;
}

unsigned int engine_release( struct engine_client *client, portres_token_t token )
{
    struct reservation *res = find_reservation( client->engine, token );
    struct sock_rec *sock;

    if (!res || res->kind != PORTRES_KIND_RUNTIME || res->sock->client != client)
        return STATUS_INVALID_PARAMETER;
    sock = res->sock;
    destroy_reservation( client->engine, res );
    free_sock_rec_if_unused( sock );
    return STATUS_SUCCESS;
}

unsigned int engine_associate( struct engine_client *client, int protocol, portres_socket_t socket,
                               portres_token_t token, int elevated, struct engine_info *info )
{
    struct reservation *res = find_reservation( client->engine, token );
    struct sock_rec *sock;

    if (!res || res->protocol != protocol) return STATUS_INVALID_PARAMETER;
    if (res->kind == PORTRES_KIND_RUNTIME && res->sock->client != client) return STATUS_INVALID_PARAMETER;
    if (res->kind == PORTRES_KIND_PERSISTENT && !elevated) return STATUS_ACCESS_DENIED;
    if (!(sock = get_sock_rec( client, socket ))) return STATUS_NO_MEMORY;
    dissociate( sock );
    sock->assoc = res;
    list_add_tail( &res->assocs, &sock->assoc_entry );
    fill_info( res, client, info );
    return STATUS_SUCCESS;
}

/* whether another socket associated with the reservation was given the port */
static int port_given( const struct reservation *res, const struct sock_rec *self, unsigned int port )
{
    const struct sock_rec *sock;

    LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry )
        if (sock != self && sock->port == port) return 1;
    return 0;
}

unsigned int engine_bind_port( struct engine_client *client, int protocol, portres_socket_t socket,
                               unsigned int port, unsigned short *result, int *associated )
{
    struct engine *engine = client->engine;
    struct sock_rec *sock = find_sock_rec( client, socket );
    const struct reservation *res;

    if (port > 65535) return STATUS_INVALID_PARAMETER;
    *associated = sock && sock->assoc;
    if (*associated)
    {
        res = sock->assoc;
        if (port)
        {
            if (port < res->start || port >= (unsigned int)res->start + res->count)
                return STATUS_INVALID_PARAMETER;
            *result = sock->port = port;
            return STATUS_SUCCESS;
        }
        for (port = res->start; port < (unsigned int)res->start + res->count; port++)
        {
            if (port_given( res, sock, port )) continue;
            if (engine->cb.port_in_use( engine->cb.ctx, protocol, port )) continue;
            *result = sock->port = port;
            return STATUS_SUCCESS;
        }
        return STATUS_ADDRESS_ALREADY_EXISTS;
    }
    /* an ordinary socket: the system chooses port 0, explicit runtime ports are refused */
    res = port ? engine->ports[protocol][port] : NULL;
    if (res && res->kind == PORTRES_KIND_RUNTIME) return STATUS_ACCESS_DENIED;
    *result = port;
    return STATUS_SUCCESS;
}

unsigned int engine_socket_closed( struct engine_client *client, portres_socket_t socket )
{
    struct sock_rec *sock = find_sock_rec( client, socket );
    return sock ? close_sock_rec( client->engine, sock ) : 0;
}

int engine_query_port( struct engine *engine, const struct engine_client *client, int protocol,
                       unsigned int port, struct engine_info *info )
{
    const struct reservation *res = port <= 65535 ? engine->ports[protocol][port] : NULL;

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

    if (!valid_range( start, count )) return STATUS_INVALID_PARAMETER;
    if (range_reserved( engine, protocol, start, count )) return STATUS_SHARING_VIOLATION;
    if (token && find_reservation( engine, token )) return STATUS_INVALID_PARAMETER;
    if (!(res = insert_reservation( engine, protocol, start, count, PORTRES_KIND_PERSISTENT, token )))
        return STATUS_NO_MEMORY;
    list_add_tail( &engine->persistent, &res->owner_entry );
    return STATUS_SUCCESS;
}

unsigned int engine_persistent_create( struct engine *engine, int protocol, unsigned int start,
                                       unsigned int count, portres_token_t *token )
{
    unsigned int status;

    if (!valid_range( start, count )) return STATUS_INVALID_PARAMETER;
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

    if (!valid_range( start, count )) return STATUS_INVALID_PARAMETER;
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

    if (!valid_range( start, count )) return STATUS_INVALID_PARAMETER;
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

unsigned int engine_count( struct engine *engine, int protocol )
{
    return engine->count[protocol];
}

int engine_enum( struct engine *engine, const struct engine_client *client, int protocol,
                 unsigned int first_port, engine_enum_func func, void *ctx )
{
    struct engine_info info;
    int port = first_port;

    while (port <= 65535 && (port = find_set_bit( engine->map->reserved[protocol], port, 65536 )) >= 0)
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

static int client_alive( struct engine *engine, const struct engine_client *client )
{
    const struct engine_client *cur;

    LIST_FOR_EACH_ENTRY( cur, &engine->clients, struct engine_client, entry )
        if (cur == client) return 1;
    return 0;
}

#define CHECK(cond, ...) \
    do { if (!(cond)) { snprintf( error, size, __VA_ARGS__ ); return 0; } } while (0)

static int check_reservation( struct engine *engine, const struct reservation *res, char *error, size_t size )
{
    const struct sock_rec *sock;
    unsigned int port;

    CHECK( valid_range( res->start, res->count ), "token %#llx: bad range %u+%u",
           (unsigned long long)res->entry.key, res->start, res->count );
    CHECK( res->entry.key, "a reservation has token 0" );
    for (port = res->start; port < (unsigned int)res->start + res->count; port++)
        CHECK( engine->ports[res->protocol][port] == res, "%s port %u is not in its reservation %u+%u (overlap)",
               engine_protocol_name( res->protocol ), port, res->start, res->count );
    if (res->kind == PORTRES_KIND_RUNTIME)
    {
        CHECK( res->sock && client_alive( engine, res->sock->client ),
               "runtime reservation %u+%u has no live owner", res->start, res->count );
        CHECK( find_sock_rec( res->sock->client, res->sock->entry.key ) == res->sock,
               "runtime reservation %u+%u: its socket is unknown to its owner", res->start, res->count );
    }
    else CHECK( !res->sock, "persistent reservation %u+%u has an owner", res->start, res->count );
    LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry )
    {
        CHECK( sock->assoc == res, "association list of %u+%u is inconsistent", res->start, res->count );
        CHECK( client_alive( engine, sock->client ), "association of %u+%u from a dead client",
               res->start, res->count );
        CHECK( find_sock_rec( sock->client, sock->entry.key ) == sock,
               "association of %u+%u from a socket unknown to its client", res->start, res->count );
    }
    return 1;
}

/* the sockets of a client, with what hangs off them: every runtime
 * reservation is on the list of the socket that acquired it, and every
 * association is on the list of its reservation */
static int check_client( struct engine *engine, const struct engine_client *client, unsigned int *runtime,
                         unsigned int *assocs, char *error, size_t size )
{
    const struct reservation *res;
    const struct sock_rec *sock, *other;
    struct hash_entry *entry;
    unsigned int pos = 0, found;

    CHECK( client->engine == engine, "pid %u: the client belongs to another engine", client->pid );
    while ((entry = hash_next_bucket( &client->sockets, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            sock = HASH_ENTRY( entry, struct sock_rec, entry );
            CHECK( sock->client == client, "pid %u: socket %#llx names another client", client->pid,
                   (unsigned long long)sock->entry.key );
            CHECK( sock->assoc || !list_empty( &sock->reservations ),
                   "pid %u: socket %#llx is kept with nothing in it", client->pid,
                   (unsigned long long)sock->entry.key );
            LIST_FOR_EACH_ENTRY( res, &sock->reservations, struct reservation, owner_entry )
            {
                CHECK( res->kind == PORTRES_KIND_RUNTIME && res->sock == sock,
                       "pid %u: socket %#llx lists a reservation %u+%u that is not its own", client->pid,
                       (unsigned long long)sock->entry.key, res->start, res->count );
                CHECK( find_reservation( engine, res->entry.key ) == res,
                       "pid %u: socket %#llx holds a reservation %u+%u that is not in the token table",
                       client->pid, (unsigned long long)sock->entry.key, res->start, res->count );
                (*runtime)++;
            }
            if (!sock->assoc)
            {
                CHECK( !sock->port, "pid %u: socket %#llx has a port without an association", client->pid,
                       (unsigned long long)sock->entry.key );
                continue;
            }
            CHECK( find_reservation( engine, sock->assoc->entry.key ) == sock->assoc,
                   "pid %u: socket %#llx is associated with a dead reservation", client->pid,
                   (unsigned long long)sock->entry.key );
            found = 0;
            LIST_FOR_EACH_ENTRY( other, &sock->assoc->assocs, struct sock_rec, assoc_entry )
                if (other == sock) found++;
            CHECK( found == 1, "pid %u: socket %#llx is %u times on the association list of %u+%u",
                   client->pid, (unsigned long long)sock->entry.key, found, sock->assoc->start,
                   sock->assoc->count );
            CHECK( !sock->port || (sock->port >= sock->assoc->start &&
                                   sock->port - sock->assoc->start < sock->assoc->count),
                   "pid %u: socket %#llx was given port %u outside its reservation %u+%u", client->pid,
                   (unsigned long long)sock->entry.key, sock->port, sock->assoc->start, sock->assoc->count );
            (*assocs)++;
        }
    }
    return 1;
}

/* the map and the port table of a protocol agree, port by port; words of
 * the map with nothing reserved are checked at once, which is what keeps a
 * check after every request of the fuzzer affordable */
static int check_ports( struct engine *engine, int protocol, char *error, size_t size )
{
    const uint64_t *reserved = engine->map->reserved[protocol], *runtime = engine->map->runtime[protocol];
    struct reservation * const *ports = engine->ports[protocol];
    unsigned int word, port;

    for (word = 0; word < PORTRES_MAP_WORDS; word++)
    {
        uint64_t reserved_bits = __atomic_load_n( &reserved[word], __ATOMIC_RELAXED );
        uint64_t runtime_bits = __atomic_load_n( &runtime[word], __ATOMIC_RELAXED );
        uintptr_t any = 0;

        if (!reserved_bits && !runtime_bits)
        {
            for (port = word * 64; port < word * 64 + 64; port++) any |= (uintptr_t)ports[port];
            if (!any) continue;
        }
        for (port = word * 64; port < word * 64 + 64; port++)
        {
            const struct reservation *res = ports[port];
            int is_reserved = (reserved_bits >> (port % 64)) & 1;
            int is_runtime = (runtime_bits >> (port % 64)) & 1;

            CHECK( is_reserved == !!res, "%s port %u: map says %s, tables say %s", engine_protocol_name( protocol ),
                   port, is_reserved ? "reserved" : "free", res ? "reserved" : "free" );
            CHECK( is_runtime == (res && res->kind == PORTRES_KIND_RUNTIME), "%s port %u: runtime bit is wrong",
                   engine_protocol_name( protocol ), port );
            if (res) CHECK( find_reservation( engine, res->entry.key ) == res && res->protocol == protocol,
                            "%s port %u points at an unknown reservation", engine_protocol_name( protocol ), port );
        }
    }
    return 1;
}

/* The invariants of the tables: reservations do not overlap and are found
 * by token, port and owner alike; every runtime reservation belongs to a
 * socket of a live client and every association names a live reservation,
 * so nothing of a client outlives it; the published map equals the union
 * of the tables. */
int engine_check( struct engine *engine, char *error, size_t size )
{
    const struct engine_client *client;
    const struct reservation *res;
    const struct sock_rec *sock;
    unsigned int pos = 0, total = 0, counted[ENGINE_NB_PROTOCOLS] = { 0, 0 };
    unsigned int runtime = 0, persistent = 0, owned = 0, assocs = 0, listed_assocs = 0;
    struct hash_entry *entry;
    int protocol;

    while ((entry = hash_next_bucket( &engine->tokens, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            res = HASH_ENTRY( entry, struct reservation, entry );
            CHECK( res->protocol < ENGINE_NB_PROTOCOLS, "token %#llx: bad protocol %u",
                   (unsigned long long)res->entry.key, res->protocol );
            CHECK( res->kind == PORTRES_KIND_RUNTIME || res->kind == PORTRES_KIND_PERSISTENT,
                   "token %#llx: bad kind %u", (unsigned long long)res->entry.key, res->kind );
            if (!check_reservation( engine, res, error, size )) return 0;
            if (res->kind == PORTRES_KIND_RUNTIME) runtime++;
            LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry ) listed_assocs++;
            counted[res->protocol]++;
            total++;
        }
    }
    CHECK( total == engine->tokens.count, "token table holds %u entries, counted %u", engine->tokens.count, total );
    LIST_FOR_EACH_ENTRY( res, &engine->persistent, struct reservation, owner_entry )
    {
        CHECK( res->kind == PORTRES_KIND_PERSISTENT && find_reservation( engine, res->entry.key ) == res,
               "the persistent list holds %u+%u, which is not a known persistent reservation",
               res->start, res->count );
        persistent++;
    }
    CHECK( runtime + persistent == total, "%u runtime and %u persistent reservations listed, %u known",
           runtime, persistent, total );
    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
    {
        CHECK( counted[protocol] == engine->count[protocol], "%s: %u reservations counted, %u recorded",
               engine_protocol_name( protocol ), counted[protocol], engine->count[protocol] );
        CHECK( engine->dyn_start[protocol] >= 1025 && engine->dyn_count[protocol] >= 255 &&
               engine->dyn_start[protocol] + engine->dyn_count[protocol] - 1 <= 65535,
               "%s: bad dynamic range %u+%u", engine_protocol_name( protocol ), engine->dyn_start[protocol],
               engine->dyn_count[protocol] );
        if (!check_ports( engine, protocol, error, size )) return 0;
    }
    CHECK( !(engine->map->generation & 1), "map generation %u is odd at rest", engine->map->generation );
    CHECK( engine->map->version == PORTRES_PROTOCOL_VERSION, "map version %08x", engine->map->version );
    LIST_FOR_EACH_ENTRY( client, &engine->clients, struct engine_client, entry )
        if (!check_client( engine, client, &owned, &assocs, error, size )) return 0;
    CHECK( owned == runtime, "the sockets hold %u runtime reservations, the token table %u", owned, runtime );
    CHECK( assocs == listed_assocs, "%u sockets are associated, the reservations list %u associations",
           assocs, listed_assocs );
    return 1;
}

void engine_get_stats( struct engine *engine, struct engine_stats *stats )
{
    const struct engine_client *client;
    const struct reservation *res;
    const struct sock_rec *sock;
    struct hash_entry *entry;
    unsigned int pos;

    memset( stats, 0, sizeof(*stats) );
    LIST_FOR_EACH_ENTRY( client, &engine->clients, struct engine_client, entry )
    {
        stats->clients++;
        pos = 0;
        while ((entry = hash_next_bucket( &client->sockets, &pos )))
        {
            for (; entry; entry = entry->next)
            {
                sock = HASH_ENTRY( entry, struct sock_rec, entry );
                stats->sockets++;
                if (sock->assoc) stats->associations++;
            }
        }
    }
    pos = 0;
    while ((entry = hash_next_bucket( &engine->tokens, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            res = HASH_ENTRY( entry, struct reservation, entry );
            if (res->protocol < ENGINE_NB_PROTOCOLS)
                stats->reservations[res->protocol][res->kind == PORTRES_KIND_PERSISTENT]++;
        }
    }
}
