/*
 * Load and fault test of the server: 64 client processes send random
 * requests while the test kills some of them, and in one phase the server
 * itself, at random moments; after each phase an external checker must find
 * every reservation accounted for
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

/*
 * Each client process keeps, in memory shared with the test, what it owns:
 * its runtime reservations and the associations of its sockets.  Only a
 * client itself changes its runtime reservations, so it checks every answer
 * about them (queries, lists, binds, socket closes) against that record.
 * Persistent reservations live in a small range of slots that every client
 * creates and deletes; the successes are counted per slot, and a change
 * whose answer was lost (its client killed, or the server killed, while it
 * was in flight) widens what the slot may hold at the end.
 *
 * At the end of a phase the clients stop between requests and hold still,
 * and the checker compares: the server's own check_state; the listed
 * reservations (no overlap, each runtime one of a live client and exactly
 * the ones that client says it holds, the counts of check_state); the
 * shared map bit for bit; the persistent slots against the counted
 * successes; the store file against the listing.  Then half the clients are
 * killed and half exit, and once the server has seen them go no runtime
 * reservation, socket or association may remain.
 *
 * PORTRES_LOAD_SECONDS (default 3) is the length of a phase,
 * PORTRES_LOAD_ROUNDS (default 2) the number of phases that kill clients
 * only, PORTRES_LOAD_SERVER_KILLS (default 3) the number of server kills in
 * the last phase, PORTRES_LOAD_SEED repeats a run.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

#define NB_CLIENTS      64
#define NB_SOCKETS      6         /* socket handles of a client */
#define MAX_HELD        24        /* runtime reservations a client holds at most */
#define BOARD_SIZE      256       /* tokens clients show each other */
#define REQUEST_TIMEOUT 30        /* seconds a request may take before its client counts as hung */
#define WAIT_MS         30000     /* bounded waits of the checker */
#define MAX_SERVER_KILLS 64

/* port ranges, away from Linux's automatic range (32768-60999) */
#define DYN_START       20000     /* the dynamic range, for wildcard acquires */
#define DYN_COUNT       1000
#define SPECIFIC_BASE   21000     /* specific acquires start in SPECIFIC_BASE + [0, SPECIFIC_SPAN) */
#define SPECIFIC_SPAN   1900
#define MAX_ACQUIRE     8
#define SLOT_BASE       23000     /* persistent slot i is SLOT_BASE + SLOT_PORTS * i, SLOT_PORTS ports */
#define SLOT_PORTS      4
#define NB_SLOTS        32
#define ANCHOR_BASE     23500     /* persistent reservations of the test itself */
#define NB_ANCHORS      8

enum { CMD_RUN, CMD_PAUSE, CMD_EXIT };
enum { OP_CREATE = 1, OP_DELETE };
enum { ASSOC_NONE, ASSOC_OWN, ASSOC_PERSISTENT };

static const unsigned int protocols[2] = { PORTRES_PROTO_TCP, PORTRES_PROTO_UDP };
static const char * const protocol_names[2] = { "tcp", "udp" };

struct held
{
    portres_token_t  token;
    unsigned int     protocol;    /* index */
    unsigned short   start;
    unsigned short   count;
    unsigned int     socket;      /* index */
};

struct sock_state
{
    unsigned int     assoc;       /* ASSOC_* */
    unsigned int     protocol;    /* of the association */
    portres_token_t  token;
    unsigned short   start;
    unsigned short   count;
    unsigned short   given;       /* ASSOC_OWN: the port its last bind was given, 0 if none */
};

/* what one client process shares with the test */
struct client_slot
{
    pid_t              pid;
    int                paused;       /* holds still: held and socks are what it owns */
    unsigned int       nb_held;
    struct held        held[MAX_HELD];
    struct sock_state  socks[NB_SOCKETS];
    int                inflight;     /* persistent change in flight: OP_* << 16 | protocol << 8 | slot */
    unsigned long long requests;
    unsigned long long resets;       /* answers CONNECTION_RESET or CONNECTION_REFUSED: errors */
    unsigned int       failures;
    char               failure[256]; /* the first one */
};

struct shared
{
    int                command;      /* CMD_* */
    int                server_kills; /* the server may die in this phase */
    unsigned int       created[2][NB_SLOTS];
    unsigned int       deleted[2][NB_SLOTS];
    unsigned int       maybe_created[2][NB_SLOTS];   /* outcome unknown */
    unsigned int       maybe_deleted[2][NB_SLOTS];
    portres_token_t    board[BOARD_SIZE];            /* runtime tokens */
    portres_token_t    persistent_board[BOARD_SIZE];
    struct client_slot clients[NB_CLIENTS];
};

static struct shared *shared;
static struct client_slot *self;

/* the test's own records */
static unsigned int phase_seconds = 3, rounds = 2, server_kill_target = 3;
static unsigned long long base_seed;
static portres_token_t anchors[2][NB_ANCHORS];
static unsigned int checks;   /* individual facts the checker verified */
static char store_path[PORTRES_PATH_MAX + 64];
static char lock_path[PORTRES_PATH_MAX + 64];

static unsigned int env_number( const char *name, unsigned int def )
{
    const char *env = getenv( name );
    return env && *env ? strtoul( env, NULL, 0 ) : def;
}

static portres_socket_t socket_handle( unsigned int index )
{
    return 0x100 + 4 * index;
}

/***********************************************************************
 *           a client process
 */

static void client_fail( const char *format, ... ) __attribute__((format(printf, 1, 2)));

static void client_fail( const char *format, ... )
{
    va_list args;

    if (!self->failures++)
    {
        va_start( args, format );
        vsnprintf( self->failure, sizeof(self->failure), format, args );
        va_end( args );
    }
}

static int is_reset( unsigned int status )
{
    return status == STATUS_CONNECTION_RESET || status == STATUS_CONNECTION_REFUSED;
}

/* The server could not be reached, or the connection broke and stayed
 * broken: an error, also in a phase that kills the server, whose death no
 * client may notice.  What we held is not known any more. */
static void lost_server( const char *what, unsigned int status )
{
    self->resets++;
    client_fail( "%s: status %#x%s: %s", what, status,
                 __atomic_load_n( &shared->server_kills, __ATOMIC_ACQUIRE ) ? " in a phase of server kills" : "",
                 portres_error_message() );
    self->nb_held = 0;
    memset( self->socks, 0, sizeof(self->socks) );
}

/* every request goes through here: counted, and with a bound on its time */
#define REQUEST(call) \
    do { alarm( REQUEST_TIMEOUT ); status = (call); alarm( 0 ); self->requests++; } while (0)

static int find_held( portres_token_t token )
{
    unsigned int i;

    for (i = 0; i < self->nb_held; i++) if (self->held[i].token == token) return i;
    return -1;
}

static int held_at( unsigned int protocol, unsigned int port )
{
    unsigned int i;

    for (i = 0; i < self->nb_held; i++)
    {
        const struct held *h = &self->held[i];
        if (h->protocol == protocol && port >= h->start && port < (unsigned int)h->start + h->count) return i;
    }
    return -1;
}

