/*
 * The reservation engine: port reservation tables of one prefix
 *
 * The engine holds every reservation, association and dynamic range of the
 * prefix and applies the rules; it does no I/O of its own.  The server wraps
 * it with connections and the persistent store, the unit tests drive it
 * directly.
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

#ifndef __PORTRES_ENGINE_H
#define __PORTRES_ENGINE_H

#include "portres/protocol.h"

/* protocol indices of the tables */
#define ENGINE_TCP          0
#define ENGINE_UDP          1
#define ENGINE_NB_PROTOCOLS 2

#define ENGINE_HOLD_IN_USE  (-1)
#define ENGINE_HOLD_FAILED  (-2)

#define ENGINE_DEFAULT_DYNAMIC_START  49152
#define ENGINE_DEFAULT_DYNAMIC_COUNT  16384

struct engine;
struct engine_client;

/* What the server must not lose when it dies: each runtime reservation,
 * and each socket's association.  The engine reports every change of them
 * (the journal callback), lists them all (engine_enum_records), and takes
 * them back in a new server (engine_restore_*).  Holds are reported by the
 * hold and unhold callbacks. */
#define ENGINE_RECORD_RESERVATION  1
#define ENGINE_RECORD_ASSOCIATION  2

struct engine_record
{
    unsigned int     type;       /* ENGINE_RECORD_* */
    unsigned int     deleted;    /* the reservation or association is gone */
    uint64_t         id;         /* reservation: its token; association: the socket record's id */
    uint64_t         client;     /* id of the client that acquired or associated, 0 when gone */
    portres_socket_t socket;     /* acquiring or associated socket */
    portres_token_t  token;      /* association: the reservation */
    unsigned int     owner_pid;  /* reservation: the acquiring process */
    unsigned short   start;      /* reservation: its ports */
    unsigned short   count;
    unsigned short   port;       /* association: port given to the socket's bind, 0 if none */
    unsigned char    protocol;   /* reservation: protocol index */
    unsigned char    wine;       /* the socket is a Wine socket, named by inode */
};

struct engine_callbacks
{
    /* whether a port of a protocol index is bound on the host */
    int (*port_in_use)( void *ctx, int protocol, unsigned short port );
    /* a fresh random 64-bit value */
    portres_token_t (*random_token)( void *ctx );
    /* whether the Wine socket with this inode still exists: 1 yes, 0 no,
     * -1 cannot tell (taken as yes) */
    int (*socket_alive)( void *ctx, portres_socket_t socket );
    /* hold a port of a protocol index on the host, so that nobody else can
     * bind it: a handle (>= 0), ENGINE_HOLD_IN_USE when the port is in use,
     * ENGINE_HOLD_FAILED when it cannot be held (out of descriptors) */
    int (*hold)( void *ctx, int protocol, unsigned short port );
    void (*unhold)( void *ctx, int handle, int protocol, unsigned short port );
    /* whether a hold is what the host has bound to the port: the checker
     * compares the tables with the kernel's view */
    int (*hold_valid)( void *ctx, int handle, int protocol, unsigned short port );
    /* a reservation or association was made, changed or dropped; may be NULL */
    void (*journal)( void *ctx, const struct engine_record *record );
    void *ctx;
};

/* what the engine tells about a reservation */
struct engine_info
{
    unsigned short  start;
    unsigned short  count;
    unsigned int    kind;
    unsigned int    owner_pid;
    int             is_mine;
    portres_token_t token;
};

/* what the engine holds, counted */
struct engine_stats
{
    unsigned int clients;
    unsigned int sockets;                                 /* socket records of all clients */
    unsigned int associations;                            /* sockets associated with a reservation */
    unsigned int reservations[ENGINE_NB_PROTOCOLS][2];    /* by protocol; [0] runtime, [1] persistent */
};

/* called for each record by engine_enum_records, with the holds of a
 * reservation's ports (-1 where a port is not held) */
typedef void (*engine_record_func)( void *ctx, const struct engine_record *record, const int *holders );

/* called for each reservation by engine_enum; non-zero stops the walk */
typedef int (*engine_enum_func)( void *ctx, const struct engine_info *info );

extern int engine_protocol_index( unsigned int ipproto );
extern const char *engine_protocol_name( int protocol );

