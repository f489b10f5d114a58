/*
 * libFuzzer target: the server's request dispatch, handlers and engine, fed
 * request frames from several fake clients
 *
 * The input is a 4-byte seed (which ports the fake host has in use), then
 * chunks: a control byte, and for most control values a request frame of
 * PORTRES_FRAME_SIZE bytes.  The control byte's low two bits pick one of
 * four clients, 0xfc and above disconnect that client, bit 7 makes the store
 * unwritable for the frame.  Frames go through dispatch_request as the
 * server's connections do: a client connects with its first frame, and is
 * closed when the server would close it.  After every frame the engine's
 * invariants and the reply are checked; after the input the store must
 * hold what the engine holds.  Any violation aborts.
 *
 * PORTRES_FUZZ_WRITE_SEEDS=DIR writes a seed corpus into DIR and exits;
 * PORTRES_FUZZ_DEBUG=1 traces the requests as portres-server -d does.
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
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

#define NB_SLOTS        4
#define CTL_DISCONNECT  0xfc   /* and above */
#define CTL_STORE_FAILS 0x80

int LLVMFuzzerInitialize( int *argc, char ***argv );
int LLVMFuzzerTestOneInput( const unsigned char *data, size_t size );

/* the fake host of one input */
struct fake_host
{
    unsigned int    seed;
    unsigned int    calls;
    portres_token_t counter;
    portres_token_t last;
    unsigned int    holds;      /* ports held, not yet let go */
};

/* The server reports a client of another protocol version on stderr, and the
 * fuzzer makes thousands of them: during a request, stderr is this FILE on
 * /dev/null, unless tracing.  Sanitizer and libFuzzer reports do not go
 * through the stderr FILE. */
static FILE *quiet_stderr;

static char work_dir[64];
static char store_path[96], store_tmp[96], bad_store_path[96];

#define fail(...) do { fprintf( stderr, "fuzz_server: " __VA_ARGS__ ); fputc( '\n', stderr ); abort(); } while (0)

/* one port in every (seed & 0xff), shifted by the rest of the seed; none for 0 */
static int fake_port_in_use( void *ctx, int protocol, unsigned short port )
{
    const struct fake_host *host = ctx;
    unsigned int modulus = host->seed & 0xff;

    return modulus && (port + protocol + (host->seed >> 8)) % modulus == 0;
}

/* small tokens that a fuzzer can name; now and then 0 or the previous one,
 * which the engine must refuse and draw again */
static portres_token_t fake_random_token( void *ctx )
{
    struct fake_host *host = ctx;

    host->calls++;
    if (host->calls % 7 == 0) return 0;
    if (host->calls % 5 == 0 && host->last) return host->last;
    return host->last = ++host->counter;
}

/* Wine sockets end as the input says: some are gone, some cannot be told
 * of (which the engine takes as alive) */
static int fake_socket_alive( void *ctx, portres_socket_t socket )
{
    const struct fake_host *host = ctx;
    unsigned long long mixed = socket ^ (host->seed >> 16);

    if (mixed % 11 == 0) return -1;
    return mixed % 3 != 0;
}

/* holds fail where the fake host has a port in use, and are counted */
static int fake_hold( void *ctx, int protocol, unsigned short port )
{
    struct fake_host *host = ctx;

    if (fake_port_in_use( ctx, protocol, port )) return ENGINE_HOLD_IN_USE;
    host->holds++;
    return port;
}

static void fake_unhold( void *ctx, int handle, int protocol, unsigned short port )
{
    struct fake_host *host = ctx;

    if (!host->holds--) fail( "a hold let go that was not taken" );
}

static int fake_hold_valid( void *ctx, int handle, int protocol, unsigned short port )
{
    return handle == port;
}

static void remove_work_dir( void )
{
    unlink( store_path );
    unlink( store_tmp );
    rmdir( work_dir );
}

/***********************************************************************
 *           checks
 */

