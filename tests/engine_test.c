/*
 * Unit tests of the reservation engine
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
#include <string.h>

#include "testlib.h"
#include "../server/engine.h"

static unsigned char busy[ENGINE_NB_PROTOCOLS][65536];   /* ports "bound on the host" */
static uint64_t rng_state = 0x1234567;
static int colliding_rng;

static int fake_in_use( void *ctx, int protocol, unsigned short port )
{
    return busy[protocol][port];
}

static portres_token_t fake_token( void *ctx )
{
    if (colliding_rng)
    {
        /* 0 and repeats, which the engine must skip */
        static const portres_token_t seq[] = { 0, 7, 7, 0, 7, 9, 9, 11 };
        static unsigned int pos;
        if (pos < sizeof(seq) / sizeof(seq[0])) return seq[pos++];
    }
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* the Wine sockets (by inode) that have ended; -1 marks one the host cannot tell of */
static signed char socket_state[256];

static int fake_socket_alive( void *ctx, portres_socket_t socket )
{
    if (socket >= 256) return 1;
    return socket_state[socket] < 0 ? -1 : !socket_state[socket];
}

/* holds: ports in use cannot be held; every hold is counted until let go */
static unsigned int holds;

static int fake_hold( void *ctx, int protocol, unsigned short port )
{
    if (busy[protocol][port]) return ENGINE_HOLD_IN_USE;
    holds++;
    return protocol * 65536 + port;
}

static void fake_unhold( void *ctx, int handle, int protocol, unsigned short port )
{
    holds--;
}

static int fake_hold_valid( void *ctx, int handle, int protocol, unsigned short port )
{
    return handle == protocol * 65536 + port;
}

static const struct engine_callbacks callbacks = { fake_in_use, fake_token, fake_socket_alive, fake_hold,
                                                   fake_unhold, fake_hold_valid, NULL, NULL };

static struct engine *create( void )
{
    struct engine *engine = engine_create( &callbacks, NULL );
    check( engine != NULL, "engine_create failed" );
    return engine;
}

static void check_engine( struct engine *engine )
{
    char error[256];
    check( engine_check( engine, error, sizeof(error) ), "invariant broken: %s", error );
}

TEST(test_edges)
{
    struct engine *engine = create();
    struct engine_client *client = engine_client_create( engine, 100 );
    struct engine_info info;

    check( engine_acquire( client, ENGINE_TCP, 1, 1, 4, &info ) == STATUS_SUCCESS, "port 1 refused" );
    check( info.start == 1 && info.count == 1 && info.token, "port 1: got %u+%u", info.start, info.count );
    check( engine_acquire( client, ENGINE_TCP, 65535, 1, 4, &info ) == STATUS_SUCCESS, "port 65535 refused" );
    check( engine_acquire( client, ENGINE_TCP, 65535, 2, 4, &info ) == STATUS_INVALID_PARAMETER,
           "65535+2 accepted" );
    check( engine_acquire( client, ENGINE_TCP, 65000, 535, 4, &info ) == STATUS_SUCCESS,
           "65000+535 (up to the reserved 65535) refused" );
    check( engine_acquire( client, ENGINE_TCP, 64000, 1537, 4, &info ) == STATUS_INVALID_PARAMETER,
           "a range ending at 65536 accepted" );
    check( engine_acquire( client, ENGINE_TCP, 100, 0, 4, &info ) == STATUS_INVALID_PARAMETER, "count 0 accepted" );
    check( engine_acquire( client, ENGINE_TCP, 0, 0, 4, &info ) == STATUS_INVALID_PARAMETER,
           "wildcard count 0 accepted" );
    check( engine_acquire( client, ENGINE_TCP, 2, 65535, 4, &info ) == STATUS_INVALID_PARAMETER,
           "2+65535 accepted" );
    check( engine_acquire( client, ENGINE_UDP, 1, 65535, 4, &info ) == STATUS_SUCCESS, "all udp ports refused" );
    check( engine_persistent_create( engine, ENGINE_TCP, 0, 1, &info.token ) == STATUS_INVALID_PARAMETER,
           "persistent start 0 accepted" );
    check( engine_persistent_create( engine, ENGINE_TCP, 5, 0, &info.token ) == STATUS_INVALID_PARAMETER,
           "persistent count 0 accepted" );
    check( engine_persistent_create( engine, ENGINE_TCP, 65535, 1, &info.token ) == STATUS_SHARING_VIOLATION,
           "persistent over a runtime port accepted" );
    check_engine( engine );
    engine_destroy( engine );
}

TEST(test_overlaps)
{
    static const struct { unsigned int start, count; unsigned int status; } tests[] =
    {
        { 1000, 10, STATUS_SUCCESS },
        { 1000, 10, STATUS_ADDRESS_ALREADY_EXISTS },   /* same */
        { 995, 6, STATUS_ADDRESS_ALREADY_EXISTS },     /* ends on the first port */
        { 1009, 5, STATUS_ADDRESS_ALREADY_EXISTS },    /* starts on the last port */
        { 1003, 2, STATUS_ADDRESS_ALREADY_EXISTS },    /* inside */
        { 990, 30, STATUS_ADDRESS_ALREADY_EXISTS },    /* around */
        { 995, 5, STATUS_SUCCESS },                    /* just before */
        { 1010, 5, STATUS_SUCCESS },                   /* just after */
    };
    struct engine *engine = create();
    struct engine_client *a = engine_client_create( engine, 100 ), *b = engine_client_create( engine, 200 );
    struct engine_info info;
    portres_token_t token;
    unsigned int i, status;

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
    {
        status = engine_acquire( i % 2 ? b : a, ENGINE_TCP, tests[i].start, tests[i].count, 8, &info );
        check( status == tests[i].status, "%u: %u+%u: status %#x, expected %#x", i, tests[i].start,
               tests[i].count, status, tests[i].status );
        check_engine( engine );
    }
    /* other protocol: independent */
    check( engine_acquire( a, ENGINE_UDP, 1000, 10, 8, &info ) == STATUS_SUCCESS, "udp blocked by tcp" );
    /* persistent ones collide with runtime ones and each other */
    check( engine_persistent_create( engine, ENGINE_TCP, 1005, 1, &token ) == STATUS_SHARING_VIOLATION,
           "persistent inside runtime accepted" );
    check( engine_persistent_create( engine, ENGINE_TCP, 2000, 10, &token ) == STATUS_SUCCESS, "persistent refused" );
    check( engine_persistent_create( engine, ENGINE_TCP, 2009, 10, &token ) == STATUS_SHARING_VIOLATION,
           "overlapping persistent accepted" );
    check( engine_acquire( b, ENGINE_TCP, 1995, 6, 8, &info ) == STATUS_ADDRESS_ALREADY_EXISTS,
           "runtime over persistent accepted" );
    /* ports bound on the host */
    busy[ENGINE_TCP][3005] = 1;
    check( engine_acquire( a, ENGINE_TCP, 3000, 10, 8, &info ) == STATUS_ADDRESS_ALREADY_EXISTS,
           "range with a bound port accepted" );
    check( engine_persistent_create( engine, ENGINE_TCP, 3000, 10, &token ) == STATUS_SHARING_VIOLATION,
           "persistent range with a bound port accepted" );
    check( engine_acquire( a, ENGINE_UDP, 3000, 10, 8, &info ) == STATUS_SUCCESS, "udp blocked by a tcp bind" );
    busy[ENGINE_TCP][3005] = 0;
    check_engine( engine );
    engine_destroy( engine );
}

TEST(test_wildcard)
{
    struct engine *engine = create();
    struct engine_client *client = engine_client_create( engine, 100 );
    struct engine_info info;
    unsigned short start, count;
    unsigned int i, port;
    struct test_tally acquires = { 0 }, inside = { 0 };

    engine_get_dynamic_range( engine, ENGINE_TCP, &start, &count );
    check( start == 49152 && count == 16384, "default range %u+%u", start, count );
    check( engine_acquire( client, ENGINE_TCP, 0, 100, 4, &info ) == STATUS_SUCCESS, "wildcard refused" );
    check( info.start == 49152 && info.count == 100, "got %u+%u", info.start, info.count );

    /* fragment a small range: one-port holes that a block of 3 cannot use */
    check( engine_set_dynamic_range( engine, ENGINE_UDP, 20000, 300 ) == STATUS_SUCCESS, "set range refused" );
    for (port = 20000; port < 20290; port += 3)
        tally( &acquires, engine_acquire( client, ENGINE_UDP, port, 2, 8, &info ) == STATUS_SUCCESS, "%u refused",
               port );
    check_tally( &acquires, "acquires of 2 ports every 3" );
    check_engine( engine );
    /* 20290..20299 is the only room for 3; 20290, 20291 are bound on the host */
    busy[ENGINE_UDP][20291] = 1;
    check( engine_acquire( client, ENGINE_UDP, 0, 3, 8, &info ) == STATUS_SUCCESS, "wildcard 3 refused" );
    check( info.start == 20292, "wildcard 3 got %u", info.start );
    check( engine_acquire( client, ENGINE_UDP, 0, 1, 8, &info ) == STATUS_SUCCESS, "wildcard 1 refused" );
    check( info.start == 20002, "wildcard 1 got %u, expected the first hole", info.start );
    check( engine_acquire( client, ENGINE_UDP, 0, 6, 8, &info ) == STATUS_ADDRESS_ALREADY_EXISTS,
           "wildcard 6 got %u+%u", info.start, info.count );
    busy[ENGINE_UDP][20291] = 0;
    /* wildcard blocks never leave the dynamic range */
    for (i = 0; i < 200; i++)
    {
        if (engine_acquire( client, ENGINE_UDP, 0, 1, 8, &info )) break;
        tally( &inside, info.start >= 20000 && info.start < 20300, "got %u outside the range", info.start );
    }
    check_tally( &inside, "wildcard blocks inside the dynamic range" );
    check( i < 200, "the range never filled up" );
    check( engine_set_dynamic_range( engine, ENGINE_TCP, 1024, 1000 ) == STATUS_INVALID_PARAMETER, "start 1024" );
    check( engine_set_dynamic_range( engine, ENGINE_TCP, 2000, 254 ) == STATUS_INVALID_PARAMETER, "254 ports" );
    check( engine_set_dynamic_range( engine, ENGINE_TCP, 65000, 600 ) == STATUS_INVALID_PARAMETER, "past 65535" );
    check( engine_set_dynamic_range( engine, ENGINE_TCP, 65281, 255 ) == STATUS_SUCCESS, "65281+255 refused" );
    check_engine( engine );
    engine_destroy( engine );
}

static int cmp_token( const void *a, const void *b )
{
    portres_token_t x = *(const portres_token_t *)a, y = *(const portres_token_t *)b;
    return x < y ? -1 : x > y;
}

TEST(test_tokens)
{
    enum { N = 20000 };
    struct engine *engine;
    struct engine_client *client;
    struct engine_info info;
    portres_token_t *tokens = malloc( N * sizeof(*tokens) );
    struct test_tally granted = { 0 }, unique = { 0 };
    unsigned int i;

    colliding_rng = 1;
    engine = create();
    client = engine_client_create( engine, 100 );
    for (i = 0; i < N; i++)
    {
        unsigned int status = i % 2 ? engine_acquire( client, ENGINE_TCP, 1 + i, 1, i, &info )
                                    : engine_persistent_create( engine, ENGINE_UDP, 1 + i, 1, &info.token );
        tally( &granted, status == STATUS_SUCCESS, "%u: status %#x", i, status );
        tokens[i] = info.token;
    }
    check_tally( &granted, "acquires and persistent creates" );
    qsort( tokens, N, sizeof(*tokens), cmp_token );
    check( tokens[0] != 0, "token 0 handed out" );
    for (i = 1; i < N; i++) tally( &unique, tokens[i] != tokens[i - 1], "token %#llx handed out twice",
                                   (unsigned long long)tokens[i] );
    check_tally( &unique, "tokens different from the one before in order" );
    check_engine( engine );
    engine_destroy( engine );
    free( tokens );
}

TEST(test_release_and_ownership)
{
    struct engine *engine = create();
    struct engine_client *a = engine_client_create( engine, 100 ), *b = engine_client_create( engine, 200 );
    struct engine_info info, other;
    portres_token_t persistent;

    check( engine_acquire( a, ENGINE_TCP, 5000, 10, 0x10, &info ) == STATUS_SUCCESS, "acquire refused" );
    check( engine_release( b, info.token ) == STATUS_INVALID_PARAMETER, "b released a's token" );
    check( engine_associate( b, ENGINE_TCP, 0x10, info.token, 1, &other ) == STATUS_INVALID_PARAMETER,
           "b associated a's token" );
    check( engine_release( a, 12345 ) == STATUS_INVALID_PARAMETER, "unknown token released" );
    check( engine_persistent_create( engine, ENGINE_TCP, 6000, 5, &persistent ) == STATUS_SUCCESS, "persistent" );
    check( engine_release( a, persistent ) == STATUS_INVALID_PARAMETER, "persistent token released" );
    /* another socket of the same process may release */
    check( engine_release( a, info.token ) == STATUS_SUCCESS, "release from another socket refused" );
    check( engine_release( a, info.token ) == STATUS_INVALID_PARAMETER, "released twice" );
    check( !engine_query_port( engine, a, ENGINE_TCP, 5005, &other ), "port still reserved" );
    check_engine( engine );

    /* what a client owned goes with it; persistent stays */
    check( engine_acquire( a, ENGINE_TCP, 5000, 10, 0x10, &info ) == STATUS_SUCCESS, "re-acquire refused" );
    check( engine_acquire( a, ENGINE_UDP, 0, 10, 0x14, &info ) == STATUS_SUCCESS, "wildcard refused" );
    check( engine_associate( a, ENGINE_TCP, 0x18, persistent, 1, &other ) == STATUS_SUCCESS, "assoc refused" );
    engine_client_destroy( a );
    check( engine_count( engine, ENGINE_TCP ) == 1 && engine_count( engine, ENGINE_UDP ) == 0,
           "left after the client: %u tcp, %u udp", engine_count( engine, ENGINE_TCP ),
           engine_count( engine, ENGINE_UDP ) );
    check_engine( engine );
    engine_destroy( engine );
}

TEST(test_associate_and_bind)
{
    struct engine *engine = create();
    struct engine_client *a = engine_client_create( engine, 100 ), *b = engine_client_create( engine, 200 );
    struct engine_info info, tmp;
    portres_token_t persistent;
    unsigned short port;
    int associated;

    check( engine_acquire( a, ENGINE_UDP, 7000, 3, 0x10, &info ) == STATUS_SUCCESS, "acquire refused" );
    check( engine_associate( a, ENGINE_TCP, 0x20, info.token, 1, &tmp ) == STATUS_INVALID_PARAMETER,
           "tcp socket associated with a udp reservation" );
    check( engine_associate( a, ENGINE_UDP, 0x20, info.token, 1, &tmp ) == STATUS_SUCCESS, "associate refused" );
    check( engine_associate( a, ENGINE_UDP, 0x24, info.token, 0, &tmp ) == STATUS_SUCCESS,
           "runtime associate needs no elevation" );
    check( engine_associate( a, ENGINE_UDP, 0x28, info.token, 1, &tmp ) == STATUS_SUCCESS, "third refused" );
    check( engine_associate( a, ENGINE_UDP, 0x2c, info.token, 1, &tmp ) == STATUS_SUCCESS, "fourth refused" );

    /* the reservation's ports are held; port 0 takes the lowest one not given yet */
    check( holds == 3, "%u ports held", holds );
    check( engine_bind_port( a, ENGINE_UDP, 0x20, 0, &port, &associated ) == STATUS_SUCCESS && port == 7000 &&
           associated, "first bind got %u", port );
    check( holds == 2, "the hold of the port given stays: %u held", holds );
    check( engine_bind_port( a, ENGINE_UDP, 0x24, 0, &port, &associated ) == STATUS_SUCCESS && port == 7001,
           "second bind got %u", port );
    check( engine_bind_port( a, ENGINE_UDP, 0x28, 0, &port, &associated ) == STATUS_SUCCESS && port == 7002,
           "third bind got %u", port );
    check( engine_bind_port( a, ENGINE_UDP, 0x2c, 0, &port, &associated ) == STATUS_ADDRESS_ALREADY_EXISTS,
           "fourth bind got %u", port );
    check( !holds, "%u ports held with all given", holds );
    /* a socket's end gives its port back to the hold; one that somebody took meanwhile is skipped */
    check( engine_socket_closed( a, 0x28 ) == 0 && holds == 1, "port 7002 not held again: %u held", holds );
    busy[ENGINE_UDP][7001] = 1;
    check( engine_socket_closed( a, 0x24 ) == 0 && holds == 1, "a port in use held: %u held", holds );
    check( engine_associate( a, ENGINE_UDP, 0x24, info.token, 1, &tmp ) == STATUS_SUCCESS, "associate again" );
    check( engine_bind_port( a, ENGINE_UDP, 0x24, 0, &port, &associated ) == STATUS_SUCCESS && port == 7002,
           "a bind after the port in use got %u", port );
    busy[ENGINE_UDP][7001] = 0;
    check( engine_associate( a, ENGINE_UDP, 0x28, info.token, 1, &tmp ) == STATUS_SUCCESS, "associate again" );
    check( engine_bind_port( a, ENGINE_UDP, 0x28, 7002, &port, &associated ) == STATUS_SUCCESS && port == 7002,
           "explicit port inside refused" );
    check( engine_bind_port( a, ENGINE_UDP, 0x2c, 7003, &port, &associated ) == STATUS_INVALID_PARAMETER,
           "explicit port outside accepted" );
    check( engine_bind_port( a, ENGINE_UDP, 0x2c, 6999, &port, &associated ) == STATUS_INVALID_PARAMETER,
           "explicit port below accepted" );

    /* ordinary sockets: port 0 is the system's, runtime ports are refused, the own process's too */
    check( engine_bind_port( a, ENGINE_UDP, 0x99, 0, &port, &associated ) == STATUS_SUCCESS && !port && !associated,
           "ordinary port 0: %u", port );
    check( engine_bind_port( a, ENGINE_UDP, 0x99, 7001, &port, &associated ) == STATUS_ACCESS_DENIED,
           "own runtime port accepted" );
    check( engine_bind_port( b, ENGINE_UDP, 0x10, 7001, &port, &associated ) == STATUS_ACCESS_DENIED,
           "foreign runtime port accepted" );
    check( engine_bind_port( b, ENGINE_TCP, 0x10, 7001, &port, &associated ) == STATUS_SUCCESS && port == 7001,
           "tcp bind blocked by a udp reservation" );
    check( engine_persistent_create( engine, ENGINE_UDP, 8000, 2, &persistent ) == STATUS_SUCCESS, "persistent" );
    check( engine_bind_port( b, ENGINE_UDP, 0x10, 8001, &port, &associated ) == STATUS_SUCCESS && port == 8001,
           "bind into a persistent reservation refused" );

    /* persistent tokens need elevation */
    check( engine_associate( b, ENGINE_UDP, 0x30, persistent, 0, &tmp ) == STATUS_ACCESS_DENIED,
           "persistent associate without elevation" );
    check( engine_associate( b, ENGINE_UDP, 0x30, persistent, 1, &tmp ) == STATUS_SUCCESS, "persistent associate" );
    check( tmp.kind == PORTRES_KIND_PERSISTENT && tmp.start == 8000 && tmp.count == 2, "assoc info" );
    check_engine( engine );

    /* closing the acquiring socket releases the reservation and drops its associations */
    check( engine_socket_closed( a, 0x10 ) == 1, "socket close released nothing" );
    check( engine_bind_port( a, ENGINE_UDP, 0x20, 0, &port, &associated ) == STATUS_SUCCESS && !associated,
           "association survived its reservation" );
    check( engine_socket_closed( a, 0x10 ) == 0, "released twice" );
    /* deleting the persistent one drops b's association */
    check( engine_persistent_delete( engine, ENGINE_UDP, 8000, 2, &persistent ) == STATUS_SUCCESS, "delete" );
    check( engine_bind_port( b, ENGINE_UDP, 0x30, 0, &port, &associated ) == STATUS_SUCCESS && !associated,
           "association survived deletion" );
    check_engine( engine );
    engine_destroy( engine );
}

TEST(test_persistent)
{
    struct engine *engine = create();
    struct engine_client *client = engine_client_create( engine, 100 );
    struct engine_info info;
    portres_token_t token, found;

    check( engine_persistent_create( engine, ENGINE_TCP, 47000, 8, &token ) == STATUS_SUCCESS, "create" );
    check( engine_persistent_lookup( engine, ENGINE_TCP, 47000, 8, &found ) == STATUS_SUCCESS && found == token,
           "lookup" );
    check( engine_persistent_lookup( engine, ENGINE_TCP, 47000, 7, &found ) == STATUS_NOT_FOUND, "inexact lookup" );
    check( engine_persistent_lookup( engine, ENGINE_TCP, 47001, 7, &found ) == STATUS_NOT_FOUND, "inexact lookup 2" );
    check( engine_persistent_lookup( engine, ENGINE_UDP, 47000, 8, &found ) == STATUS_NOT_FOUND, "udp lookup" );
    check( engine_persistent_delete( engine, ENGINE_TCP, 47000, 9, &found ) == STATUS_NOT_FOUND, "inexact delete" );
    check( engine_acquire( client, ENGINE_TCP, 48000, 4, 4, &info ) == STATUS_SUCCESS, "acquire" );
    check( engine_persistent_lookup( engine, ENGINE_TCP, 48000, 4, &found ) == STATUS_NOT_FOUND,
           "lookup of a runtime reservation" );
    check( engine_persistent_delete( engine, ENGINE_TCP, 48000, 4, &found ) == STATUS_ACCESS_DENIED,
           "delete of a runtime reservation" );
    check( engine_query_port( engine, NULL, ENGINE_TCP, 47003, &info ) && info.kind == PORTRES_KIND_PERSISTENT &&
           info.token == token && !info.owner_pid, "query of a persistent port" );
    check( engine_query_port( engine, NULL, ENGINE_TCP, 48001, &info ) && info.kind == PORTRES_KIND_RUNTIME &&
           !info.token && info.owner_pid == 100, "query of a foreign runtime port shows its token" );
    check( engine_persistent_add( engine, ENGINE_UDP, 100, 1, token ) == STATUS_INVALID_PARAMETER,
           "duplicate token loaded" );
    check( engine_persistent_delete( engine, ENGINE_TCP, 47000, 8, &found ) == STATUS_SUCCESS && found == token,
           "delete" );
    check( engine_persistent_lookup( engine, ENGINE_TCP, 47000, 8, &found ) == STATUS_NOT_FOUND, "deleted" );
    check_engine( engine );
    engine_destroy( engine );
}

static int count_entry( void *ctx, const struct engine_info *info )
{
    struct test_tally *seen = ctx;
    tally( seen, info->start == 10 + 3 * seen->count, "entry %u starts at %u", seen->count, info->start );
    return 0;
}

/* Wine sockets: named by inode from any process, alive as long as the host
 * says, whatever happens to the processes that named them */
TEST(test_wine_sockets)
{
    struct engine *engine = create();
    struct engine_client *a = engine_client_create( engine, 100 ), *b = engine_client_create( engine, 200 );
    struct engine_client *native = engine_client_create( engine, 300 );
    struct engine_info info, other;
    unsigned short port;
    int associated;

    memset( socket_state, 0, sizeof(socket_state) );
    check( engine_client_set_wine( a ) == STATUS_SUCCESS && engine_client_set_wine( b ) == STATUS_SUCCESS,
           "wine clients refused" );
    check( engine_acquire( native, ENGINE_TCP, 3000, 2, 40, &info ) == STATUS_SUCCESS, "native acquire" );
    check( engine_client_set_wine( native ) == STATUS_INVALID_PARAMETER, "a client with sockets became wine" );

    /* a closesocket of one handle while another handle lives changes nothing */
    check( engine_acquire( a, ENGINE_TCP, 4000, 4, 41, &info ) == STATUS_SUCCESS, "acquire on socket 41" );
    check( engine_socket_closed( a, 41 ) == 0, "released while the socket lives" );
    check( engine_query_port( engine, b, ENGINE_TCP, 4001, &other ) && other.kind == PORTRES_KIND_RUNTIME,
           "the reservation went with a handle" );
    /* a duplicate in another process names the same socket */
    check( engine_associate( b, ENGINE_TCP, 41, info.token, 1, &other ) == STATUS_INVALID_PARAMETER,
           "another process used the token" );
    check( engine_associate( a, ENGINE_TCP, 42, info.token, 1, &other ) == STATUS_SUCCESS, "associate 42" );
    check( engine_bind_port( b, ENGINE_TCP, 42, 0, &port, &associated ) == STATUS_SUCCESS && associated &&
           port == 4000, "process b's handle of socket 42 binds %u, associated %d", port, associated );
    check_engine( engine );

    /* the client goes, the socket lives on in another process */
    engine_client_destroy( a );
    check_engine( engine );
    check( engine_query_port( engine, b, ENGINE_TCP, 4000, &other ) && other.owner_pid == 100 && !other.is_mine,
           "the reservation of a live socket went with its process" );
    check( engine_acquire( b, ENGINE_TCP, 4002, 1, 43, &other ) == STATUS_ADDRESS_ALREADY_EXISTS,
           "an orphan's range granted again" );
    check( engine_release( b, info.token ) == STATUS_INVALID_PARAMETER, "another process released it" );

    /* the socket ends without a word: whoever looks sees it gone */
    socket_state[41] = 1;
    check( engine_acquire( b, ENGINE_TCP, 4002, 1, 43, &other ) == STATUS_SUCCESS,
           "the range of an ended socket is still reserved for an acquire" );
    check( !engine_query_port( engine, b, ENGINE_TCP, 4000, &other ), "port 4000 still reserved" );
    check( engine_bind_port( b, ENGINE_TCP, 42, 0, &port, &associated ) == STATUS_SUCCESS && !associated,
           "socket 42 still associated with a released reservation" );
    check_engine( engine );

    /* a host that cannot tell keeps the reservation */
    check( engine_acquire( b, ENGINE_UDP, 5000, 1, 44, &info ) == STATUS_SUCCESS, "acquire on socket 44" );
    socket_state[44] = -1;
    check( engine_socket_closed( b, 44 ) == 0 && engine_sweep( engine ) == 0, "released what may live" );
    socket_state[44] = 1;
    check( engine_sweep( engine ) == 1, "the sweep did not find the ended socket" );
    check( !engine_query_port( engine, b, ENGINE_UDP, 5000, &other ), "udp 5000 still reserved" );

    /* the wildcard acquire that needs an ended socket's ports gets them */
    check( engine_acquire( b, ENGINE_TCP, 0, 16384, 45, &info ) == STATUS_SUCCESS, "the whole range" );
    socket_state[45] = 1;
    check( engine_acquire( b, ENGINE_TCP, 0, 10, 46, &other ) == STATUS_SUCCESS && other.start == 49152,
           "a wildcard acquire did not get the ended socket's ports (%u)", other.start );
    check_engine( engine );

    /* the native client's sockets are its own names, and die with it */
    check( engine_query_port( engine, native, ENGINE_TCP, 3000, &other ), "native reservation missing" );
    engine_client_destroy( native );
    check( !engine_query_port( engine, b, ENGINE_TCP, 3000, &other ), "native reservation outlived its client" );
    engine_client_destroy( b );
    check_engine( engine );
    engine_destroy( engine );
    check( !holds, "%u ports still held after the engine went", holds );
    memset( socket_state, 0, sizeof(socket_state) );
}

TEST(test_enum)
{
    struct engine *engine = create();
    struct engine_client *client = engine_client_create( engine, 100 );
    struct engine_info info;
    struct test_tally acquires = { 0 }, seen = { 0 };
    unsigned int i;

    for (i = 0; i < 20000; i++)
        tally( &acquires, engine_acquire( client, ENGINE_TCP, 10 + 3 * i, 2, i / 7, &info ) == STATUS_SUCCESS,
               "acquire %u", i );
    check_tally( &acquires, "acquires" );
    engine_enum( engine, client, ENGINE_TCP, 0, count_entry, &seen );
    check_tally( &seen, "entries listed in order" );
    check( seen.count == 20000, "listed %u", seen.count );
    check( engine_count( engine, ENGINE_TCP ) == 20000, "counted %u", engine_count( engine, ENGINE_TCP ) );
    for (i = 0; i < 20000 / 7 + 1; i++) engine_socket_closed( client, i );
    check( engine_count( engine, ENGINE_TCP ) == 0, "left %u", engine_count( engine, ENGINE_TCP ) );
    check_engine( engine );
    engine_destroy( engine );
}

/* the lowest fit as a plain walk over every port, for test_wildcard_model */
static int naive_fit( const unsigned char *taken, unsigned int start, unsigned int end, unsigned int count )
{
    unsigned int port, run = 0;

    for (port = start; port < end; port++)
    {
        run = taken[port] ? 0 : run + 1;
        if (run == count) return port - count + 1;
    }
    return -1;
}

/* wildcard blocks of every size against a model, in ranges fragmented at
 * random, with ports in use on the host among them */
TEST(test_wildcard_model)
{
    static const unsigned int counts[] = { 1, 2, 3, 7, 31, 63, 64, 65, 100, 127, 128, 129, 300 };
    static unsigned char taken[65536];
    struct engine *engine = create();
    struct engine_client *client = engine_client_create( engine, 100 );
    struct engine_info info;
    struct test_tally setup = { 0 }, fits = { 0 }, invariants = { 0 };
    unsigned int round, i, port, dyn_start, dyn_end;
    char error[256];
    int expect;

    for (round = 0; round < 40; round++)
    {
        unsigned int density = 1 + fake_token( NULL ) % 97;  /* percent of ports taken */

        engine_client_destroy( client );
        client = engine_client_create( engine, 100 + round );
        memset( taken, 0, sizeof(taken) );
        memset( busy[ENGINE_TCP], 0, sizeof(busy[ENGINE_TCP]) );
        dyn_start = 2000 + fake_token( NULL ) % 50000;
        dyn_end = dyn_start + 255 + fake_token( NULL ) % (65536 - dyn_start - 255);
        tally( &setup, engine_set_dynamic_range( engine, ENGINE_TCP, dyn_start, dyn_end - dyn_start ) == STATUS_SUCCESS,
               "round %u: set range %u-%u", round, dyn_start, dyn_end - 1 );
        for (port = dyn_start; port < dyn_end; port++)
        {
            if (fake_token( NULL ) % 100 >= density) continue;
            if (fake_token( NULL ) % 4 == 0) busy[ENGINE_TCP][port] = 1;
            else tally( &setup, engine_acquire( client, ENGINE_TCP, port, 1, 1, &info ) == STATUS_SUCCESS,
                        "round %u: acquire of port %u", round, port );
            taken[port] = 1;
        }
        for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        {
            unsigned int status;

            expect = naive_fit( taken, dyn_start, dyn_end, counts[i] );
            status = engine_acquire( client, ENGINE_TCP, 0, counts[i], 2, &info );
            if (expect < 0) tally( &fits, status == STATUS_ADDRESS_ALREADY_EXISTS, "round %u: %u ports: status "
                                   "%#x, expected none", round, counts[i], status );
            else
            {
                tally( &fits, status == STATUS_SUCCESS && info.start == expect && info.count == counts[i],
                       "round %u (%u%% taken): %u ports: status %#x at %u, expected %d", round, density,
                       counts[i], status, info.start, expect );
                if (!status) engine_release( client, info.token );
            }
        }
        tally( &invariants, engine_check( engine, error, sizeof(error) ), "round %u: invariant broken: %s", round,
               error );
    }
    check_tally( &setup, "range settings and acquires of the fragments" );
    check_tally( &fits, "wildcard acquires, each against the model's lowest fit" );
    check_tally( &invariants, "rounds' invariants" );
    memset( busy[ENGINE_TCP], 0, sizeof(busy[ENGINE_TCP]) );
    engine_destroy( engine );
}

static void check_stats( struct engine *engine, const struct engine_stats *expect, int line )
{
    struct engine_stats stats;

    engine_get_stats( engine, &stats );
    check( !memcmp( &stats, expect, sizeof(stats) ), "line %d: stats: %u clients, %u sockets, %u associations, "
           "tcp %u+%u, udp %u+%u", line, stats.clients, stats.sockets, stats.associations,
           stats.reservations[ENGINE_TCP][0], stats.reservations[ENGINE_TCP][1], stats.reservations[ENGINE_UDP][0],
           stats.reservations[ENGINE_UDP][1] );
}

/* the checker finds a map that differs from the tables, and the counts
 * show that nothing of a destroyed client remains */
TEST(test_check_and_stats)
{
    static struct portres_map map;
    struct engine *engine = engine_create( &callbacks, &map );
    struct engine_client *a = engine_client_create( engine, 100 ), *b = engine_client_create( engine, 200 );
    struct engine_stats expect;
    struct engine_info info, tmp;
    portres_token_t persistent;
    char error[256];

    memset( &expect, 0, sizeof(expect) );
    expect.clients = 2;
    check_stats( engine, &expect, __LINE__ );
    check( engine_acquire( a, ENGINE_TCP, 3000, 4, 0x10, &info ) == STATUS_SUCCESS, "acquire" );
    check( engine_acquire( a, ENGINE_TCP, 3010, 1, 0x10, &tmp ) == STATUS_SUCCESS, "acquire" );
    check( engine_acquire( a, ENGINE_UDP, 3000, 2, 0x14, &tmp ) == STATUS_SUCCESS, "acquire" );
    check( engine_associate( a, ENGINE_TCP, 0x18, info.token, 1, &tmp ) == STATUS_SUCCESS, "associate" );
    check( engine_persistent_create( engine, ENGINE_UDP, 4000, 8, &persistent ) == STATUS_SUCCESS, "create" );
    check( engine_associate( b, ENGINE_UDP, 0x10, persistent, 1, &tmp ) == STATUS_SUCCESS, "associate" );
    expect.sockets = 4;
    expect.associations = 2;
    expect.reservations[ENGINE_TCP][0] = 2;
    expect.reservations[ENGINE_UDP][0] = 1;
    expect.reservations[ENGINE_UDP][1] = 1;
    check_stats( engine, &expect, __LINE__ );
    check_engine( engine );

    /* a bit of the map that the tables do not have, and one missing */
    map.reserved[ENGINE_TCP][5000 / 64] |= (uint64_t)1 << (5000 % 64);
    check( !engine_check( engine, error, sizeof(error) ) && strstr( error, "tcp port 5000" ),
           "an extra bit of the map passed: %s", error );
    map.reserved[ENGINE_TCP][5000 / 64] &= ~((uint64_t)1 << (5000 % 64));
    map.runtime[ENGINE_UDP][3001 / 64] &= ~((uint64_t)1 << (3001 % 64));
    check( !engine_check( engine, error, sizeof(error) ) && strstr( error, "udp port 3001" ),
           "a missing runtime bit passed: %s", error );
    map.runtime[ENGINE_UDP][3001 / 64] |= (uint64_t)1 << (3001 % 64);
    map.generation++;
    check( !engine_check( engine, error, sizeof(error) ) && strstr( error, "odd" ), "an odd generation passed" );
    map.generation++;
    check_engine( engine );

    /* a client that goes leaves nothing; the persistent association of b stays */
    engine_client_destroy( a );
    memset( &expect, 0, sizeof(expect) );
    expect.clients = 1;
    expect.sockets = 1;
    expect.associations = 1;
    expect.reservations[ENGINE_UDP][1] = 1;
    check_stats( engine, &expect, __LINE__ );
    check_engine( engine );
    engine_client_destroy( b );
    expect.clients = expect.sockets = expect.associations = 0;
    check_stats( engine, &expect, __LINE__ );
    check_engine( engine );
    engine_destroy( engine );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_edges);
    RUN(test_overlaps);
    RUN(test_wildcard);
    RUN(test_wildcard_model);
    RUN(test_tokens);
    RUN(test_release_and_ownership);
    RUN(test_associate_and_bind);
    RUN(test_persistent);
    RUN(test_wine_sockets);
    RUN(test_enum);
    RUN(test_check_and_stats);
    return test_summary();
}