/* a reservation is gone: so are the associations naming it */
static void forget_held( unsigned int index )
{
    portres_token_t token = self->held[index].token;
    unsigned int i;

    for (i = 0; i < NB_SOCKETS; i++)
        if (self->socks[i].assoc == ASSOC_OWN && self->socks[i].token == token)
            memset( &self->socks[i], 0, sizeof(self->socks[i]) );
    self->held[index] = self->held[--self->nb_held];
}

static void do_acquire( int wildcard )
{
    unsigned int protocol = test_rng_below( 2 ), sock = test_rng_below( NB_SOCKETS ), status;
    unsigned short start = 0, count, first = 0;
    portres_token_t token = 0;

    if (self->nb_held == MAX_HELD) return;
    count = 1 + test_rng_below( wildcard ? 4 : MAX_ACQUIRE );
    if (!wildcard) start = SPECIFIC_BASE + test_rng_below( SPECIFIC_SPAN );
    REQUEST( portres_acquire( protocols[protocol], start, count, socket_handle( sock ), &token, &first, NULL ) );
    if (is_reset( status ))
    {
        lost_server( "acquire", status );
        return;
    }
    if (status == STATUS_ADDRESS_ALREADY_EXISTS) return;
    if (status)
    {
        client_fail( "acquire %s %u+%u: status %#x", protocol_names[protocol], start, count, status );
        return;
    }
    if (!token || (start && first != start) ||
        (!start && (first < DYN_START || first + count > DYN_START + DYN_COUNT)))
        client_fail( "acquire %s %u+%u: got %u, token %#llx", protocol_names[protocol], start, count, first,
                     (unsigned long long)token );
    if (held_at( protocol, first ) >= 0 || held_at( protocol, first + count - 1 ) >= 0)
        client_fail( "acquire %s %u+%u: overlaps what we hold", protocol_names[protocol], first, count );
    self->held[self->nb_held].token = token;
    self->held[self->nb_held].protocol = protocol;
    self->held[self->nb_held].start = first;
    self->held[self->nb_held].count = count;
    self->held[self->nb_held].socket = sock;
    self->nb_held++;
    __atomic_store_n( &shared->board[test_rng_below( BOARD_SIZE )], token, __ATOMIC_RELAXED );
}

static void do_release( void )
{
    unsigned int index, status;
    portres_token_t token;

    if (!self->nb_held) return;
    index = test_rng_below( self->nb_held );
    token = self->held[index].token;
    REQUEST( portres_release( token ) );
    if (is_reset( status ))
    {
        lost_server( "release", status );
        return;
    }
    if (status) client_fail( "release of our own %u+%u: status %#x", self->held[index].start,
                             self->held[index].count, status );
    forget_held( index );
}

/* a token that is not ours: another client's, or made up */
static portres_token_t foreign_token( void )
{
    portres_token_t token = __atomic_load_n( &shared->board[test_rng_below( BOARD_SIZE )], __ATOMIC_RELAXED );

    if (!token || test_rng_below( 4 ) == 0) token = test_rng_next() | 1;
    return find_held( token ) >= 0 ? 0 : token;
}

/* another client's token, or a persistent one, is refused */
static void do_release_foreign( void )
{
    portres_token_t token = foreign_token();
    unsigned int status;

    if (test_rng_below( 4 ) == 0) token = __atomic_load_n( &shared->persistent_board[test_rng_below( BOARD_SIZE )],
                                                       __ATOMIC_RELAXED );
    if (!token) return;
    REQUEST( portres_release( token ) );
    if (is_reset( status )) lost_server( "release", status );
    else if (status != STATUS_INVALID_PARAMETER)
        client_fail( "release of a foreign token %#llx: status %#x", (unsigned long long)token, status );
}

static void do_associate( void )
{
    unsigned int sock = test_rng_below( NB_SOCKETS ), elevated = test_rng_below( 2 ), index, status, kind = 0;
    unsigned short start = 0, count = 0;
    const struct held *h;

    if (!self->nb_held) return;
    h = &self->held[index = test_rng_below( self->nb_held )];
    REQUEST( portres_associate( protocols[h->protocol], elevated, socket_handle( sock ), h->token, &start, &count,
                                &kind ) );
    if (is_reset( status ))
    {
        lost_server( "associate", status );
        return;
    }
    if (status || start != h->start || count != h->count || kind != PORTRES_KIND_RUNTIME)
    {
        client_fail( "associate with our own %u+%u: status %#x, %u+%u kind %u", h->start, h->count, status, start,
                     count, kind );
        return;
    }
    self->socks[sock].assoc = ASSOC_OWN;
    self->socks[sock].protocol = h->protocol;
    self->socks[sock].token = h->token;
    self->socks[sock].start = h->start;
    self->socks[sock].count = h->count;
    self->socks[sock].given = 0;
}

/* another client's token is refused; a persistent one needs elevation */
static void do_associate_foreign( void )
{
    unsigned int sock = test_rng_below( NB_SOCKETS ), protocol = test_rng_below( 2 ), slot = test_rng_below( NB_SLOTS );
    unsigned int elevated = test_rng_below( 2 ), status, kind;
    unsigned short start, count;
    portres_token_t token;

    if (test_rng_below( 2 ))
    {
        if (!(token = foreign_token())) return;
        REQUEST( portres_associate( protocols[protocol], 1, socket_handle( sock ), token, &start, &count, &kind ) );
        if (is_reset( status )) lost_server( "associate", status );
        else if (status != STATUS_INVALID_PARAMETER)
            client_fail( "associate with a foreign token %#llx: status %#x", (unsigned long long)token, status );
        return;
    }
    REQUEST( portres_persistent_lookup( protocols[protocol], SLOT_BASE + SLOT_PORTS * slot, SLOT_PORTS, &token ) );
    if (is_reset( status ))
    {
        lost_server( "lookup", status );
        return;
    }
    if (status) return;
    REQUEST( portres_associate( protocols[protocol], elevated, socket_handle( sock ), token, &start, &count, &kind ) );
    if (is_reset( status ))
    {
        lost_server( "associate", status );
        return;
    }
    /* another client may have deleted it since the lookup */
    if (status == STATUS_INVALID_PARAMETER) return;
    if (!elevated)
    {
        if (status != STATUS_ACCESS_DENIED) client_fail( "persistent associate without elevation: %#x", status );
        return;
    }
    if (status || kind != PORTRES_KIND_PERSISTENT || start != SLOT_BASE + SLOT_PORTS * slot || count != SLOT_PORTS)
    {
        client_fail( "persistent associate %u: status %#x, %u+%u kind %u", slot, status, start, count, kind );
        return;
    }
    self->socks[sock].assoc = ASSOC_PERSISTENT;
    self->socks[sock].protocol = protocol;
    self->socks[sock].token = token;
    self->socks[sock].start = start;
    self->socks[sock].count = count;
}