static int known_status( unsigned int status )
{
    switch (status)
    {
    case STATUS_SUCCESS:
    case STATUS_NOT_IMPLEMENTED:
    case STATUS_INVALID_PARAMETER:
    case STATUS_NO_MEMORY:
    case STATUS_ACCESS_DENIED:
    case STATUS_SHARING_VIOLATION:
    case STATUS_REVISION_MISMATCH:
    case STATUS_DISK_FULL:
    case STATUS_ADDRESS_ALREADY_EXISTS:
    case STATUS_NOT_FOUND:
    case STATUS_UNEXPECTED_IO_ERROR:
    case STATUS_MEDIA_WRITE_PROTECTED:
        return 1;
    default:
        return 0;
    }
}

static void check_list( const struct list_request *req, const struct list_reply *reply,
                        const struct portres_entry *entries, unsigned int count )
{
    unsigned int i, next = req->first_port;

    if (count > reply->total) fail( "list: %u entries of %u in all", count, reply->total );
    for (i = 0; i < count; i++)
    {
        const struct portres_entry *entry = &entries[i];

        if (entry->start < next || !entry->count || entry->start + entry->count - 1 > 65535)
            fail( "list: entry %u is %u+%u after port %u", i, entry->start, entry->count, next );
        if (entry->kind != PORTRES_KIND_RUNTIME && entry->kind != PORTRES_KIND_PERSISTENT)
            fail( "list: entry %u has kind %u", i, entry->kind );
        if ((entry->kind == PORTRES_KIND_PERSISTENT) != !entry->owner_pid)
            fail( "list: entry %u of kind %u has owner %u", i, entry->kind, entry->owner_pid );
        next = entry->start + entry->count;
    }
    if (reply->next_port && reply->next_port < next)
        fail( "list: next port %u inside the entries, which end at %u", reply->next_port, next );
}

/* the rules of dispatch_request, then what each handler promises */
static void check_reply( const struct client *client, int was_initialized, int ret,
                         const union generic_request *req, const union generic_reply *reply, const void *data )
{
    unsigned int status = reply->reply_header.status, data_size = reply->reply_header.data_size;
    unsigned int code = req->request_header.req;

    if (req->request_header.data_size > PORTRES_MAX_REQUEST_DATA)
    {
        if (ret != -1)
            fail( "request %u with %u bytes of data was answered", code, req->request_header.data_size );
        return;
    }
    if (ret == -1) fail( "request %u closed the connection", code );
    if (!known_status( status )) fail( "request %u: unknown status %#x", code, status );
    if (data_size > PORTRES_MAX_REPLY_DATA) fail( "request %u: %u bytes of reply data", code, data_size );
    if (data_size && !data) fail( "request %u: %u bytes of reply data, but none given", code, data_size );
    if (data_size && code != REQ_list) fail( "request %u: %u bytes of reply data", code, data_size );
    if (code >= REQ_NB_REQUESTS)
    {
        if (status != STATUS_NOT_IMPLEMENTED || client->closing)
            fail( "unknown request %u: status %#x, closing %d", code, status, client->closing );
        return;
    }
    if (!was_initialized && code != REQ_init)
    {
        if (status != STATUS_INVALID_PARAMETER || !client->closing)
            fail( "request %u before init: status %#x, closing %d", code, status, client->closing );
        return;
    }

    switch (code)
    {
    case REQ_init:
        if (reply->init_reply.version != PORTRES_PROTOCOL_VERSION)
            fail( "init: version %#x in the reply", reply->init_reply.version );
        if (req->init_request.version == PORTRES_PROTOCOL_VERSION ? status || !client->initialized
                                                                  : !status || !client->closing)
            fail( "init of version %#x: status %#x", req->init_request.version, status );
        break;
    case REQ_acquire:
        if (status) break;
        if (!reply->acquire_reply.token) fail( "acquire: token 0" );
        if (reply->acquire_reply.count != req->acquire_request.count ||
            (req->acquire_request.start && reply->acquire_reply.start != req->acquire_request.start) ||
            !reply->acquire_reply.start || reply->acquire_reply.start + reply->acquire_reply.count - 1 > 65535)
            fail( "acquire: asked for %u+%u, got %u+%u", req->acquire_request.start,
                  req->acquire_request.count, reply->acquire_reply.start, reply->acquire_reply.count );
        break;
    case REQ_persistent_create:
        if (!status && !reply->persistent_create_reply.token) fail( "persistent_create: token 0" );
        break;
    case REQ_list:
        if (data_size % sizeof(struct portres_entry)) fail( "list: %u bytes of entries", data_size );
        if (!status) check_list( &req->list_request, &reply->list_reply, data,
                                 data_size / sizeof(struct portres_entry) );
        break;
    case REQ_socket_closed:
        if (status) fail( "socket_closed cannot fail, got %#x", status );
        break;
    case REQ_query_socket:
        if (status) fail( "query_socket cannot fail, got %#x", status );
        if (reply->query_socket_reply.associated > 1) fail( "query_socket: associated %u",
                                                            reply->query_socket_reply.associated );
        break;
    case REQ_identify:
        /* a client becomes a Wine client before its first socket only */
        if (status && status != STATUS_INVALID_PARAMETER) fail( "identify: status %#x", status );
        break;
    case REQ_get_dynamic_range:
        if (status && engine_protocol_index( req->get_dynamic_range_request.protocol ) >= 0)
            fail( "get_dynamic_range of protocol %u: %#x", req->get_dynamic_range_request.protocol, status );
        break;
    }
}

