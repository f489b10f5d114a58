/*
 * The invariants of the reservation engine, checked (engine_check), and
 * what it holds, counted (engine_get_stats)
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
#include <string.h>

#include "engine_private.h"

#define CHECK(cond, ...) \
    do { if (!(cond)) { snprintf( error, size, __VA_ARGS__ ); return 0; } } while (0)

static int client_alive( struct engine *engine, const struct engine_client *client )
{
    const struct engine_client *cur;

    LIST_FOR_EACH_ENTRY( cur, &engine->clients, struct engine_client, entry )
        if (cur == client) return 1;
    return 0;
}

/* the record is where a lookup of its socket finds it */
static int sock_rec_known( struct engine *engine, const struct sock_rec *sock )
{
    const struct hash_table *table;
    struct hash_entry *entry;

    if (sock->wine) table = &engine->sockets;
    else if (!sock->client || !client_alive( engine, sock->client )) return 0;
    else table = &sock->client->sockets;
    entry = hash_find( table, sock->entry.key );
    return entry && HASH_ENTRY( entry, struct sock_rec, entry ) == sock;
}

static int check_reservation( struct engine *engine, const struct reservation *res, char *error, size_t size )
{
    const struct sock_rec *sock;
    unsigned int port;

    CHECK( engine_valid_range( res->start, res->count ), "token %#llx: bad range %u+%u",
           (unsigned long long)res->entry.key, res->start, res->count );
    CHECK( res->entry.key, "a reservation has token 0" );
    for (port = res->start; port < (unsigned int)res->start + res->count; port++)
        CHECK( engine->ports[res->protocol][port] == res, "%s port %u is not in its reservation %u+%u (overlap)",
               engine_protocol_name( res->protocol ), port, res->start, res->count );
    if (res->kind == PORTRES_KIND_RUNTIME)
    {
        CHECK( res->sock && sock_rec_known( engine, res->sock ),
               "runtime reservation %u+%u: its socket is unknown", res->start, res->count );
        CHECK( !res->owner || client_alive( engine, res->owner ),
               "runtime reservation %u+%u belongs to a client that has gone", res->start, res->count );
        CHECK( res->owner || res->sock->wine,
               "runtime reservation %u+%u outlives its client on a socket that is not Wine's", res->start,
               res->count );
        CHECK( (res->owner == NULL) == list_empty( &res->owned_entry ),
               "runtime reservation %u+%u: its owner's list disagrees", res->start, res->count );
    }
    else CHECK( !res->sock && !res->owner, "persistent reservation %u+%u has an owner", res->start, res->count );
    CHECK( (res->kind == PORTRES_KIND_RUNTIME) == (res->holders != NULL),
           "reservation %u+%u: runtime ones hold their ports, persistent ones not", res->start, res->count );
    for (port = res->start; res->holders && port < (unsigned int)res->start + res->count; port++)
    {
        int handle = res->holders[port - res->start];
        CHECK( handle < 0 || engine->cb.hold_valid( engine->cb.ctx, handle, res->protocol, port ),
               "%s port %u of %u+%u: the host does not hold it", engine_protocol_name( res->protocol ), port,
               res->start, res->count );
    }
    LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry )
    {
        CHECK( sock->assoc == res, "association list of %u+%u is inconsistent", res->start, res->count );
        CHECK( sock_rec_known( engine, sock ), "association of %u+%u from an unknown socket",
               res->start, res->count );
    }
    return 1;
}

/* one socket record, with what hangs off it: every runtime reservation is
 * on the list of the socket that acquired it, and every association is on
 * the list of its reservation */
static int check_sock_rec( struct engine *engine, const struct sock_rec *sock, unsigned int *runtime,
                           unsigned int *assocs, char *error, size_t size )
{
    const struct reservation *res;
    const struct sock_rec *other;
    unsigned long long key = sock->entry.key;
    unsigned int found;

    CHECK( sock->assoc || !list_empty( &sock->reservations ), "socket %#llx is kept with nothing in it", key );
    CHECK( sock->wine || sock->client, "socket %#llx outlives its client but is not Wine's", key );
    CHECK( !sock->client || sock->client->wine == sock->wine, "socket %#llx: its kind is not its client's", key );
    CHECK( list_empty( &sock->client_entry ) == (!sock->wine || !sock->client),
           "socket %#llx: its client's list disagrees", key );
    LIST_FOR_EACH_ENTRY( res, &sock->reservations, struct reservation, owner_entry )
    {
        CHECK( res->kind == PORTRES_KIND_RUNTIME && res->sock == sock,
               "socket %#llx lists a reservation %u+%u that is not its own", key, res->start, res->count );
        CHECK( engine_find_reservation( engine, res->entry.key ) == res,
               "socket %#llx holds a reservation %u+%u that is not in the token table", key, res->start,
               res->count );
        (*runtime)++;
    }
    if (!sock->assoc)
    {
        CHECK( !sock->port, "socket %#llx has a port without an association", key );
        return 1;
    }
    CHECK( engine_find_reservation( engine, sock->assoc->entry.key ) == sock->assoc,
           "socket %#llx is associated with a dead reservation", key );
    found = 0;
    LIST_FOR_EACH_ENTRY( other, &sock->assoc->assocs, struct sock_rec, assoc_entry )
        if (other == sock) found++;
    CHECK( found == 1, "socket %#llx is %u times on the association list of %u+%u", key, found,
           sock->assoc->start, sock->assoc->count );
    CHECK( !sock->port || (sock->port >= sock->assoc->start && sock->port - sock->assoc->start < sock->assoc->count),
           "socket %#llx was given port %u outside its reservation %u+%u", key, sock->port, sock->assoc->start,
           sock->assoc->count );
    CHECK( !sock->port || !sock->assoc->holders || sock->assoc->holders[sock->port - sock->assoc->start] < 0,
           "socket %#llx was given port %u, which is still held", key, sock->port );
    (*assocs)++;
    return 1;
}