static void do_bind_port( void )
{
    unsigned int sock = test_rng_below( NB_SOCKETS ), protocol = test_rng_below( 2 ), status;
    const struct sock_state *s = &self->socks[sock];
    unsigned short port = 0, result = 0;
    unsigned int associated = ~0u;   /* not answered */
    int mine;

    if (s->assoc) protocol = s->protocol;
    switch (test_rng_below( 3 ))
    {
    case 0: port = 0; break;
    case 1: if (s->assoc) { port = s->start + test_rng_below( s->count + 1 ); break; } /* fall through */
    default: port = SPECIFIC_BASE + test_rng_below( SPECIFIC_SPAN ); break;
    }
    REQUEST( portres_bind_port( protocols[protocol], port, socket_handle( sock ), &result, &associated ) );
    if (is_reset( status ))
    {
        lost_server( "bind_port", status );
        return;
    }
    if (s->assoc == ASSOC_OWN)
    {
        int inside = port >= s->start && port < s->start + s->count;

        if (!port && status == STATUS_ADDRESS_ALREADY_EXISTS) return;  /* every port given or in use */
        if (port && !inside)
        {
            if (status != STATUS_INVALID_PARAMETER) client_fail( "bind outside the association: %#x", status );
            return;
        }
        if (status || !associated || (port ? result != port : (result < s->start || result >= s->start + s->count)))
            client_fail( "bind %u of a socket associated with %u+%u: status %#x, port %u, associated %d", port,
                         s->start, s->count, status, result, associated );
        else self->socks[sock].given = result;
        return;
    }
    if (s->assoc == ASSOC_PERSISTENT)
    {
        /* the reservation may be gone, with the association */
        if (status && status != STATUS_INVALID_PARAMETER && status != STATUS_ADDRESS_ALREADY_EXISTS &&
            status != STATUS_ACCESS_DENIED)
            client_fail( "bind %u of a socket associated with a persistent reservation: %#x", port, status );
        return;
    }
    mine = port ? held_at( protocol, port ) : -1;
    if (status == STATUS_ACCESS_DENIED && port) return;   /* a runtime port, ours or another's */
    if (status || associated || result != port || mine >= 0)
        client_fail( "bind %s %u of an ordinary socket: status %#x, port %u, associated %d, our own: %d",
                     protocol_names[protocol], port, status, result, associated, mine >= 0 );
}

static void do_query_port( void )
{
    unsigned int protocol = test_rng_below( 2 ), status, port;
    struct query_port_reply info;
    int mine;

    if (self->nb_held && test_rng_below( 2 ))
    {
        const struct held *h = &self->held[test_rng_below( self->nb_held )];
        protocol = h->protocol;
        port = h->start + test_rng_below( h->count );
    }
    else switch (test_rng_below( 3 ))
    {
    case 0:  port = DYN_START + test_rng_below( DYN_COUNT ); break;
    case 1:  port = SPECIFIC_BASE + test_rng_below( SPECIFIC_SPAN + MAX_ACQUIRE ); break;
    default: port = SLOT_BASE + test_rng_below( SLOT_PORTS * NB_SLOTS ); break;
    }
    memset( &info, 0, sizeof(info) );
    REQUEST( test_query_port( protocols[protocol], port, &info ) );
    if (is_reset( status ))
    {
        lost_server( "query_port", status );
        return;
    }
    mine = held_at( protocol, port );
    if (status)
        client_fail( "query %s %u: status %#x", protocol_names[protocol], port, status );
    else if (mine >= 0)
    {
        const struct held *h = &self->held[mine];
        if (info.kind != PORTRES_KIND_RUNTIME || !info.is_mine || info.token != h->token || info.start != h->start ||
            info.count != h->count || info.owner_pid != (unsigned int)getpid())
            client_fail( "query %s %u in our %u+%u: kind %u mine %u %u+%u pid %u", protocol_names[protocol], port,
                         h->start, h->count, info.kind, info.is_mine, info.start, info.count, info.owner_pid );
    }
    else if (info.is_mine || (info.kind == PORTRES_KIND_RUNTIME && info.owner_pid == (unsigned int)getpid()))
        client_fail( "query %s %u: the server says it is ours (%u+%u), we hold no such reservation",
                     protocol_names[protocol], port, info.start, info.count );
    else if (info.kind == PORTRES_KIND_RUNTIME && info.token)
        client_fail( "query %s %u: the token of another process's reservation is shown", protocol_names[protocol],
                     port );
}

static void do_socket_closed( void )
{
    unsigned int sock = test_rng_below( NB_SOCKETS ), released = ~0u, expect = 0, status, i;

    for (i = 0; i < self->nb_held; i++) if (self->held[i].socket == sock) expect++;
    REQUEST( portres_socket_closed( socket_handle( sock ), &released ) );
    if (is_reset( status ))
    {
        lost_server( "socket_closed", status );
        return;
    }
    if (status || released != expect)
        client_fail( "socket_closed %u: status %#x, released %u of our %u", sock, status, released, expect );
    memset( &self->socks[sock], 0, sizeof(self->socks[sock]) );
    for (i = self->nb_held; i-- > 0;) if (self->held[i].socket == sock) forget_held( i );
}

struct client_list
{
    unsigned int   protocol;
    unsigned int   last_end;   /* one past the end of the previous entry */
    unsigned int   ours;
    int            bad;
};

static int client_list_entry( void *ctx, const struct portres_entry *e )
{
    struct client_list *list = ctx;
    int index;

    if (e->start < list->last_end || !e->count)
    {
        client_fail( "list %s: %u+%u after an entry ending at %u", protocol_names[list->protocol], e->start,
                     e->count, list->last_end );
        list->bad = 1;
    }
    list->last_end = e->start + e->count;
    if (e->kind != PORTRES_KIND_RUNTIME || e->owner_pid != (unsigned int)getpid()) return 0;
    index = held_at( list->protocol, e->start );
    if (index < 0 || self->held[index].start != e->start || self->held[index].count != e->count)
        client_fail( "list %s: %u+%u is ours for the server, not for us", protocol_names[list->protocol], e->start,
                     e->count );
    list->ours++;
    return 0;
}

static void do_list( void )
{
    struct client_list list;
    unsigned int protocol = test_rng_below( 2 ), expect = 0, status, i;

    memset( &list, 0, sizeof(list) );
    list.protocol = protocol;
    REQUEST( portres_list( protocols[protocol], client_list_entry, &list ) );
    if (is_reset( status ))
    {
        lost_server( "list", status );
        return;
    }
    for (i = 0; i < self->nb_held; i++) if (self->held[i].protocol == protocol) expect++;
    if (status || list.ours != expect)
        client_fail( "list %s: status %#x, %u of ours listed, we hold %u", protocol_names[protocol], status,
                     list.ours, expect );
}