static void check_engine( const char *when )
{
    char error[256];

    if (!engine_check( engine, error, sizeof(error) )) fail( "%s: %s", when, error );
}

/* what is kept of an engine: its persistent reservations and dynamic ranges */
struct kept_state
{
    unsigned int   count;
    struct
    {
        int             protocol;
        unsigned short  start;
        unsigned short  count;
        portres_token_t token;
    }              entries[64];
    unsigned int   overflow;
    unsigned short dyn_start[ENGINE_NB_PROTOCOLS];
    unsigned short dyn_count[ENGINE_NB_PROTOCOLS];
    int            protocol;
};

static int keep_one( void *ctx, const struct engine_info *info )
{
    struct kept_state *state = ctx;

    if (info->kind != PORTRES_KIND_PERSISTENT) return 0;
    if (state->count == sizeof(state->entries) / sizeof(state->entries[0]))
    {
        state->overflow++;
        return 0;
    }
    state->entries[state->count].protocol = state->protocol;
    state->entries[state->count].start    = info->start;
    state->entries[state->count].count    = info->count;
    state->entries[state->count].token    = info->token;
    state->count++;
    return 0;
}

static void get_kept_state( struct engine *from, struct kept_state *state )
{
    memset( state, 0, sizeof(*state) );
    for (state->protocol = 0; state->protocol < ENGINE_NB_PROTOCOLS; state->protocol++)
    {
        engine_get_dynamic_range( from, state->protocol, &state->dyn_start[state->protocol],
                                  &state->dyn_count[state->protocol] );
        engine_enum( from, NULL, state->protocol, 0, keep_one, state );
    }
}

/* a failed store write undoes its change: the store always holds what the engine keeps */
static void check_store( struct fake_host *host )
{
    static const struct engine_callbacks callbacks = { fake_port_in_use, fake_random_token, fake_socket_alive,
                                                        fake_hold, fake_unhold, fake_hold_valid, NULL, NULL };
    struct engine_callbacks cb = callbacks;
    struct kept_state *live = malloc( sizeof(*live) ), *stored = malloc( sizeof(*stored) );
    struct engine *loaded;
    char error[512];

    cb.ctx = host;
    if (!live || !stored || !(loaded = engine_create( &cb, NULL ))) fail( "out of memory" );
    if (store_load( store_path, loaded, error, sizeof(error) ) == -1) fail( "the store does not load: %s", error );
    get_kept_state( engine, live );
    get_kept_state( loaded, stored );
    if (memcmp( live, stored, sizeof(*live) ))
        fail( "the store holds %u persistent reservations (%u:%u, %u:%u), the engine %u (%u:%u, %u:%u)",
              stored->count + stored->overflow, stored->dyn_start[0], stored->dyn_count[0],
              stored->dyn_start[1], stored->dyn_count[1], live->count + live->overflow,
              live->dyn_start[0], live->dyn_count[0], live->dyn_start[1], live->dyn_count[1] );
    engine_destroy( loaded );
    free( live );
    free( stored );
}

