/*
 * The Unix half of the bridge: portres.so, the unixlib of portres.dll
 *
 * Wine loads it beside portres.dll; each entry makes one request through the
 * client library, which holds the process's one connection to the server.
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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portres/client.h"
#include "portres/bridge.h"

typedef unsigned int NTSTATUS;
typedef NTSTATUS (*unixlib_entry_t)( void *args );

static NTSTATUS unix_acquire( void *args )
{
    struct bridge_acquire_params *params = args;
    return portres_acquire( params->protocol, params->start, params->count, params->socket,
                            &params->token, &params->first );
}

static NTSTATUS unix_release( void *args )
{
    struct bridge_release_params *params = args;
    return portres_release( params->token );
}

static NTSTATUS unix_associate( void *args )
{
    struct bridge_associate_params *params = args;
    unsigned int kind = 0;
    NTSTATUS status = portres_associate( params->protocol, params->socket, params->token, params->elevated,
                                         &params->start, &params->count, &kind );
    params->kind = kind;
    return status;
}

static NTSTATUS unix_bind_port( void *args )
{
    struct bridge_bind_port_params *params = args;
    int associated = 0;
    NTSTATUS status = portres_bind_port( params->protocol, params->socket, params->port,
                                         &params->result, &associated );
    params->associated = associated;
    return status;
}

static NTSTATUS unix_socket_closed( void *args )
{
    struct bridge_socket_closed_params *params = args;
    unsigned int released = 0;
    NTSTATUS status = portres_socket_closed( params->socket, &released );
    params->released = released;
    return status;
}

static NTSTATUS unix_query_port( void *args )
{
    struct bridge_query_port_params *params = args;
    struct query_port_reply info;
    NTSTATUS status = portres_query_port( params->protocol, params->port, &info );

    if (status) return status;
    params->kind      = info.kind;
    params->start     = info.start;
    params->count     = info.count;
    params->owner_pid = info.owner_pid;
    params->is_mine   = info.is_mine;
    params->token     = info.token;
    return status;
}

static NTSTATUS unix_persistent_create( void *args )
{
    struct bridge_persistent_params *params = args;
    return portres_persistent_create( params->protocol, params->start, params->count, params->elevated,
                                      &params->token );
}

static NTSTATUS unix_persistent_delete( void *args )
{
    struct bridge_persistent_params *params = args;
    return portres_persistent_delete( params->protocol, params->start, params->count, params->elevated );
}

static NTSTATUS unix_persistent_lookup( void *args )
{
    struct bridge_persistent_params *params = args;
    return portres_persistent_lookup( params->protocol, params->start, params->count, &params->token );
}

static NTSTATUS unix_get_dynamic_range( void *args )
{
    struct bridge_dynamic_range_params *params = args;
    return portres_get_dynamic_range( params->protocol, &params->start, &params->count );
}

static NTSTATUS unix_set_dynamic_range( void *args )
{
    struct bridge_dynamic_range_params *params = args;
    return portres_set_dynamic_range( params->protocol, params->start, params->count, params->elevated );
}

static NTSTATUS unix_error_message( void *args )
{
    struct bridge_error_message_params *params = args;
    snprintf( params->message, sizeof(params->message), "%s", portres_error_message() );
    return STATUS_SUCCESS;
}

/* the host's rules for automatic binds: Linux takes their ports from
 * ip_local_port_range, leaving out ip_local_reserved_ports */
static uint64_t host_reserved[65536 / 64];
static unsigned short ephemeral_first = 32768, ephemeral_last = 60999;
static int host_reserved_any;

static void set_host_reserved( unsigned long first, unsigned long last )
{
    unsigned long port;

    for (port = first; port <= last && port < 65536; port++)
        host_reserved[port / 64] |= (uint64_t)1 << (port % 64);
    host_reserved_any |= first <= last && first < 65536;
}

