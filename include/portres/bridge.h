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

#include <stddef.h>
#include <stdint.h>

#include "portres/protocol.h"

enum bridge_call
{
    bridge_request,          /* a request of the protocol, made as it is */
    bridge_error_message,
    bridge_get_map,
    bridge_socket_id,
    bridge_library_path,
    bridge_reserved_elsewhere,
    bridge_nb_calls
};

/* A request of server/protocol.def, filled in place by the caller, as
 * Wine's DLLs fill the wineserver's requests, and its reply beside it.
 * The layouts are the protocol's, the same for PE and Unix code (the
 * generated header checks every offset). */
struct bridge_request_params
{
    union generic_request req;
    union generic_reply   reply;
    uint64_t              data;        /* address of a buffer for the reply data, or 0 */
    uint32_t              data_size;   /* in: the buffer's size; out: bytes of reply data */
    uint32_t              pad;
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

/* the file this unixlib was loaded from, as Wine opened it: which bridge a
 * process runs, when several are installed */
struct bridge_library_path_params
{
    char path[4096];        /* out */
};

/* whether a runtime reservation of another prefix of the user takes a
 * port (portres_reserved_elsewhere of portres/client.h) */
struct bridge_reserved_elsewhere_params
{
    uint32_t protocol;        /* PORTRES_PROTO_TCP or _UDP */
    uint32_t port;
    uint32_t reserved;        /* out: 1 when one does */
    uint32_t pad;
};

/* The same layout for the i686 PE side (MinGW aligns 64-bit fields to 8)
 * and the i386 unixlib (the i386 ELF ABI aligns them to 4) as for x86-64:
 * every 64-bit field at a multiple of 8, every size a multiple of 8. */
PORTRES_C_ASSERT( offsetof(struct bridge_request_params, data) == 2 * PORTRES_FRAME_SIZE );
PORTRES_C_ASSERT( sizeof(struct bridge_request_params) == 2 * PORTRES_FRAME_SIZE + 16 );
PORTRES_C_ASSERT( offsetof(struct bridge_get_map_params, host_reserved) == 8 );
PORTRES_C_ASSERT( sizeof(struct bridge_get_map_params) == 24 );
PORTRES_C_ASSERT( offsetof(struct bridge_socket_id_params, id) == 8 );
PORTRES_C_ASSERT( sizeof(struct bridge_socket_id_params) == 32 );
PORTRES_C_ASSERT( sizeof(struct bridge_reserved_elsewhere_params) == 16 );

#endif /* __PORTRES_BRIDGE_H */