/***********************************************************************
 *           the connections and sessions, as session.c keeps them
 */

static struct client **connections;   /* the slots of the current input */

unsigned int get_nb_connections( void )
{
    unsigned int i, count = 0;

    for (i = 0; i < NB_SLOTS; i++) count += connections[i] != NULL;
    return count;
}

/* every connection is a session of its own here: none outlives a server */
void new_session( struct client *client )
{
    static uint64_t last_session;

    client->session = ++last_session;
    engine_client_set_id( client->owner, client->session );
}

int resume_session( struct client *client, uint64_t session, unsigned int completed )
{
    return 0;
}

/* nor is there a keeper to tell */
void session_keep_reply( struct client *client, const union generic_request *req,
                         const union generic_reply *reply, int pending, uint64_t effect )
{
}

void journal_commit( void )
{
}

int check_connections( unsigned int engine_clients, char *error, size_t size )
{
    unsigned int count = get_nb_connections();

    if (engine_clients == count) return 1;
    snprintf( error, size, "%u connections, %u clients in the engine", count, engine_clients );
    return 0;
}

/***********************************************************************
 *           the target
 */

int LLVMFuzzerTestOneInput( const unsigned char *data, size_t size )
{
    static const struct engine_callbacks callbacks = { fake_port_in_use, fake_random_token, fake_socket_alive,
                                                        fake_hold, fake_unhold, fake_hold_valid, NULL, NULL };
    struct engine_callbacks cb = callbacks;
    struct client *slots[NB_SLOTS] = { NULL };
    FILE *saved_stderr = stderr;
    struct fake_host host;
    size_t pos = 0;
    unsigned int i;

    memset( &host, 0, sizeof(host) );
    for (i = 0; i < 4 && pos < size; i++) host.seed |= (unsigned int)data[pos++] << (8 * i);
    cb.ctx = &host;
    connections = slots;

    unlink( store_path );
    if (init_reservations( store_path, NULL, &cb ) == -1) fail( "init_reservations failed" );

    while (pos < size)
    {
        unsigned int ctl = data[pos++], slot = ctl % NB_SLOTS;
        union generic_request req;
        union generic_reply reply;
        void *reply_data;
        int ret, initialized;

        if (ctl >= CTL_DISCONNECT)
        {
            if (slots[slot]) destroy_client( slots[slot] );
            slots[slot] = NULL;
            check_engine( "after a disconnection" );
            continue;
        }
        if (size - pos < sizeof(req)) break;   /* the server waits for the rest of the frame */
        memcpy( &req, data + pos, sizeof(req) );
        pos += sizeof(req);

        if (!slots[slot] && !(slots[slot] = create_client( 1000 + slot, getuid() ))) fail( "out of memory" );
        store_file = (ctl & CTL_STORE_FAILS) ? bad_store_path : store_path;
        initialized = slots[slot]->initialized;
        if (quiet_stderr) stderr = quiet_stderr;
        ret = dispatch_request( slots[slot], &req, &reply, &reply_data );
        stderr = saved_stderr;
        store_file = store_path;
        check_reply( slots[slot], initialized, ret, &req, &reply, reply_data );
        free( reply_data );
        if (ret == -1 || slots[slot]->closing)
        {
            destroy_client( slots[slot] );
            slots[slot] = NULL;
        }
        check_engine( "after a request" );
    }

    check_store( &host );
    for (i = 0; i < NB_SLOTS; i++) if (slots[i]) destroy_client( slots[i] );
    check_engine( "after the last disconnection" );
    close_reservations();
    /* every port held was let go, once */
    if (host.holds) fail( "%u ports still held after the engine went", host.holds );
    return 0;
}