static void do_persistent( void )
{
    unsigned int protocol = test_rng_below( 2 ), slot = test_rng_below( NB_SLOTS ), status, op = test_rng_below( 8 );
    unsigned short start = SLOT_BASE + SLOT_PORTS * slot;
    portres_token_t token = 0;

    if (op < 3)
    {
        int elevated = op != 0;

        if (elevated) __atomic_store_n( &self->inflight, OP_CREATE << 16 | protocol << 8 | slot, __ATOMIC_SEQ_CST );
        REQUEST( portres_persistent_create( protocols[protocol], start, SLOT_PORTS, elevated, &token ) );
        if (!status) __atomic_add_fetch( &shared->created[protocol][slot], 1, __ATOMIC_SEQ_CST );
        else if (status == STATUS_CONNECTION_RESET && elevated)
            __atomic_add_fetch( &shared->maybe_created[protocol][slot], 1, __ATOMIC_SEQ_CST );
        __atomic_store_n( &self->inflight, 0, __ATOMIC_SEQ_CST );
        if (is_reset( status )) lost_server( "persistent_create", status );
        else if (!elevated ? status != STATUS_ACCESS_DENIED :
                 status ? status != STATUS_SHARING_VIOLATION : !token)
            client_fail( "persistent_create %s %u (elevated %d): status %#x", protocol_names[protocol], start,
                         elevated, status );
    }
    else if (op < 6)
    {
        __atomic_store_n( &self->inflight, OP_DELETE << 16 | protocol << 8 | slot, __ATOMIC_SEQ_CST );
        REQUEST( portres_persistent_delete( protocols[protocol], start, SLOT_PORTS, 1 ) );
        if (!status) __atomic_add_fetch( &shared->deleted[protocol][slot], 1, __ATOMIC_SEQ_CST );
        else if (status == STATUS_CONNECTION_RESET)
            __atomic_add_fetch( &shared->maybe_deleted[protocol][slot], 1, __ATOMIC_SEQ_CST );
        __atomic_store_n( &self->inflight, 0, __ATOMIC_SEQ_CST );
        if (is_reset( status )) lost_server( "persistent_delete", status );
        else if (status && status != STATUS_NOT_FOUND)
            client_fail( "persistent_delete %s %u: status %#x", protocol_names[protocol], start, status );
    }
    else
    {
        REQUEST( portres_persistent_lookup( protocols[protocol], start, SLOT_PORTS, &token ) );
        if (is_reset( status )) lost_server( "persistent_lookup", status );
        else if (status ? status != STATUS_NOT_FOUND : !token)
            client_fail( "persistent_lookup %s %u: status %#x", protocol_names[protocol], start, status );
        else if (!status)
            __atomic_store_n( &shared->persistent_board[test_rng_below( BOARD_SIZE )], token, __ATOMIC_RELAXED );
    }
}

static void random_request( void )
{
    unsigned int r = test_rng_below( 100 );

    if (self->nb_held == MAX_HELD && r < 30) r = 30;   /* full: release instead */
    if (r < 20) do_acquire( 0 );
    else if (r < 30) do_acquire( 1 );
    else if (r < 45) do_release();
    else if (r < 50) do_release_foreign();
    else if (r < 58) do_associate();
    else if (r < 62) do_associate_foreign();
    else if (r < 72) do_bind_port();
    else if (r < 80) do_query_port();
    else if (r < 85) do_socket_closed();
    else if (r < 87) do_list();
    else do_persistent();
}

/* the end of a phase: make sure we speak to the current server, then hold still */
static void pause_client( void )
{
    unsigned short start, count;
    unsigned int status, i;

    for (i = 0; i < 3; i++)
    {
        REQUEST( portres_get_dynamic_range( PORTRES_PROTO_TCP, &start, &count ) );
        if (!is_reset( status )) break;
        lost_server( "get_dynamic_range", status );
    }
    if (status || start != DYN_START || count != DYN_COUNT)
        client_fail( "get_dynamic_range: status %#x, %u+%u", status, start, count );
    __atomic_store_n( &self->paused, 1, __ATOMIC_RELEASE );
}

static void client_main( unsigned int index, unsigned long long seed )
{
    int paused = 0, cmd;

    self = &shared->clients[index];
    test_rng_seed( seed );
    for (;;)
    {
        cmd = __atomic_load_n( &shared->command, __ATOMIC_ACQUIRE );
        if (cmd == CMD_RUN && paused)
        {
            paused = 0;
            __atomic_store_n( &self->paused, 0, __ATOMIC_RELEASE );
        }
        if (cmd == CMD_RUN) random_request();
        else if (cmd == CMD_EXIT) _exit( 0 );
        else
        {
            if (!paused) pause_client();
            paused = 1;
            test_sleep_ms( 1 );
        }
    }
}

/***********************************************************************
 *           the test's side: clients
 */

static unsigned int spawn_count;
static struct test_tally forks;   /* of the clients, checked at the end */

static void spawn_client( unsigned int index )
{
    struct client_slot *slot = &shared->clients[index];
    unsigned long long seed = base_seed ^ (0x9e3779b97f4a7c15ULL * ++spawn_count);
    pid_t parent = getpid(), pid;

    slot->paused = 0;
    slot->nb_held = 0;
    slot->inflight = 0;
    memset( slot->socks, 0, sizeof(slot->socks) );
    fflush( stdout );
    if (!(pid = fork()))
    {
        /* a client does not outlive the test, however the test ends */
        prctl( PR_SET_PDEATHSIG, SIGKILL );
        if (getppid() != parent) _exit( 1 );
        client_main( index, seed );
        _exit( 0 );
    }
    tally( &forks, pid > 0, "fork: %s", strerror( errno ) );
    slot->pid = pid > 0 ? pid : 0;
}

/* a change of a dead client whose answer it never saw may have been made */
static void account_inflight( struct client_slot *slot )
{
    int inflight = __atomic_load_n( &slot->inflight, __ATOMIC_SEQ_CST );
    unsigned int op = inflight >> 16, protocol = (inflight >> 8) & 0xff, index = inflight & 0xff;

    if (!inflight) return;
    if (op == OP_CREATE) shared->maybe_created[protocol][index]++;
    else shared->maybe_deleted[protocol][index]++;
    slot->inflight = 0;
}

static void report_status( unsigned int index, int status, const char *what )
{
    if (WIFSIGNALED( status ) && WTERMSIG( status ) == SIGALRM)
        check( 0, "client %u: a request took more than %d s (%s)", index, REQUEST_TIMEOUT, what );
    else check( 0, "client %u ended by itself (status %#x) %s", index, status, what );
}

/* kill a client and wait for it; 1 when it died of our signal */
static int kill_client( unsigned int index, int sig )
{
    struct client_slot *slot = &shared->clients[index];
    int status;

    if (!slot->pid) return 0;
    kill( slot->pid, sig );
    while (waitpid( slot->pid, &status, 0 ) == -1 && errno == EINTR);
    slot->pid = 0;
    account_inflight( slot );
    if (WIFSIGNALED( status ) && WTERMSIG( status ) == sig) return 1;
    report_status( index, status, "before it was killed" );
    return 0;
}

/* clients that ended by themselves are errors; they are replaced */
static void reap_unexpected( void )
{
    unsigned int i;
    int status;
    pid_t pid;

    while ((pid = waitpid( -1, &status, WNOHANG )) > 0)
    {
        for (i = 0; i < NB_CLIENTS; i++) if (shared->clients[i].pid == pid) break;
        if (i == NB_CLIENTS) continue;
        shared->clients[i].pid = 0;
        account_inflight( &shared->clients[i] );
        report_status( i, status, "during the phase" );
        if (__atomic_load_n( &shared->command, __ATOMIC_ACQUIRE ) == CMD_RUN) spawn_client( i );
    }
}

