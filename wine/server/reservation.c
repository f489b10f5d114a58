/*
 * Port reservations: the wineserver's tables, reached from the socket ioctls
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

/*
 * The reservation engine keeps the tables (reservations by protocol and
 * token, their owner process and acquiring socket, the sockets associated
 * with them); this file connects it to the server's objects.  A socket is
 * named by its object: its reservations go when the object is destroyed,
 * that is when the last handle of it closes, in whichever process.  Each
 * process is a client of the engine, and owns the reservations it acquired
 * until it ends.
 *
 * Persistent reservations are kept where Windows keeps them, in the
 * registry (HKLM\System\CurrentControlSet\Control\Nsi, one key for TCP and
 * one for UDP), read when the tables are first needed and written at each
 * change.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#define USE_WS_PREFIX
#include "winsock2.h"
#include "wine/afd.h"
#include "wine/list.h"

#include "handle.h"
#include "process.h"
#include "thread.h"
#include "request.h"
#include "security.h"
#include "reservation.h"
#include "reservation_host.h"

struct reservation_client
{
    struct list           entry;
    struct process       *process;
    struct engine_client *client;
};

static struct engine *engine;
static struct engine_client *server_client;    /* closes the sockets whatever process closes them */
static struct list clients = LIST_INIT( clients );
static portres_socket_t closing_socket;        /* the socket being destroyed */
static unsigned int nb_persistent[ENGINE_NB_PROTOCOLS];

/* Windows' keys of the persistent reservations, by protocol.  A value is
 * named by the INET_PORT_RANGE it holds, as hex digits of its bytes: the
 * start port in network order, then the count in little-endian order.
 * Its data starts with the four bytes Windows writes; Wine adds the token,
 * little-endian, so that it survives a restart. */
static const char *const persistent_keys[ENGINE_NB_PROTOCOLS] =
{
    "System\\CurrentControlSet\\Control\\Nsi\\{eb004a03-9b1a-11d4-9123-0050047759bc}\\29",
    "System\\CurrentControlSet\\Control\\Nsi\\{eb004a02-9b1a-11d4-9123-0050047759bc}\\5",
};
static const unsigned char persistent_data[4] = { 0x12, 0x00, 0xff, 0xff };

static portres_socket_t socket_id( const void *sock )
{
    return (uintptr_t)sock;
}

int wineserver_socket_alive( portres_socket_t socket )
{
    /* every socket the engine knows lives until sock_reservation_closed */
    return socket != closing_socket;
}

static const struct engine_callbacks callbacks =
{
    host_port_in_use,
    host_random_token,
    host_socket_alive,
    host_hold,
    host_unhold,
    host_hold_valid,
    NULL,
    NULL
};

static void persistent_value_name( char name[9], unsigned int start, unsigned int count )
{
    sprintf( name, "%02x%02x%02x%02x", start >> 8, start & 0xff, count & 0xff, count >> 8 );
}

static int hex_digit( WCHAR c )
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* a value of a persistent key; one that is not a reservation is left alone */
static void load_persistent( void *ctx, const WCHAR *name, data_size_t namelen, int type, const void *data,
                             data_size_t len )
{
    const unsigned char *bytes = data;
    int protocol = *(const int *)ctx;
    unsigned char range[4];
    portres_token_t token = 0;
    unsigned int i;
    int high, low;

    if (type != REG_BINARY || namelen != 8 * sizeof(WCHAR) || len < sizeof(persistent_data)) return;
    for (i = 0; i < 4; i++)
    {
        if ((high = hex_digit( name[2 * i] )) < 0 || (low = hex_digit( name[2 * i + 1] )) < 0) return;
        range[i] = high << 4 | low;
    }
    if (len >= sizeof(persistent_data) + sizeof(token))
        for (i = 0; i < sizeof(token); i++) token |= (portres_token_t)bytes[sizeof(persistent_data) + i] << (8 * i);
    /* a reservation written by Windows has no token of ours */
    while (!token || engine_has_token( engine, token )) token = host_random_token( NULL );
    if (!engine_persistent_add( engine, protocol, range[0] << 8 | range[1], range[2] | range[3] << 8, token ))
        nb_persistent[protocol]++;
}

static unsigned int save_persistent( int protocol, unsigned int start, unsigned int count, portres_token_t token )
{
    unsigned char data[sizeof(persistent_data) + sizeof(token)];
    char name[9];
    unsigned int i;

    memcpy( data, persistent_data, sizeof(persistent_data) );
    for (i = 0; i < sizeof(token); i++) data[sizeof(persistent_data) + i] = token >> (8 * i);
    persistent_value_name( name, start, count );
    return set_machine_value( persistent_keys[protocol], name, REG_BINARY, data, sizeof(data) );
}

