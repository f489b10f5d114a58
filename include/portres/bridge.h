/*
 * The bridge between Windows-side code and the reservation server
 *
 * The proxies call portres.dll's portres_call() with one of these codes and
 * its parameters; portres.dll passes them to its Wine unixlib portres.so,
 * which makes the request through the client library.  The structures are
 * shared by PE code (MinGW) and Unix code (gcc), so they use fixed-size
 * types only.  Every call returns an NTSTATUS.
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

#ifndef __PORTRES_BRIDGE_H
#define __PORTRES_BRIDGE_H

#include <stdint.h>

enum bridge_call
{
    bridge_acquire,
    bridge_release,
    bridge_associate,
    bridge_bind_port,
    bridge_socket_closed,
    bridge_query_port,
    bridge_persistent_create,
    bridge_persistent_delete,
    bridge_persistent_lookup,
    bridge_get_dynamic_range,
    bridge_set_dynamic_range,
    bridge_error_message,
    bridge_get_map,
    bridge_list,
    bridge_socket_id,
    bridge_query_socket,
    bridge_nb_calls
};

struct bridge_acquire_params
{
    uint32_t protocol;      /* PORTRES_PROTO_* (IPPROTO numbers) */
    uint16_t start;         /* host order; 0 for a block of the dynamic range */
    uint16_t count;
    uint64_t socket;
    uint64_t token;         /* out */
    uint16_t first;         /* out: first port */
    uint16_t pad[3];
};

struct bridge_release_params
{
    uint64_t token;
};

struct bridge_associate_params
{
    uint32_t protocol;
    uint32_t elevated;
    uint64_t socket;
    uint64_t token;
    uint16_t start;         /* out */
    uint16_t count;         /* out */
    uint32_t kind;          /* out */
};

struct bridge_bind_port_params
{
    uint32_t protocol;
    uint16_t port;          /* asked for, host order */
    uint16_t result;        /* out: port to bind */
    uint64_t socket;
    uint32_t associated;    /* out */
    uint32_t pad;
};

struct bridge_socket_closed_params
{
    uint64_t socket;
    uint32_t released;      /* out */
    uint32_t pad;
};

struct bridge_query_port_params
{
    uint32_t protocol;
    uint16_t port;
    uint16_t start;         /* out */
    uint16_t count;         /* out */
    uint16_t pad;
    uint32_t kind;          /* out: 0 when not reserved */
    uint32_t owner_pid;     /* out: Unix pid */
    uint32_t is_mine;       /* out */
    uint64_t token;         /* out: own or persistent reservations only */
};

struct bridge_persistent_params
{
    uint32_t protocol;
    uint16_t start;
    uint16_t count;
    uint32_t elevated;
    uint32_t pad;
    uint64_t token;         /* out for create and lookup */
};

struct bridge_dynamic_range_params
{
    uint32_t protocol;
    uint16_t start;         /* out for get */
    uint16_t count;         /* out for get */
    uint32_t elevated;
    uint32_t pad;
};

struct bridge_error_message_params
{
    char message[512];      /* out: why the server could not be reached */
};

struct bridge_get_map_params
{
    uint64_t map;             /* out: address of the read-only struct portres_map */
    uint64_t host_reserved;   /* out: address of a bitmap of the 65536 ports the host keeps
                                 out of automatic binds (ip_local_reserved_ports); 0 if none */
    uint16_t ephemeral_first; /* out: the host's range for automatic binds */
    uint16_t ephemeral_last;
    uint32_t pad;
};

/* one page of a protocol's reservations, ordered by start */
struct bridge_list_params
{
    uint32_t protocol;
    uint32_t first_port;      /* from the first reservation starting at or after it */
    uint64_t entries;         /* address of PORTRES_LIST_PAGE struct portres_entry */
    uint32_t count;           /* out: entries filled */
    uint32_t next_port;       /* out: first_port of the next page, 0 at the end */
};

/* what the server calls a socket: the inode of the kernel socket behind a
 * socket handle of this process, the same for every handle of the socket
 * in every process of the prefix */
struct bridge_socket_id_params
{
    uint64_t handle;
    uint64_t id;              /* out */
    uint32_t protocol;        /* out: PORTRES_PROTO_TCP or _UDP over IP, else 0 */
    uint32_t ip_version;      /* out: 4 or 6 */
    int32_t  unix_fd;         /* portres.dll's business: a descriptor of the socket, which the unixlib closes */
    uint32_t pad;
};

struct bridge_query_socket_params
{
    uint64_t socket;          /* an id from bridge_socket_id */
    uint32_t associated;      /* out */
    uint32_t acquired;        /* out */
};

#endif /* __PORTRES_BRIDGE_H */