static unsigned long long total_requests( void )
{
    unsigned long long total = 0;
    unsigned int i;

    for (i = 0; i < NB_CLIENTS; i++) total += __atomic_load_n( &shared->clients[i].requests, __ATOMIC_RELAXED );
    return total;
}

static unsigned long long total_resets( void )
{
    unsigned long long total = 0;
    unsigned int i;

    for (i = 0; i < NB_CLIENTS; i++) total += __atomic_load_n( &shared->clients[i].resets, __ATOMIC_RELAXED );
    return total;
}

/* the failures the clients found in the answers */
static void report_client_failures( void )
{
    struct test_tally clients = { 0 };
    unsigned int i;

    for (i = 0; i < NB_CLIENTS; i++)
    {
        struct client_slot *slot = &shared->clients[i];

        tally( &clients, !slot->failures, "client %u: %u wrong answers, the first: %s", i, slot->failures,
               slot->failure );
        slot->failures = 0;
        checks++;
    }
    check_tally( &clients, "clients, each with right answers only," );
}

/***********************************************************************
 *           the test's side: the server
 */

static pid_t lock_owner( void )
{
    return test_lock_owner( lock_path );
}

/* requests of the test itself: its connection broke when the server was
 * killed, and the next one starts afresh */
static unsigned int check_state( struct check_state_reply *state, char *message, size_t size )
{
    unsigned int status = portres_check_state( state, message, size );

    if (status == STATUS_CONNECTION_RESET) status = portres_check_state( state, message, size );
    return status;
}

/* wait until the server counts this many clients (the test included) */
static int wait_clients( unsigned int expect, struct check_state_reply *state )
{
    char message[PORTRES_MAX_REPLY_DATA + 1];
    unsigned int status = 0;
    int waited;

    for (waited = 0; waited < WAIT_MS; waited += 10)
    {
        status = check_state( state, message, sizeof(message) );
        if (status && status != STATUS_INTERNAL_ERROR) break;
        if (state->clients == expect) return 1;
        test_sleep_ms( 10 );
    }
    check( 0, "the server counts %u clients, not %u (status %#x)", state->clients, expect, status );
    return 0;
}

struct listing
{
    unsigned int          nb[2];
    struct portres_entry  entries[2][4096];
};

struct list_ctx
{
    struct listing *listing;
    unsigned int    protocol;
};

static int list_all_entry( void *ctx, const struct portres_entry *e )
{
    struct list_ctx *list = ctx;
    struct listing *listing = list->listing;
    unsigned int p = list->protocol;

    if (listing->nb[p] < sizeof(listing->entries[p]) / sizeof(listing->entries[p][0]))
        listing->entries[p][listing->nb[p]++] = *e;
    return 0;
}

static int list_all( struct listing *listing )
{
    struct list_ctx ctx;
    unsigned int p, status;

    memset( listing, 0, sizeof(*listing) );
    ctx.listing = listing;
    for (p = 0; p < 2; p++)
    {
        ctx.protocol = p;
        status = portres_list( protocols[p], list_all_entry, &ctx );
        check( !status, "list %s: status %#x", protocol_names[p], status );
        if (status) return 0;
    }
    return 1;
}

/* a copy of the map between two equal even generations */
static int copy_map( const struct portres_map *map, struct portres_map *copy )
{
    unsigned int before, after, tries;

    for (tries = 0; tries < 1000; tries++)
    {
        before = __atomic_load_n( &map->generation, __ATOMIC_ACQUIRE );
        if (!(before & 1))
        {
            memcpy( copy, map, sizeof(*copy) );
            __atomic_thread_fence( __ATOMIC_ACQUIRE );
            after = __atomic_load_n( &map->generation, __ATOMIC_RELAXED );
            if (before == after) return 1;
        }
        test_sleep_ms( 1 );
    }
    check( 0, "the map stays in an update" );
    return 0;
}

static void set_bits( uint64_t *words, unsigned int start, unsigned int count )
{
    unsigned int port;

    for (port = start; port < start + count; port++) words[port / 64] |= (uint64_t)1 << (port % 64);
}

/* the shared map equals the listed reservations, bit for bit */
static void check_map( const struct listing *listing )
{
    static struct portres_map copy, expect;
    const struct portres_map *map = portres_get_map();
    unsigned int p, i, word;

    check( map != NULL, "no map: %s", portres_error_message() );
    if (!map || !copy_map( map, &copy )) return;
    memset( &expect, 0, sizeof(expect) );
    for (p = 0; p < 2; p++)
    {
        for (i = 0; i < listing->nb[p]; i++)
        {
            const struct portres_entry *e = &listing->entries[p][i];
            set_bits( expect.reserved[p], e->start, e->count );
            if (e->kind == PORTRES_KIND_RUNTIME) set_bits( expect.runtime[p], e->start, e->count );
        }
        for (word = 0; word < PORTRES_MAP_WORDS; word++)
        {
            checks++;
            if (copy.reserved[p][word] == expect.reserved[p][word] && copy.runtime[p][word] == expect.runtime[p][word])
                continue;
            check( 0, "map %s ports %u-%u: reserved %016llx runtime %016llx, the list says %016llx %016llx",
                   protocol_names[p], word * 64, word * 64 + 63, (unsigned long long)copy.reserved[p][word],
                   (unsigned long long)copy.runtime[p][word], (unsigned long long)expect.reserved[p][word],
                   (unsigned long long)expect.runtime[p][word] );
            return;
        }
    }
    check( 1, "the map equals the list" );
}

/* the store file holds exactly the listed persistent reservations and our dynamic ranges */
static void check_store( const struct listing *listing )
{
    unsigned int p, i, start, count, found[2] = { 0, 0 }, dyn = 0, bad_dyn = 0, matched = 0, status;
    struct test_tally tokens = { 0 }, known = { 0 };
    unsigned long long token;
    char line[256], proto[8];
    portres_token_t looked_up;
    FILE *file = fopen( store_path, "re" );

    check( file != NULL, "cannot open %s: %s", store_path, strerror( errno ) );
    if (!file) return;
    while (fgets( line, sizeof(line), file ))
    {
        if (sscanf( line, "dynamicport %7s %u %u", proto, &start, &count ) == 3)
        {
            dyn++;
            if (start != DYN_START || count != DYN_COUNT) bad_dyn++;
        }
        else if (sscanf( line, "reservation %7s %u %u %llx", proto, &start, &count, &token ) == 4)
        {
            p = strcmp( proto, "tcp" ) ? 1 : 0;
            found[p]++;
            for (i = 0; i < listing->nb[p]; i++)
            {
                const struct portres_entry *e = &listing->entries[p][i];
                if (e->kind != PORTRES_KIND_PERSISTENT || e->start != start || e->count != count) continue;
                status = portres_persistent_lookup( protocols[p], start, count, &looked_up );
                tally( &tokens, !status && looked_up == token, "store: %s %u+%u has token %016llx, the server %016llx "
                       "(status %#x)", proto, start, count, token, (unsigned long long)looked_up, status );
                matched++;
                break;
            }
            tally( &known, i < listing->nb[p], "store: %s %u+%u is not a persistent reservation of the server", proto,
                   start, count );
        }
    }
    fclose( file );
    check_tally_maybe_empty( &known, "reservations of the store, each one of the server's," );
    check_tally_maybe_empty( &tokens, "reservations of the store, each with the server's token," );
    for (p = 0; p < 2; p++)
    {
        unsigned int persistent = 0;
        for (i = 0; i < listing->nb[p]; i++) persistent += listing->entries[p][i].kind == PORTRES_KIND_PERSISTENT;
        check( found[p] == persistent, "store: %u %s reservations, the server %u", found[p], protocol_names[p],
               persistent );
    }
    check( dyn == 2 && !bad_dyn, "store: %u dynamic ranges, %u of them not ours", dyn, bad_dyn );
    checks += matched + 3;
}