static void read_host_ports( void )
{
    unsigned long first, last;
    char buf[4096], *p, *end;
    FILE *f;

    if ((f = fopen( "/proc/sys/net/ipv4/ip_local_port_range", "r" )))
    {
        if (fscanf( f, "%lu %lu", &first, &last ) == 2 && first && first <= last && last < 65536)
        {
            ephemeral_first = first;
            ephemeral_last = last;
        }
        fclose( f );
    }
    /* a list like "8080,9000-9010" */
    if ((f = fopen( "/proc/sys/net/ipv4/ip_local_reserved_ports", "r" )))
    {
        if (fgets( buf, sizeof(buf), f ))
        {
            for (p = buf; *p >= '0' && *p <= '9'; p = end + (*end == ','))
            {
                first = last = strtoul( p, &end, 10 );
                if (*end == '-') last = strtoul( end + 1, &end, 10 );
                set_host_reserved( first, last );
            }
        }
        fclose( f );
    }
}

static NTSTATUS unix_get_map( void *args )
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct bridge_get_map_params *params = args;
    const struct portres_map *map = portres_get_map();

    pthread_once( &once, read_host_ports );
    params->map = (uintptr_t)map;
    params->host_reserved = host_reserved_any ? (uintptr_t)host_reserved : 0;
    params->ephemeral_first = ephemeral_first;
    params->ephemeral_last = ephemeral_last;
    return map ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

static NTSTATUS unix_list( void *args )
{
    struct bridge_list_params *params = args;
    unsigned int count = 0, next_port = 0;
    NTSTATUS status = portres_list_page( params->protocol, params->first_port,
                                         (struct portres_entry *)(uintptr_t)params->entries, &count, &next_port );

    params->count = count;
    params->next_port = next_port;
    return status;
}

/* the unixlib only ever runs in a process of the prefix's Wine */
static void __attribute__((constructor)) init_unixlib( void )
{
    portres_set_wine_client();
}

/* a socket's inode, from the descriptor that portres.dll got from Wine */
static NTSTATUS unix_socket_id( void *args )
{
    struct bridge_socket_id_params *params = args;
    struct stat st;

    int domain = 0, protocol = 0;
    socklen_t len = sizeof(int);

    params->id = 0;
    params->protocol = params->ip_version = 0;
    if (params->unix_fd < 0) return STATUS_INVALID_PARAMETER;
    if (!fstat( params->unix_fd, &st ) && S_ISSOCK( st.st_mode )) params->id = st.st_ino;
    /* what Wine cannot tell of a socket handle it did not make (a duplicate, an inherited one) */
    if (params->id && !getsockopt( params->unix_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len ) &&
        (domain == AF_INET || domain == AF_INET6) &&
        !getsockopt( params->unix_fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len ))
    {
        params->ip_version = domain == AF_INET ? 4 : 6;
        if (protocol == IPPROTO_TCP) params->protocol = PORTRES_PROTO_TCP;
        else if (protocol == IPPROTO_UDP) params->protocol = PORTRES_PROTO_UDP;
    }
    close( params->unix_fd );
    params->unix_fd = -1;
    return params->id ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

static NTSTATUS unix_query_socket( void *args )
{
    struct bridge_query_socket_params *params = args;
    unsigned int associated = 0, acquired = 0;
    NTSTATUS status = portres_query_socket( params->socket, &associated, &acquired );

    params->associated = associated;
    params->acquired = acquired;
    return status;
}

/* the table Wine looks up in the unixlib, in enum bridge_call order */
const unixlib_entry_t __wine_unix_call_funcs[] =
{
    unix_acquire,
    unix_release,
    unix_associate,
    unix_bind_port,
    unix_socket_closed,
    unix_query_port,
    unix_persistent_create,
    unix_persistent_delete,
    unix_persistent_lookup,
    unix_get_dynamic_range,
    unix_set_dynamic_range,
    unix_error_message,
    unix_get_map,
    unix_list,
    unix_socket_id,
    unix_query_socket,
};

PORTRES_C_ASSERT( sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == bridge_nb_calls );