static int check_table( struct engine *engine, const struct hash_table *table, unsigned int *runtime,
                        unsigned int *assocs, char *error, size_t size )
{
    struct hash_entry *entry;
    unsigned int pos = 0;

    while ((entry = hash_next_bucket( table, &pos )))
        for (; entry; entry = entry->next)
            if (!check_sock_rec( engine, HASH_ENTRY( entry, struct sock_rec, entry ), runtime, assocs,
                                 error, size ))
                return 0;
    return 1;
}

/* a client's lists hold what is its own */
static int check_client( struct engine *engine, const struct engine_client *client, unsigned int *owned,
                         char *error, size_t size )
{
    const struct reservation *res;
    const struct sock_rec *sock;

    CHECK( client->engine == engine, "pid %u: the client belongs to another engine", client->pid );
    CHECK( !client->wine || !client->sockets.count, "pid %u: a Wine client with sockets of its own", client->pid );
    LIST_FOR_EACH_ENTRY( res, &client->owned, struct reservation, owned_entry )
    {
        CHECK( res->owner == client && res->kind == PORTRES_KIND_RUNTIME,
               "pid %u owns a reservation %u+%u that is not its own", client->pid, res->start, res->count );
        (*owned)++;
    }
    LIST_FOR_EACH_ENTRY( sock, &client->wine_sockets, struct sock_rec, client_entry )
        CHECK( sock->client == client && sock->wine, "pid %u lists socket %#llx that is not its own", client->pid,
               (unsigned long long)sock->entry.key );
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
            if (res) CHECK( engine_find_reservation( engine, res->entry.key ) == res && res->protocol == protocol,
                            "%s port %u points at an unknown reservation", engine_protocol_name( protocol ), port );
        }
    }
    return 1;
}

/* The invariants of the tables: reservations do not overlap and are found
 * by token, port and owner alike; every runtime reservation belongs to a
 * known socket, and to a live client or a Wine socket that outlived its
 * client; every association names a live reservation; the published map
 * equals the union of the tables. */
int engine_check( struct engine *engine, char *error, size_t size )
{
    const struct engine_client *client;
    const struct reservation *res;
    const struct sock_rec *sock;
    unsigned int pos = 0, total = 0, counted[ENGINE_NB_PROTOCOLS] = { 0, 0 };
    unsigned int runtime = 0, persistent = 0, held = 0, owned = 0, owned_runtime = 0, assocs = 0, listed_assocs = 0;
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
            if (res->owner) owned_runtime++;
            LIST_FOR_EACH_ENTRY( sock, &res->assocs, struct sock_rec, assoc_entry ) listed_assocs++;
            counted[res->protocol]++;
            total++;
        }
    }
    CHECK( total == engine->tokens.count, "token table holds %u entries, counted %u", engine->tokens.count, total );
    LIST_FOR_EACH_ENTRY( res, &engine->persistent, struct reservation, owner_entry )
    {
        CHECK( res->kind == PORTRES_KIND_PERSISTENT && engine_find_reservation( engine, res->entry.key ) == res,
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
    if (!check_table( engine, &engine->sockets, &held, &assocs, error, size )) return 0;
    LIST_FOR_EACH_ENTRY( client, &engine->clients, struct engine_client, entry )
    {
        if (!check_client( engine, client, &owned, error, size )) return 0;
        if (!check_table( engine, &client->sockets, &held, &assocs, error, size )) return 0;
    }
    CHECK( held == runtime, "the sockets hold %u runtime reservations, the token table %u", held, runtime );
    CHECK( owned == owned_runtime, "the clients own %u runtime reservations, the reservations name %u owners",
           owned, owned_runtime );
    CHECK( assocs == listed_assocs, "%u sockets are associated, the reservations list %u associations",
           assocs, listed_assocs );
    CHECK( engine->map->associations == assocs, "the map counts %u associations, the tables %u",
           engine->map->associations, assocs );
    return 1;
}

static void count_table( const struct hash_table *table, struct engine_stats *stats )
{
    struct hash_entry *entry;
    unsigned int pos = 0;

    while ((entry = hash_next_bucket( table, &pos )))
    {
        for (; entry; entry = entry->next)
        {
            stats->sockets++;
            if (HASH_ENTRY( entry, struct sock_rec, entry )->assoc) stats->associations++;
        }
    }
}

void engine_get_stats( struct engine *engine, struct engine_stats *stats )
{
    const struct engine_client *client;
    const struct reservation *res;
    struct hash_entry *entry;
    unsigned int pos = 0;

    memset( stats, 0, sizeof(*stats) );
    count_table( &engine->sockets, stats );
    LIST_FOR_EACH_ENTRY( client, &engine->clients, struct engine_client, entry )
    {
        stats->clients++;
        count_table( &client->sockets, stats );
    }
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