/* the slots: what the counted successes, widened by the changes whose
 * answer was lost, allow; and the test's own reservations, with their tokens */
static void check_persistent( const struct listing *listing, unsigned int *nb_present, unsigned int *nb_uncertain )
{
    unsigned int p, slot, i, status;
    struct test_tally slots = { 0 }, anchored = { 0 };
    portres_token_t token;

    *nb_present = *nb_uncertain = 0;
    for (p = 0; p < 2; p++)
    {
        for (slot = 0; slot < NB_SLOTS; slot++)
        {
            unsigned int start = SLOT_BASE + SLOT_PORTS * slot;
            int present = 0, net = (int)shared->created[p][slot] - (int)shared->deleted[p][slot];
            int low = -(int)shared->maybe_deleted[p][slot], high = shared->maybe_created[p][slot];

            for (i = 0; i < listing->nb[p]; i++)
            {
                const struct portres_entry *e = &listing->entries[p][i];
                if (e->start == start && e->count == SLOT_PORTS && e->kind == PORTRES_KIND_PERSISTENT) present = 1;
            }
            tally( &slots, present - net >= low && present - net <= high, "slot %s %u: %s, after %u creates and %u deletes "
                   "(and %u creates and %u deletes of unknown outcome)", protocol_names[p], start,
                   present ? "present" : "absent", shared->created[p][slot], shared->deleted[p][slot],
                   shared->maybe_created[p][slot], shared->maybe_deleted[p][slot] );
            checks++;
            *nb_present += present;
            *nb_uncertain += low || high;
            /* the next phase counts from what is known now */
            shared->created[p][slot] = present;
            shared->deleted[p][slot] = shared->maybe_created[p][slot] = shared->maybe_deleted[p][slot] = 0;
        }
        for (i = 0; i < NB_ANCHORS; i++)
        {
            if (!anchors[p][i]) continue;
            status = portres_persistent_lookup( protocols[p], ANCHOR_BASE + 10 * i, 2, &token );
            tally( &anchored, !status && token == anchors[p][i], "anchor %s %u: status %#x, token %016llx, created "
                   "as %016llx", protocol_names[p], ANCHOR_BASE + 10 * i, status, (unsigned long long)token,
                   (unsigned long long)anchors[p][i] );
            checks++;
        }
    }
    check_tally( &slots, "persistent slots, each as their creates and deletes allow," );
    /* an anchor that was in use on the host is not made */
    check_tally_maybe_empty( &anchored, "anchors, each with its token," );
}

/* the listed runtime reservations of a client are exactly those it says it holds */
static void check_client_holdings( const struct listing *listing, unsigned int index, unsigned int *nb_runtime,
                                   struct test_tally *theirs, struct test_tally *all_listed )
{
    const struct client_slot *slot = &shared->clients[index];
    unsigned char matched[MAX_HELD];
    unsigned int p, i, j, listed = 0;

    memset( matched, 0, sizeof(matched) );
    for (p = 0; p < 2; p++)
    {
        for (i = 0; i < listing->nb[p]; i++)
        {
            const struct portres_entry *e = &listing->entries[p][i];

            if (e->kind != PORTRES_KIND_RUNTIME || e->owner_pid != (unsigned int)slot->pid) continue;
            listed++;
            for (j = 0; j < slot->nb_held; j++)
            {
                const struct held *h = &slot->held[j];
                if (!matched[j] && h->protocol == p && h->start == e->start && h->count == e->count) break;
            }
            tally( theirs, j < slot->nb_held, "client %u (pid %d): %s %u+%u is its for the server, not for it", index,
                   (int)slot->pid, protocol_names[p], e->start, e->count );
            if (j < slot->nb_held) matched[j] = 1;
            checks++;
        }
    }
    tally( all_listed, listed == slot->nb_held, "client %u (pid %d): the server lists %u runtime reservations of it, "
           "it holds %u", index, (int)slot->pid, listed, slot->nb_held );
    *nb_runtime += listed;
}

/* whether another process of the host can bind a port: 1 when it is held */
static int port_held( unsigned int protocol, unsigned short port )
{
    struct sockaddr_in6 addr;
    int fd, off = 0, ret;

    if ((fd = socket( AF_INET6, (protocol ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0 )) == -1) return 0;
    setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off) );
    memset( &addr, 0, sizeof(addr) );
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons( port );
    ret = bind( fd, (struct sockaddr *)&addr, sizeof(addr) ) == -1 && errno == EADDRINUSE;
    close( fd );
    return ret;
}

/* The kernel's view: every port of a client's runtime reservations is
 * held, but for those given to its associated sockets' binds (which the
 * clients here do not bind). */
static void check_kernel_holds( const char *phase, unsigned int *nb_ports )
{
    struct test_tally held = { 0 };
    unsigned int i, j, k, port;

    for (i = 0; i < NB_CLIENTS; i++)
    {
        const struct client_slot *slot = &shared->clients[i];

        if (!slot->pid) continue;
        for (j = 0; j < slot->nb_held; j++)
        {
            const struct held *h = &slot->held[j];

            for (port = h->start; port < (unsigned int)h->start + h->count; port++)
            {
                for (k = 0; k < NB_SOCKETS; k++)
                    if (slot->socks[k].assoc == ASSOC_OWN && slot->socks[k].token == h->token &&
                        slot->socks[k].given == port) break;
                if (k < NB_SOCKETS) continue;
                tally( &held, port_held( h->protocol, port ), "%s: %s port %u of client %u's %u+%u is free on the "
                       "host", phase, protocol_names[h->protocol], port, i, h->start, h->count );
                (*nb_ports)++;
                checks++;
            }
        }
    }
    check_tally_maybe_empty( &held, "ports of the clients' runtime reservations, each held on the host," );
}