/***********************************************************************
 *           seeds
 */

struct seed
{
    unsigned int host_seed;
    unsigned int count;
    struct
    {
        unsigned char         ctl;
        union generic_request req;    /* unless ctl disconnects */
    }            ops[16];
};

static void seed_start( struct seed *seed, unsigned int host_seed )
{
    memset( seed, 0, sizeof(*seed) );
    seed->host_seed = host_seed;
}

static union generic_request *seed_frame( struct seed *seed, unsigned int ctl, unsigned int code )
{
    union generic_request *req = &seed->ops[seed->count].req;

    seed->ops[seed->count++].ctl = ctl;
    req->request_header.req = code;
    return req;
}

static void seed_init( struct seed *seed, unsigned int slot )
{
    seed_frame( seed, slot, REQ_init )->init_request.version = PORTRES_PROTOCOL_VERSION;
}

static void seed_disconnect( struct seed *seed, unsigned int slot )
{
    seed->ops[seed->count++].ctl = CTL_DISCONNECT | slot;
}

static void seed_acquire( struct seed *seed, unsigned int slot, unsigned int protocol, unsigned short start,
                          unsigned short count, portres_socket_t socket )
{
    struct acquire_request *req = &seed_frame( seed, slot, REQ_acquire )->acquire_request;

    req->protocol = protocol;
    req->start    = start;
    req->count    = count;
    req->socket   = socket;
}

static void seed_associate( struct seed *seed, unsigned int slot, unsigned int protocol, portres_socket_t socket,
                            portres_token_t token, unsigned int elevated )
{
    struct associate_request *req = &seed_frame( seed, slot, REQ_associate )->associate_request;

    req->protocol = protocol;
    req->socket   = socket;
    req->token    = token;
    req->elevated = elevated;
}

static void seed_bind( struct seed *seed, unsigned int slot, unsigned int protocol, unsigned short port,
                       portres_socket_t socket )
{
    struct bind_port_request *req = &seed_frame( seed, slot, REQ_bind_port )->bind_port_request;

    req->protocol = protocol;
    req->port     = port;
    req->socket   = socket;
}

static void seed_write( const char *dir, const char *name, const struct seed *seed )
{
    char path[4096];
    unsigned int i;
    FILE *file;
    int ok;

    snprintf( path, sizeof(path), "%s/%s", dir, name );
    if (!(file = fopen( path, "wb" )))
    {
        perror( path );
        exit( 1 );
    }
    for (i = 0; i < 4; i++) fputc( (seed->host_seed >> (8 * i)) & 0xff, file );
    for (i = 0; i < seed->count; i++)
    {
        fputc( seed->ops[i].ctl, file );
        if (seed->ops[i].ctl < CTL_DISCONNECT) fwrite( &seed->ops[i].req, sizeof(seed->ops[i].req), 1, file );
    }
    ok = !ferror( file );
    if (fclose( file ) || !ok)
    {
        perror( path );
        exit( 1 );
    }
}

