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

#define _GNU_SOURCE
#include <dlfcn.h>
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

/* a request of the protocol, as the PE side filled it */
static NTSTATUS unix_request( void *args )
{
    struct bridge_request_params *params = args;
    size_t size = params->data ? params->data_size : 0;
    NTSTATUS status = portres_request( &params->req, &params->reply, (void *)(uintptr_t)params->data, &size );

    params->data_size = size;
    return status;
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
static unsigned int ephemeral_first, ephemeral_last;
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

    portres_auto_port_range( &ephemeral_first, &ephemeral_last );
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

static NTSTATUS unix_library_path( void *args )
{
    struct bridge_library_path_params *params = args;
    Dl_info info;

    if (!dladdr( (void *)unix_library_path, &info ) || !info.dli_fname) return STATUS_NOT_FOUND;
    snprintf( params->path, sizeof(params->path), "%s", info.dli_fname );
    return STATUS_SUCCESS;
}

static NTSTATUS unix_reserved_elsewhere( void *args )
{
    struct bridge_reserved_elsewhere_params *params = args;

    if (params->port > 65535) return STATUS_INVALID_PARAMETER;
    params->reserved = portres_reserved_elsewhere( params->protocol, params->port );
    return STATUS_SUCCESS;
}

/* the table Wine looks up in the unixlib, in enum bridge_call order */
const unixlib_entry_t __wine_unix_call_funcs[] =
{
    unix_request,
    unix_error_message,
    unix_get_map,
    unix_socket_id,
    unix_library_path,
    unix_reserved_elsewhere,
};

PORTRES_C_ASSERT( sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == bridge_nb_calls );