/* the checks while the clients hold still */
static void check_paused( const char *phase, unsigned int nb_live )
{
    static struct listing listing;
    char message[PORTRES_MAX_REPLY_DATA + 1];
    struct check_state_reply state;
    unsigned int p, i, j, status, count[2][3] = { { 0 } }, nb_runtime = 0, present, uncertain, held_ports = 0;
    unsigned int min_sockets = 0, max_sockets = 0, min_assocs = 0, max_assocs = 0;
    struct test_tally order = { 0 }, kinds = { 0 }, owners = { 0 }, theirs = { 0 }, all_listed = { 0 };

    if (!wait_clients( nb_live + 1, &state )) return;
    status = check_state( &state, message, sizeof(message) );
    check( !status, "%s: check_state: status %#x: %s", phase, status, message );
    checks++;
    if (!list_all( &listing )) return;

    /* in order, no overlap; runtime ones of live clients only */
    for (p = 0; p < 2; p++)
    {
        unsigned int end = 0;

        for (i = 0; i < listing.nb[p]; i++)
        {
            const struct portres_entry *e = &listing.entries[p][i];

            tally( &order, e->start >= end && e->count && e->start + e->count <= 65536, "%s %u+%u overlaps the one "
                   "before", protocol_names[p], e->start, e->count );
            end = e->start + e->count;
            tally( &kinds, e->kind == PORTRES_KIND_RUNTIME || e->kind == PORTRES_KIND_PERSISTENT, "%s %u: kind %u",
                   protocol_names[p], e->start, e->kind );
            if (e->kind == PORTRES_KIND_PERSISTENT)
                tally( &owners, !e->owner_pid, "%s %u+%u: persistent with an owner", protocol_names[p], e->start,
                       e->count );
            else
            {
                for (j = 0; j < NB_CLIENTS; j++) if (shared->clients[j].pid == (pid_t)e->owner_pid) break;
                tally( &owners, j < NB_CLIENTS && kill( e->owner_pid, 0 ) == 0, "%s %u+%u: runtime of pid %u, which "
                       "is not a live client", protocol_names[p], e->start, e->count, e->owner_pid );
            }
            if (e->kind <= PORTRES_KIND_PERSISTENT) count[p][e->kind]++;
            checks += 3;
        }
    }
    check_tally_maybe_empty( &order, "listed reservations, each in order and apart," );
    check_tally_maybe_empty( &kinds, "listed reservations, each runtime or persistent," );
    check_tally_maybe_empty( &owners, "listed reservations, each persistent or of a live client," );
    check( count[0][PORTRES_KIND_RUNTIME] == state.tcp_runtime &&
           count[0][PORTRES_KIND_PERSISTENT] == state.tcp_persistent &&
           count[1][PORTRES_KIND_RUNTIME] == state.udp_runtime &&
           count[1][PORTRES_KIND_PERSISTENT] == state.udp_persistent,
           "check_state counts tcp %u+%u udp %u+%u, the list tcp %u+%u udp %u+%u", state.tcp_runtime,
           state.tcp_persistent, state.udp_runtime, state.udp_persistent, count[0][1], count[0][2], count[1][1],
           count[1][2] );

    /* the sockets and associations the clients know of; an association
     * with a persistent reservation may have gone with it */
    for (i = 0; i < NB_CLIENTS; i++)
    {
        const struct client_slot *slot = &shared->clients[i];

        if (!slot->pid) continue;
        check_client_holdings( &listing, i, &nb_runtime, &theirs, &all_listed );
        for (j = 0; j < NB_SOCKETS; j++)
        {
            unsigned int k, holds = 0;

            for (k = 0; k < slot->nb_held; k++) holds |= slot->held[k].socket == j;
            if (holds || slot->socks[j].assoc == ASSOC_OWN) min_sockets++;
            if (holds || slot->socks[j].assoc) max_sockets++;
            if (slot->socks[j].assoc == ASSOC_OWN) min_assocs++;
            if (slot->socks[j].assoc) max_assocs++;
        }
    }
    check_tally_maybe_empty( &theirs, "runtime reservations listed, each held by its client," );
    check_tally_maybe_empty( &all_listed, "live clients, each with all it holds listed," );
    check( state.sockets >= min_sockets && state.sockets <= max_sockets, "the server knows %u sockets, the clients "
           "%u to %u", state.sockets, min_sockets, max_sockets );
    check( state.associations >= min_assocs && state.associations <= max_assocs, "the server knows %u associations, "
           "the clients %u to %u", state.associations, min_assocs, max_assocs );
    checks += 2;

    check_map( &listing );
    check_kernel_holds( phase, &held_ports );
    check_persistent( &listing, &present, &uncertain );
    check_store( &listing );
    printf( "%s: %u live clients hold %u runtime reservations on %u sockets (%u associated), %u ports held on "
            "the host; %u persistent slots taken (%u of uncertain outcome)\n", phase, nb_live, nb_runtime,
            state.sockets, state.associations, held_ports, present, uncertain );
}

/* the checks once every client has gone: nothing of theirs remains */
static void check_all_gone( const char *phase )
{
    static struct listing listing;
    char message[PORTRES_MAX_REPLY_DATA + 1];
    struct check_state_reply state;
    unsigned int p, i, status, runtime = 0;

    if (!wait_clients( 1, &state )) return;
    status = check_state( &state, message, sizeof(message) );
    check( !status, "%s, clients gone: check_state: status %#x: %s", phase, status, message );
    check( !state.tcp_runtime && !state.udp_runtime && !state.sockets && !state.associations,
           "%s, clients gone: %u+%u runtime reservations, %u sockets, %u associations remain", phase,
           state.tcp_runtime, state.udp_runtime, state.sockets, state.associations );
    if (!list_all( &listing )) return;
    for (p = 0; p < 2; p++)
        for (i = 0; i < listing.nb[p]; i++) runtime += listing.entries[p][i].kind == PORTRES_KIND_RUNTIME;
    check( !runtime, "%s, clients gone: %u runtime reservations listed", phase, runtime );
    check_map( &listing );
    checks += 3;
}

/***********************************************************************
 *           phases
 */

/* the clients stop between requests and hold still; how many live */
static unsigned int pause_clients( void )
{
    unsigned int i, waited, nb_live = 0;

    __atomic_store_n( &shared->command, CMD_PAUSE, __ATOMIC_RELEASE );
    for (i = 0; i < NB_CLIENTS; i++)
    {
        struct client_slot *slot = &shared->clients[i];

        for (waited = 0; slot->pid && waited < WAIT_MS && !__atomic_load_n( &slot->paused, __ATOMIC_ACQUIRE ); waited++)
        {
            test_sleep_ms( 1 );
            if (waited % 100 == 99) reap_unexpected();
        }
        if (slot->pid && !slot->paused)
        {
            check( 0, "client %u did not stop within %d ms", i, WAIT_MS );
            kill_client( i, SIGKILL );
        }
        nb_live += slot->pid != 0;
    }
    return nb_live;
}

/* one phase: 64 clients, random kills of clients and, if asked, of the
 * server; after each kill of the server, everything of every live client
 * must be there, in the new server and on the host */