/* with a NULL map the engine keeps a map of its own, until engine_publish */
extern struct engine *engine_create( const struct engine_callbacks *callbacks, struct portres_map *map );
/* from now on the engine's map is this shared one, which gets its content in one generation */
extern void engine_publish( struct engine *engine, struct portres_map *map );
extern void engine_destroy( struct engine *engine );
extern struct engine_client *engine_client_create( struct engine *engine, unsigned int pid );
extern void engine_client_destroy( struct engine_client *client );
/* the server's name of the client, which the records carry */
extern void engine_client_set_id( struct engine_client *client, uint64_t id );
/* the client is a Wine process: its sockets are named by inode, and live
 * as long as the kernel socket; only before its first socket */
extern unsigned int engine_client_set_wine( struct engine_client *client );
/* release what hangs off Wine sockets that have ended; returns how many
 * sockets had */
extern unsigned int engine_sweep( struct engine *engine );
/* how many records of Wine sockets the engine keeps */
extern unsigned int engine_nb_wine_sockets( struct engine *engine );

extern unsigned int engine_acquire( struct engine_client *client, int protocol, unsigned int start,
                                    unsigned int count, portres_socket_t socket, struct engine_info *info );
extern unsigned int engine_release( struct engine_client *client, portres_token_t token );
extern unsigned int engine_associate( struct engine_client *client, int protocol, portres_socket_t socket,
                                      portres_token_t token, int elevated, struct engine_info *info );
extern unsigned int engine_bind_port( struct engine_client *client, int protocol, portres_socket_t socket,
                                      unsigned int port, unsigned short *result, int *associated );
extern unsigned int engine_socket_closed( struct engine_client *client, portres_socket_t socket );
extern void engine_query_socket( struct engine_client *client, portres_socket_t socket,
                                 unsigned int *associated, unsigned int *acquired );
extern int engine_query_port( struct engine *engine, const struct engine_client *client, int protocol,
                              unsigned int port, struct engine_info *info );

/* whether start and count make a range of ports: neither is 0, and it ends by 65535 */
extern int engine_valid_range( unsigned int start, unsigned int count );
extern unsigned int engine_persistent_create( struct engine *engine, int protocol, unsigned int start,
                                              unsigned int count, portres_token_t *token );
extern unsigned int engine_persistent_add( struct engine *engine, int protocol, unsigned int start,
                                           unsigned int count, portres_token_t token );
extern unsigned int engine_persistent_delete( struct engine *engine, int protocol, unsigned int start,
                                              unsigned int count, portres_token_t *token );
extern unsigned int engine_persistent_lookup( struct engine *engine, int protocol, unsigned int start,
                                              unsigned int count, portres_token_t *token );

extern void engine_get_dynamic_range( struct engine *engine, int protocol,
                                      unsigned short *start, unsigned short *count );
extern unsigned int engine_set_dynamic_range( struct engine *engine, int protocol,
                                              unsigned int start, unsigned int count );

extern void engine_enum_records( struct engine *engine, engine_record_func func, void *ctx );
/* take back what an earlier server recorded; client is NULL when it has
 * gone.  A reservation takes its holds (count entries, -1 where a port is
 * not held): they are the engine's on success.  Returns a status. */
extern unsigned int engine_restore_reservation( struct engine *engine, struct engine_client *client,
                                                const struct engine_record *record, int *holders );
extern unsigned int engine_restore_association( struct engine *engine, struct engine_client *client,
                                                const struct engine_record *record );
/* the records to restore name socket records by ids up to last: new ones get others */
extern void engine_restore_ids( struct engine *engine, uint64_t last );

extern unsigned int engine_count( struct engine *engine, int protocol );
/* whether a reservation, of any kind, has the token */
extern int engine_has_token( struct engine *engine, portres_token_t token );
extern int engine_enum( struct engine *engine, const struct engine_client *client, int protocol,
                        unsigned int first_port, engine_enum_func func, void *ctx );
/* 1 when every internal invariant holds, else 0 with the broken one in error */
extern int engine_check( struct engine *engine, char *error, size_t size );
extern void engine_get_stats( struct engine *engine, struct engine_stats *stats );

#endif /* __PORTRES_ENGINE_H */
