/*
 * Internal declarations of the reservation server
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

#ifndef __PORTRES_SERVER_H
#define __PORTRES_SERVER_H

#include <stddef.h>
#include "engine.h"

struct keeper_session;

/* a descriptor the loop waits on (fd.c), each with its own handler */
struct fd
{
    int           unix_fd;
    unsigned int  slot;                                   /* in the loop's table */
    void        (*poll_event)( struct fd *fd, short revents );  /* NULL when not waited on */
};

/* a timer (fd.c): its callback runs once when it is due */
struct timeout_user
{
    struct timeout_user *next;
    long long            when;                  /* now_ms() */
    void               (*callback)( void *arg );  /* NULL when not set */
    void                *arg;
};

#define OBJECT_OF( ptr, type, member ) ((type *)((char *)(ptr) - offsetof( type, member )))

struct client
{
    int                   fd;
    unsigned int          pid;        /* from SO_PEERCRED */
    unsigned int          uid;
    int                   initialized;
    int                   closing;     /* close once the pending reply is sent */
    struct engine_client *owner;       /* the client's state in the engine */
    uint64_t              session;     /* the session it is, 0 before init */
    int                   pidfd;       /* the client process, -1 if unknown */
    unsigned long long    start_time;  /* when it started (host_process_start) */
    int                   wine;        /* a process of the prefix's Wine */
    int                   journaled;   /* the keeper has the session */
    int                   replay;      /* resumed: a request done already may come again */
    unsigned int          requests;    /* requests of the session handled, the handshake apart */
    unsigned int          last_serial; /* the last of them that changed something */
    union generic_reply   last_reply;  /* and its reply */
    int                   pending;     /* it is a persistent change that the store may not have */
    uint64_t              effect;      /* and what the store shows if it has */
    union generic_request last_request;
    unsigned int          index;       /* in its list of session.c */
    struct fd             conn;        /* the connection, waited on (connection.c) */
    struct fd             process;     /* the pidfd of a client whose session waits (session.c) */
    size_t                in_len;      /* bytes in the input buffer */
    unsigned char         in[4096];
    unsigned char        *out;         /* pending output */
    size_t                out_len;
    size_t                out_pos;
};

/* fd.c */
extern long long now_ms( void );
extern int add_fd( struct fd *fd, int unix_fd, short events, void (*poll_event)( struct fd *fd, short revents ) );
extern void set_fd_events( struct fd *fd, short events );
extern void remove_fd( struct fd *fd );
extern void add_timeout( struct timeout_user *user, long long when, void (*callback)( void *arg ), void *arg );
extern void remove_timeout( struct timeout_user *user );
extern int main_loop( void (*before_poll)( void ) );
extern void stop_loop( void );
extern void free_fds( void );

/* request.c */
extern struct client *current;
extern const union generic_request *current_request;
extern int debug_level;
extern void set_error( unsigned int status );
extern void *set_reply_data_size( size_t size );
/* handle one request frame of a client; -1 when the connection must close
 * without a reply, else the reply is in *reply, and its data, as many bytes
 * as the reply header says, in *data, which the caller frees */
extern int dispatch_request( struct client *client, const union generic_request *req,
                             union generic_reply *reply, void **data );

/* connection.c */
extern int open_listener( int listen_fd );
extern void close_listener( void );

/* client.c */
extern struct client *create_client( unsigned int pid, unsigned int uid );
extern void destroy_client( struct client *client );

/* session.c */
extern void connect_client( struct client *client );
extern void disconnect_client( struct client *client );
extern unsigned int get_nb_connections( void );
extern unsigned int get_nb_detached( void );
extern void close_sessions( void );
extern void new_session( struct client *client );
extern int resume_session( struct client *client, uint64_t session, unsigned int completed );
extern int restore_session( const struct keeper_session *data, int pidfd );
extern struct engine_client *find_session( uint64_t session );
extern void journal_sessions( void );
extern void journal_all_sessions( void );
extern void reap_sessions( void );
extern int session_replay( struct client *client, const union generic_request *req, union generic_reply *reply );
extern void session_keep_reply( struct client *client, const union generic_request *req,
                                const union generic_reply *reply, int pending, uint64_t effect );
extern void session_request_done( struct client *client, const union generic_request *req,
                                  const union generic_reply *reply, int replayed );
extern int check_connections( unsigned int engine_clients, char *error, size_t size );

/* reservation.c */
extern struct engine *engine;
extern const char *store_file;
extern int init_reservations( const char *store, struct portres_map *map,
                              const struct engine_callbacks *callbacks );
extern void close_reservations( void );

/* store.c */
extern int store_load( const char *path, struct engine *engine, char *error, size_t size );
extern unsigned int store_save( const char *path, struct engine *engine );
extern int store_set_aside( const char *path, char *aside, size_t size );

/* host.c */
extern int host_port_in_use( void *ctx, int protocol, unsigned short port );
extern portres_token_t host_random_token( void *ctx );
extern int host_socket_alive( void *ctx, portres_socket_t socket );
extern unsigned long long host_process_start( unsigned int pid );
extern int host_process_alive( unsigned int pid, int pidfd, unsigned long long start );
extern int host_hold( void *ctx, int protocol, unsigned short port );
extern void host_unhold( void *ctx, int handle, int protocol, unsigned short port );
extern int host_hold_valid( void *ctx, int handle, int protocol, unsigned short port );

/* journal.c */
/* what an earlier server left with the keeper */
struct keeper_state
{
    int                   *holds[ENGINE_NB_PROTOCOLS];  /* by port, -1 for none */
    struct keeper_session *sessions;
    int                   *pidfds;
    unsigned int           nb_sessions;
    struct engine_record  *records;
    unsigned int           nb_records;
};
/* 1 when a keeper had something (in *kept, for restore_kept), 0 when none, -1 on error;
 * snapshot journals every session again, for a new keeper */
extern int journal_open( const char *dir, void (*snapshot)( void ), struct keeper_state *kept );
extern void free_kept( struct keeper_state *kept );
extern void journal_commit( void );
extern int journal_pending( void );
extern int journal_put_session( const struct keeper_session *data, int pidfd );
extern int journal_del_session( uint64_t session );
extern void journal_drop( unsigned int kind, uint64_t key );
extern void journal_close( void );
extern int journal_hold( void *ctx, int protocol, unsigned short port );
extern int journal_port_in_use( void *ctx, int protocol, unsigned short port );
extern void journal_unhold( void *ctx, int handle, int protocol, unsigned short port );
extern void journal_record( void *ctx, const struct engine_record *record );

/* restore.c */
extern int restore_open( const char *dir );

/* wineserver.c */
extern void wineserver_init( const char *prefix );
extern void wineserver_new_round( void );
extern int wineserver_socket_alive( unsigned long long inode );
extern int wineserver_pidfd( void );
extern void wineserver_exited( void );

#endif /* __PORTRES_SERVER_H */