static void run_phase( const char *name, unsigned int server_kills )
{
    unsigned long long requests = total_requests(), resets = total_resets();
    unsigned int i, killed = 0, kills_done = 0, nb_live, waited;
    double start, end, elapsed, next_server_kill, checked, checking = 0;
    pid_t server, killed_servers[MAX_SERVER_KILLS];
    unsigned int server_pid = 0;
    char kill_name[128];

    __atomic_store_n( &shared->server_kills, server_kills != 0, __ATOMIC_RELEASE );
    __atomic_store_n( &shared->command, CMD_RUN, __ATOMIC_RELEASE );
    for (i = 0; i < NB_CLIENTS; i++) spawn_client( i );
    /* the phase starts once its clients run: under a sanitizer, starting
     * 64 of them can take longer than a phase */
    start = test_now();
    end = start + phase_seconds;
    next_server_kill = server_kills ? start + phase_seconds * (0.5 + test_rng_below( 50 ) / 100.0) / server_kills : end;

    /* a slow machine does not cut the phase short of its server kills */
    while (test_now() < end || (kills_done < server_kills && test_now() < end + 10 * phase_seconds))
    {
        test_sleep_ms( 2 + test_rng_below( 40 ) );
        reap_unexpected();
        /* a persistent change takes a sync of the disk, so a random kill
         * would often land in one and leave its slot's outcome unknown;
         * most such kills go to another client */
        i = test_rng_below( NB_CLIENTS );
        if (__atomic_load_n( &shared->clients[i].inflight, __ATOMIC_SEQ_CST ) && test_rng_below( 4 ))
            i = test_rng_below( NB_CLIENTS );
        if (kill_client( i, SIGKILL )) killed++;
        spawn_client( i );

        if (kills_done < server_kills && test_now() >= next_server_kill && (server = lock_owner()))
        {
            kill( server, SIGKILL );
            checked = test_now();
            for (waited = 0; waited < WAIT_MS && lock_owner() == server; waited++) test_sleep_ms( 1 );
            check( lock_owner() != server, "the killed server %d still holds its lock", (int)server );
            killed_servers[kills_done++] = server;
            next_server_kill = test_now() + (end - test_now()) * (0.3 + test_rng_below( 40 ) / 100.0) / (server_kills - kills_done + 1);
            /* the keeper or a client starts the next one */
            for (waited = 0; waited < WAIT_MS && !lock_owner(); waited++) test_sleep_ms( 1 );
            check( lock_owner() != 0, "no new server after kill %u", kills_done );
            snprintf( kill_name, sizeof(kill_name), "%s, after server kill %u", name, kills_done );
            check_paused( kill_name, pause_clients() );
            report_client_failures();
            __atomic_store_n( &shared->command, CMD_RUN, __ATOMIC_RELEASE );
            /* the restart and the checks do not count as time of the phase */
            checked = test_now() - checked;
            end += checked;
            next_server_kill += checked;
            checking += checked;
        }
    }
    elapsed = test_now() - start - checking;

    /* hold still and check */
    nb_live = pause_clients();
    requests = total_requests() - requests;
    resets = total_resets() - resets;
    printf( "%s: %.1f s, %u clients, %u killed, %u server kills, %llu requests (%.0f/s), %llu answered "
            "CONNECTION_RESET/REFUSED\n", name, elapsed, NB_CLIENTS, killed, kills_done, requests,
            requests / elapsed, resets );
    check( !resets, "%llu requests saw the server die", resets );
    report_client_failures();
    check_paused( name, nb_live );

    if (server_kills)
    {
        check( kills_done == server_kills, "%u server kills of %u", kills_done, server_kills );
        check( portres_connect( &server_pid ) == STATUS_SUCCESS, "no server: %s", portres_error_message() );
        for (i = 0; i < kills_done; i++) if (server_pid == (unsigned int)killed_servers[i]) break;
        check( i == kills_done, "the killed server %u answers", server_pid );
    }

    /* half are killed, half exit; then nothing of theirs may remain */
    for (i = 0; i < NB_CLIENTS; i += 2) kill_client( i, SIGKILL );
    __atomic_store_n( &shared->command, CMD_EXIT, __ATOMIC_RELEASE );
    for (i = 1; i < NB_CLIENTS; i += 2)
    {
        struct client_slot *slot = &shared->clients[i];
        int status;

        if (!slot->pid) continue;
        while (waitpid( slot->pid, &status, 0 ) == -1 && errno == EINTR);
        if (!WIFEXITED( status ) || WEXITSTATUS( status )) report_status( i, status, "at the end" );
        slot->pid = 0;
    }
    check_all_gone( name );
    report_client_failures();
}

TEST(test_load)
{
    char prefix[PORTRES_PATH_MAX], dir[PORTRES_PATH_MAX], name[64];
    unsigned int p, i, status, server_kills;
    double begin = test_now();
    const char *env;

    test_prefix();
    phase_seconds = env_number( "PORTRES_LOAD_SECONDS", phase_seconds );
    rounds = env_number( "PORTRES_LOAD_ROUNDS", rounds );
    server_kills = env_number( "PORTRES_LOAD_SERVER_KILLS", server_kill_target );
    if (server_kills > MAX_SERVER_KILLS) server_kills = MAX_SERVER_KILLS;
    alarm( 120 + (rounds + 1) * phase_seconds * 4 );   /* the harness's limit, for longer runs */
    if ((env = getenv( "PORTRES_LOAD_SEED" )) && *env) base_seed = strtoull( env, NULL, 0 );
    else base_seed = (unsigned long long)time( NULL ) * 1000003u ^ getpid();
    test_rng_seed( base_seed );
    printf( "seed %llu (PORTRES_LOAD_SEED=%llu repeats this run); %u s phases, %u rounds, %u server kills\n",
            base_seed, base_seed, phase_seconds, rounds, server_kills );

    if (portres_prefix_dir( prefix, sizeof(prefix), 1 ) || portres_server_dir( prefix, dir, sizeof(dir), 1 ))
    {
        check( 0, "no prefix: %s", portres_error_message() );
        return;
    }
    portres_store_path( prefix, store_path, sizeof(store_path) );
    snprintf( lock_path, sizeof(lock_path), "%s/lock", dir );
    shared = mmap( NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0 );
    check( shared != MAP_FAILED, "mmap: %s", strerror( errno ) );
    if (shared == MAP_FAILED) return;

    /* our own dynamic range and persistent reservations, kept in the store */
    for (p = 0; p < 2; p++)
    {
        status = portres_set_dynamic_range( protocols[p], DYN_START, DYN_COUNT, 1 );
        check( !status, "set_dynamic_range: %#x: %s", status, portres_error_message() );
        for (i = 0; i < NB_ANCHORS; i++)
        {
            status = portres_persistent_create( protocols[p], ANCHOR_BASE + 10 * i, 2, 1, &anchors[p][i] );
            if (status) anchors[p][i] = 0;  /* not checked later */
            if (status == STATUS_SHARING_VIOLATION) printf( "anchor %s %u is in use on the host: not checked\n",
                                                            protocol_names[p], ANCHOR_BASE + 10 * i );
            else check( !status, "anchor %s %u: status %#x", protocol_names[p], ANCHOR_BASE + 10 * i, status );
        }
    }
    if (test_failures()) return;

    for (i = 0; i < rounds; i++)
    {
        snprintf( name, sizeof(name), "clients killed, round %u", i + 1 );
        run_phase( name, 0 );
    }
    run_phase( "server killed too", server_kills );

    check_tally( &forks, "forks of a client" );
    printf( "%u checks, %.1f s in all, %u client processes started\n", checks, test_now() - begin, spawn_count );
    munmap( shared, sizeof(*shared) );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_load);
    return test_summary();
}