static void write_seeds( const char *dir )
{
    union generic_request *req;
    struct seed seed;

    /* acquire, associate, bind, query, release, close */
    seed_start( &seed, 0 );
    seed_init( &seed, 0 );
    seed_acquire( &seed, 0, PORTRES_PROTO_TCP, 5000, 4, 0x10 );
    seed_associate( &seed, 0, PORTRES_PROTO_TCP, 0x14, 1, 0 );
    seed_bind( &seed, 0, PORTRES_PROTO_TCP, 0, 0x14 );
    req = seed_frame( &seed, 0, REQ_query_port );
    req->query_port_request.protocol = PORTRES_PROTO_TCP;
    req->query_port_request.port = 5001;
    req = seed_frame( &seed, 0, REQ_release );
    req->release_request.token = 1;
    req = seed_frame( &seed, 0, REQ_socket_closed );
    req->socket_closed_request.socket = 0x14;
    seed_write( dir, "runtime", &seed );

    /* two clients with wildcard blocks on a busy host, one goes away */
    seed_start( &seed, 0x0300 | 7 );
    seed_init( &seed, 1 );
    seed_init( &seed, 2 );
    seed_acquire( &seed, 1, PORTRES_PROTO_UDP, 0, 16, 0x20 );
    seed_acquire( &seed, 2, PORTRES_PROTO_UDP, 0, 16, 0x20 );
    seed_associate( &seed, 2, PORTRES_PROTO_UDP, 0x24, 1, 0 );
    req = seed_frame( &seed, 1, REQ_list );
    req->list_request.protocol = PORTRES_PROTO_UDP;
    seed_disconnect( &seed, 1 );
    req = seed_frame( &seed, 2, REQ_list );
    req->list_request.protocol = PORTRES_PROTO_UDP;
    seed_write( dir, "wildcard", &seed );

    /* persistent reservations, a failed store write, the dynamic range */
    seed_start( &seed, 0 );
    seed_init( &seed, 3 );
    req = seed_frame( &seed, 3, REQ_persistent_create );
    req->persistent_create_request.protocol = PORTRES_PROTO_TCP;
    req->persistent_create_request.start = 6000;
    req->persistent_create_request.count = 10;
    req->persistent_create_request.elevated = 1;
    req = seed_frame( &seed, CTL_STORE_FAILS | 3, REQ_persistent_create );
    req->persistent_create_request.protocol = PORTRES_PROTO_UDP;
    req->persistent_create_request.start = 6000;
    req->persistent_create_request.count = 10;
    req->persistent_create_request.elevated = 1;
    req = seed_frame( &seed, 3, REQ_persistent_lookup );
    req->persistent_lookup_request.protocol = PORTRES_PROTO_TCP;
    req->persistent_lookup_request.start = 6000;
    req->persistent_lookup_request.count = 10;
    seed_associate( &seed, 3, PORTRES_PROTO_TCP, 0x30, 1, 1 );
    req = seed_frame( &seed, 3, REQ_set_dynamic_range );
    req->set_dynamic_range_request.protocol = PORTRES_PROTO_TCP;
    req->set_dynamic_range_request.start = 20000;
    req->set_dynamic_range_request.count = 1000;
    req->set_dynamic_range_request.elevated = 1;
    req = seed_frame( &seed, 3, REQ_get_dynamic_range );
    req->get_dynamic_range_request.protocol = PORTRES_PROTO_TCP;
    req = seed_frame( &seed, 3, REQ_persistent_delete );
    req->persistent_delete_request.protocol = PORTRES_PROTO_TCP;
    req->persistent_delete_request.start = 6000;
    req->persistent_delete_request.count = 10;
    req->persistent_delete_request.elevated = 1;
    seed_write( dir, "persistent", &seed );

    /* store writes that fail: the delete and the range change are undone */
    seed_start( &seed, 0 );
    seed_init( &seed, 0 );
    req = seed_frame( &seed, 0, REQ_persistent_create );
    req->persistent_create_request.protocol = PORTRES_PROTO_UDP;
    req->persistent_create_request.start = 7000;
    req->persistent_create_request.count = 3;
    req->persistent_create_request.elevated = 1;
    req = seed_frame( &seed, CTL_STORE_FAILS, REQ_persistent_delete );
    req->persistent_delete_request.protocol = PORTRES_PROTO_UDP;
    req->persistent_delete_request.start = 7000;
    req->persistent_delete_request.count = 3;
    req->persistent_delete_request.elevated = 1;
    req = seed_frame( &seed, CTL_STORE_FAILS, REQ_set_dynamic_range );
    req->set_dynamic_range_request.protocol = PORTRES_PROTO_UDP;
    req->set_dynamic_range_request.start = 30000;
    req->set_dynamic_range_request.count = 300;
    req->set_dynamic_range_request.elevated = 1;
    seed_write( dir, "undo", &seed );

    /* binds of associated sockets: an explicit port, then more sockets than ports */
    seed_start( &seed, 0 );
    seed_init( &seed, 0 );
    seed_acquire( &seed, 0, PORTRES_PROTO_TCP, 8000, 2, 0x10 );
    seed_associate( &seed, 0, PORTRES_PROTO_TCP, 0x14, 1, 0 );
    seed_bind( &seed, 0, PORTRES_PROTO_TCP, 8001, 0x14 );
    seed_associate( &seed, 0, PORTRES_PROTO_TCP, 0x18, 1, 0 );
    seed_bind( &seed, 0, PORTRES_PROTO_TCP, 0, 0x18 );
    seed_associate( &seed, 0, PORTRES_PROTO_TCP, 0x1c, 1, 0 );
    seed_bind( &seed, 0, PORTRES_PROTO_TCP, 0, 0x1c );
    seed_write( dir, "bind", &seed );

    /* Wine clients: sockets named by inode from two processes, a socket
     * that outlives its process, sockets the fake host says have ended */
    seed_start( &seed, 0x2a00 );
    seed_init( &seed, 0 );
    seed_frame( &seed, 0, REQ_identify )->identify_request.wine = 1;
    seed_init( &seed, 1 );
    seed_frame( &seed, 1, REQ_identify )->identify_request.wine = 1;
    seed_acquire( &seed, 0, PORTRES_PROTO_TCP, 9000, 4, 0x31 );
    seed_associate( &seed, 0, PORTRES_PROTO_TCP, 0x32, 1, 0 );
    seed_bind( &seed, 1, PORTRES_PROTO_TCP, 0, 0x32 );
    seed_frame( &seed, 1, REQ_query_socket )->query_socket_request.socket = 0x31;
    seed_disconnect( &seed, 0 );
    seed_acquire( &seed, 1, PORTRES_PROTO_TCP, 9002, 1, 0x33 );
    seed_frame( &seed, 1, REQ_socket_closed )->socket_closed_request.socket = 0x31;
    seed_frame( &seed, 1, REQ_list )->list_request.protocol = PORTRES_PROTO_TCP;
    seed_write( dir, "wine", &seed );

    /* what the server refuses: a request before init, a wrong version, an unknown request */
    seed_start( &seed, 0 );
    seed_frame( &seed, 0, REQ_list );
    seed_frame( &seed, 1, REQ_init )->init_request.version = PORTRES_PROTOCOL_VERSION + 1;
    seed_init( &seed, 2 );
    seed_frame( &seed, 2, REQ_NB_REQUESTS );
    seed_frame( &seed, 2, REQ_get_dynamic_range )->request_header.data_size = 1;
    seed_write( dir, "refused", &seed );
}

