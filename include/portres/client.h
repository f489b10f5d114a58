/*
 * The portres client library: the only way to talk to portres-server
 *
 * One connection per process, opened on first use; the server of the prefix
 * ($WINEPREFIX, default ~/.wine) is started when none runs.  Every request
 * function returns the NTSTATUS of the request; STATUS_CONNECTION_REFUSED or
 * STATUS_CONNECTION_RESET mean the server could not be reached, and
 * portres_error_message() then says why.  The functions are thread-safe.
 *
 * A persistent change (create, delete, dynamic range) answered with
 * STATUS_CONNECTION_RESET may or may not have been made: the server saves
 * the store before it replies, so a server that died between its save and
 * its reply has made the change durable without saying so.  Look it up
 * before repeating it.
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

#ifndef __PORTRES_CLIENT_H
#define __PORTRES_CLIENT_H

#include <stddef.h>
#include "portres/protocol.h"
#include "portres/maplookup.h"

#define PORTRES_PATH_MAX 4096

/* where things are */
extern int portres_prefix_dir( char *buf, size_t size, int create );
extern int portres_server_dir( const char *prefix, char *buf, size_t size, int create );
extern int portres_store_path( const char *prefix, char *buf, size_t size );
extern int portres_server_path( char *buf, size_t size );
/* 0 when the server socket at path is missing or a socket private to us */
extern int portres_check_socket( const char *path );
/* the pid that holds an fcntl lock on a file, 0 when none does, -1 when it cannot be told */
extern int portres_lock_holder( const char *path );
/* the host's range for automatic binds: Linux's ip_local_port_range, or its default */
extern void portres_auto_port_range( unsigned int *first, unsigned int *last );

/* the connection */
extern unsigned int portres_connect( unsigned int *server_pid );
extern void portres_disconnect( void );
/* before the first request: this process is a process of the prefix's Wine,
 * whose socket values are the inodes of kernel sockets (see server/wineserver.c) */
extern void portres_set_wine_client( void );
/* make a request of the protocol as it is; reply data goes to data, up to
 * *data_size bytes, and *data_size says how many came */
extern unsigned int portres_request( union generic_request *req, union generic_reply *reply, void *data,
                                     size_t *data_size );
extern const char *portres_error_message( void );
extern void portres_set_error( const char *format, ... ) __attribute__((format(printf, 1, 2)));
extern const char *portres_status_name( unsigned int status );

/* one function per request, generated from server/protocol.def: the
 * request's fields, then a pointer per field of the reply (NULL when not
 * wanted), written on success; each makes its request with portres_request */
#include "portres/requests.h"

/* a debugging aid: what the server holds, counted, and a check of its
 * internal invariants; STATUS_INTERNAL_ERROR when one is broken, with the
 * server's message in message (the counts are filled in either case) */
extern unsigned int portres_check_state( struct check_state_reply *state, char *message, size_t size );

/* the server's read-only map of reserved ports, kept for the life of the
 * process; when no server has published one yet, a server is started for it.
 * NULL when that fails.  Read it with portres_map_lookup(). */
extern const struct portres_map *portres_get_map( void );

/* 1 when a runtime reservation of another prefix of this user takes the
 * port of the protocol (PORTRES_PROTO_*), else 0 */
extern int portres_reserved_elsewhere( unsigned int protocol, unsigned short port );

/* calls func for every reservation of a protocol, in port order; a non-zero
 * return stops the walk */
typedef int (*portres_list_func)( void *ctx, const struct portres_entry *entry );
extern unsigned int portres_list( unsigned int protocol, portres_list_func func, void *ctx );
/* the entries of one page of the list request */
#define PORTRES_LIST_PAGE (PORTRES_MAX_REPLY_DATA / sizeof(struct portres_entry))

#endif /* __PORTRES_CLIENT_H */