static unsigned int forget_persistent( int protocol, unsigned int start, unsigned int count )
{
    char name[9];

    persistent_value_name( name, start, count );
    return delete_machine_value( persistent_keys[protocol], name );
}

/* the tables, made on first use with the persistent reservations of the registry */
static struct engine *get_engine( void )
{
    int protocol;

    if (engine) return engine;
    if (!(engine = engine_create( &callbacks, NULL ))) return NULL;
    if (!(server_client = engine_client_create( engine, 0 )) || engine_client_set_wine( server_client ))
    {
        if (server_client) engine_client_destroy( server_client );
        server_client = NULL;
        engine_destroy( engine );
        engine = NULL;
        return NULL;
    }
    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
        enum_machine_values( persistent_keys[protocol], load_persistent, &protocol );
    return engine;
}

/* the engine's client of a process, made on first use */
static struct engine_client *get_client( struct process *process )
{
    struct reservation_client *client;

    LIST_FOR_EACH_ENTRY( client, &clients, struct reservation_client, entry )
        if (client->process == process) return client->client;
    if (!get_engine() || !(client = malloc( sizeof(*client) ))) return NULL;
    if (!(client->client = engine_client_create( engine, process->id )) ||
        engine_client_set_wine( client->client ))
    {
        if (client->client) engine_client_destroy( client->client );
        free( client );
        return NULL;
    }
    client->process = process;
    list_add_tail( &clients, &client->entry );
    return client->client;
}

/* the engine's protocol of a socket type, or -1 */
static int type_protocol( int type )
{
    if (type == WS_SOCK_STREAM) return ENGINE_TCP;
    if (type == WS_SOCK_DGRAM) return ENGINE_UDP;
    return -1;
}

static int process_elevated( struct process *process )
{
    return process->token && token_is_elevated( process->token );
}

void sock_reservation_ioctl( const void *sock, unsigned int code, int family, int type, int bound )
{
    const struct afd_port_reservation_params *params = get_req_data();
    struct afd_port_reservation_params reply;
    struct engine_client *client;
    struct engine_info info;
    portres_token_t token;
    unsigned int status;
    int protocol = type_protocol( type );

    if (get_req_data_size() < sizeof(*params))
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    if ((family != WS_AF_INET && family != WS_AF_INET6) || protocol < 0)
    {
        set_error( STATUS_NOT_SUPPORTED );
        return;
    }
    if (!(client = get_client( current->process )))
    {
        set_error( STATUS_NO_MEMORY );
        return;
    }

    switch (code)
    {
    case IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION:
        if (get_reply_max_size() < sizeof(reply))
        {
            status = STATUS_BUFFER_TOO_SMALL;
            break;
        }
        if ((status = engine_acquire( client, protocol, params->start, params->count, socket_id( sock ), &info )))
            break;
        memset( &reply, 0, sizeof(reply) );
        reply.start = info.start;
        reply.count = info.count;
        reply.token = info.token;
        set_reply_data( &reply, sizeof(reply) );
        break;

    case IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION:
        status = engine_release( client, params->token );
        break;

    case IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION:
        /* the association must come before the bind */
        if (bound)
        {
            status = STATUS_INVALID_PARAMETER;
            break;
        }
        status = engine_associate( client, protocol, socket_id( sock ), params->token,
                                   process_elevated( current->process ), &info );
        break;

    case IOCTL_AFD_WINE_CREATE_PERSISTENT_PORT_RESERVATION:
        if (get_reply_max_size() < sizeof(reply))
            status = STATUS_BUFFER_TOO_SMALL;
        else if (!engine_valid_range( params->start, params->count ))
            status = STATUS_INVALID_PARAMETER;
        else if (!process_elevated( current->process ))
            status = STATUS_ACCESS_DENIED;
        else if (!(status = engine_persistent_create( engine, protocol, params->start, params->count, &token )))
        {
            if ((status = save_persistent( protocol, params->start, params->count, token )))
            {
                engine_persistent_delete( engine, protocol, params->start, params->count, &token );
                break;
            }
            nb_persistent[protocol]++;
            memset( &reply, 0, sizeof(reply) );
            reply.token = token;
            set_reply_data( &reply, sizeof(reply) );
        }
        break;

    case IOCTL_AFD_WINE_DELETE_PERSISTENT_PORT_RESERVATION:
        if (!engine_valid_range( params->start, params->count ))
            status = STATUS_INVALID_PARAMETER;
        else if (!process_elevated( current->process ))
            status = STATUS_ACCESS_DENIED;
        else if (!(status = engine_persistent_delete( engine, protocol, params->start, params->count, &token )))
        {
            if ((status = forget_persistent( protocol, params->start, params->count )))
            {
                engine_persistent_add( engine, protocol, params->start, params->count, token );
                break;
            }
            nb_persistent[protocol]--;
        }
        break;

    case IOCTL_AFD_WINE_LOOKUP_PERSISTENT_PORT_RESERVATION:
        if (get_reply_max_size() < sizeof(reply))
        {
            status = STATUS_BUFFER_TOO_SMALL;
            break;
        }
        if ((status = engine_persistent_lookup( engine, protocol, params->start, params->count, &token )))
            break;
        memset( &reply, 0, sizeof(reply) );
        reply.token = token;
        set_reply_data( &reply, sizeof(reply) );
        break;

    default:
        status = STATUS_NOT_SUPPORTED;
        break;
    }
    set_error( status );
}