int LLVMFuzzerInitialize( int *argc, char ***argv )
{
    const char *dir = getenv( "PORTRES_FUZZ_WRITE_SEEDS" ), *debug = getenv( "PORTRES_FUZZ_DEBUG" );
    struct stat st;

    if (dir)
    {
        write_seeds( dir );
        exit( 0 );
    }
    if (debug) debug_level = atoi( debug );
    if (!debug_level && !(quiet_stderr = fopen( "/dev/null", "w" ))) perror( "fuzz_server: /dev/null" );
    /* the store is written often: memory is faster than a disk */
    if (!stat( "/dev/shm", &st ) && S_ISDIR( st.st_mode ) && !access( "/dev/shm", W_OK ))
        strcpy( work_dir, "/dev/shm/portres-fuzz-XXXXXX" );
    else
        strcpy( work_dir, "/tmp/portres-fuzz-XXXXXX" );
    if (!mkdtemp( work_dir ))
    {
        perror( "fuzz_server: mkdtemp" );
        exit( 1 );
    }
    snprintf( store_path, sizeof(store_path), "%s/store", work_dir );
    snprintf( store_tmp, sizeof(store_tmp), "%s/store.tmp", work_dir );
    snprintf( bad_store_path, sizeof(bad_store_path), "%s/missing/store", work_dir );
    atexit( remove_work_dir );
    return 0;
}