/* the first and last port the host gives to binds of port 0 */
static void ephemeral_range( unsigned int *first, unsigned int *last )
{
    FILE *f = fopen( "/proc/sys/net/ipv4/ip_local_port_range", "r" );

    *first = 32768;
    *last = 60999;
    if (!f) return;
    if (fscanf( f, "%u %u", first, last ) != 2 || *first > *last || *last > 65535)
    {
        *first = 32768;
        *last = 60999;
    }
    fclose( f );
}

/* A port of the host's ephemeral range that nobody has bound and that is
 * in no reservation, or 0: the host gives a port twice to sockets with
 * SO_REUSEADDR, which Windows never does. */
static unsigned short choose_port( struct engine_client *client, int protocol )
{
    struct engine_info info;
    unsigned int first, last, port, i;

    ephemeral_range( &first, &last );
    for (i = 0; i < 64; i++)
    {
        port = first + host_random_token( NULL ) % (last - first + 1);
        if (engine_query_port( engine, client, protocol, port, &info )) continue;
        if (host_port_in_use( NULL, protocol, port )) continue;
        return port;
    }
    return 0;
}

/* whether a persistent reservation of the protocol lies in the host's
 * range of automatic ports, which the host does not know to avoid */
struct ephemeral_search
{
    unsigned int last;
    int found;
};

static int find_persistent( void *ctx, const struct engine_info *info )
{
    struct ephemeral_search *search = ctx;

    if (info->start > search->last) return 1;
    if (info->kind != PORTRES_KIND_PERSISTENT) return 0;
    search->found = 1;
    return 1;
}

static int persistent_in_ephemeral( int protocol )
{
    struct ephemeral_search search;
    unsigned int first;

    if (!nb_persistent[protocol]) return 0;
    ephemeral_range( &first, &search.last );
    search.found = 0;
    engine_enum( engine, NULL, protocol, first > 65535 ? 65535 : first, find_persistent, &search );
    return search.found;
}

int sock_reservation_bind( const void *sock, int type, int reuse, struct sockaddr *addr )
{
    struct engine_client *client;
    unsigned short port, result;
    unsigned int status;
    int associated, protocol = type_protocol( type );

    if (protocol < 0) return 0;
    if (addr->sa_family == AF_INET) port = ntohs( ((struct sockaddr_in *)addr)->sin_port );
    else if (addr->sa_family == AF_INET6) port = ntohs( ((struct sockaddr_in6 *)addr)->sin6_port );
    else return 0;
    if (!(client = get_client( current->process )))
    {
        set_error( STATUS_NO_MEMORY );
        return 1;
    }
    if ((status = engine_bind_port( client, protocol, socket_id( sock ), port, &result, &associated )))
    {
        set_error( status );
        return 1;
    }
    if (!result && (reuse || persistent_in_ephemeral( protocol ))) result = choose_port( client, protocol );
    if (result == port) return 0;
    if (addr->sa_family == AF_INET) ((struct sockaddr_in *)addr)->sin_port = htons( result );
    else ((struct sockaddr_in6 *)addr)->sin6_port = htons( result );
    return 0;
}

int sock_reservation_choose_port( const void *sock, int type )
{
    unsigned int associated, acquired;
    int protocol = type_protocol( type );

    if (protocol < 0 || !get_engine()) return 0;
    engine_query_socket( server_client, socket_id( sock ), &associated, &acquired );
    return associated || persistent_in_ephemeral( protocol );
}

void sock_reservation_closed( const void *sock )
{
    if (!engine) return;
    closing_socket = socket_id( sock );
    engine_socket_closed( server_client, closing_socket );
    closing_socket = 0;
}

void process_reservations_end( struct process *process )
{
    struct reservation_client *client;

    LIST_FOR_EACH_ENTRY( client, &clients, struct reservation_client, entry )
    {
        if (client->process != process) continue;
        list_remove( &client->entry );
        engine_client_destroy( client->client );
        free( client );
        return;
    }
}
