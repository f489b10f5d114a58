/*
 * What the server and its keeper say to each other
 *
 * The keeper is a second process that keeps a copy of everything the
 * server must not lose when it dies: the records of runtime reservations,
 * associations and client sessions, and a duplicate of every descriptor
 * that holds a reserved port.  It never looks inside a record.  A new
 * server takes everything back from it; a new keeper gets everything from
 * the server.
 *
 * They talk over a SOCK_SEQPACKET socket, in messages of a keeper_message
 * header, then operations, each a keeper_op followed by its data, with the
 * descriptors of the operations that carry one in SCM_RIGHTS, in order.
 * Operations wait in the keeper until a message flagged KEEPER_COMMIT
 * applies them all at once: a server that dies halfway through a change
 * leaves nothing of it.  On a connection, the keeper first sends everything
 * it keeps, as PUT operations, and a message flagged KEEPER_END.
 *
 * The keeper need not read a message as it comes: once it is queued on the
 * connection, it is the keeper's even if the server dies at once, and the
 * keeper reads everything queued when the server has gone.  So a server
 * may give it a pipe (KEEPER_WAKE): from then on the keeper sleeps until a
 * byte comes down the pipe or the server has gone, and the server wakes it
 * only when it must hear from it (KEEPER_SYNC) or the connection is full.
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

#ifndef __PORTRES_KEEPER_H
#define __PORTRES_KEEPER_H

#include <stdint.h>

/* message flags */
#define KEEPER_COMMIT  0x01   /* apply the operations waiting, this message's included */
#define KEEPER_SYNC    0x02   /* with COMMIT: answer with a message flagged KEEPER_SYNC once applied */
#define KEEPER_END     0x04   /* keeper to server: that was all it keeps */
#define KEEPER_QUIT    0x08   /* the server stops for good: drop everything and exit */

/* operations */
#define KEEPER_PUT     1      /* set a record's data; with a descriptor, replace the record's one */
#define KEEPER_DEL     2      /* drop a record and close its descriptor */
#define KEEPER_RESET   3      /* drop every record */
#define KEEPER_WAKE    4      /* no record: the descriptor is the read end of the server's wake-up pipe */

/* kinds of record; each kind has its own keys */
#define KEEPER_HOLD         0 /* key: protocol << 16 | port; no data, the descriptor holds the port */
#define KEEPER_SESSION      1 /* key: the session; data: struct keeper_session, descriptor: a pidfd */
#define KEEPER_RESERVATION  2 /* key: the token; data: struct engine_record */
#define KEEPER_ASSOCIATION  3 /* key: the socket record's id; data: struct engine_record */
#define KEEPER_NB_KINDS     4

/* the key of a hold */
static inline uint64_t keeper_hold_key( int protocol, unsigned short port )
{
    return (uint64_t)protocol << 16 | port;
}

#define KEEPER_MAX_DATA     192   /* bytes of data of an operation, at most */
#define KEEPER_MAX_FDS      250   /* descriptors of a message, at most (SCM_MAX_FD is 253) */
#define KEEPER_MAX_MESSAGE  32768 /* bytes of a message, at most */

struct keeper_message
{
    unsigned int flags;
    unsigned int nb_ops;
};

struct keeper_op
{
    unsigned short op;        /* KEEPER_PUT, DEL or RESET */
    unsigned short kind;      /* KEEPER_HOLD ... */
    unsigned short size;      /* bytes of data that follow */
    unsigned short has_fd;    /* the next descriptor of the message is this record's */
    uint64_t       key;
};

/* a client session, as the keeper keeps it */
struct keeper_session
{
    uint64_t      session;
    unsigned int  pid;
    unsigned int  wine;            /* a process of the prefix's Wine */
    unsigned int  last_serial;     /* the last request that changed something, counted in the session */
    unsigned int  pending;         /* a persistent change whose store write may not have happened */
    uint64_t      start_time;      /* when the process started (with no pidfd, it names the process) */
    uint64_t      effect;          /* and what the store shows if it did */
    unsigned char last_reply[64];  /* its reply frame (PORTRES_FRAME_SIZE) */
    unsigned char last_request[64];/* its request frame */
};

/* a message being written: operations are added until it is full, then
 * it goes with KEEPER_MAX_FDS descriptors at most */
struct keeper_writer
{
    int           fd;                       /* the connection */
    int           wake_fd;                  /* -1, or a pipe to the reader, written to before waiting for room */
    unsigned int  nb_ops;
    unsigned int  nb_fds;
    size_t        len;
    int           fds[KEEPER_MAX_FDS];
    unsigned char buf[KEEPER_MAX_MESSAGE];
};

/* called for each operation of a message read; fd is -1 when it has none,
 * else it is the callee's to keep or close */
typedef void (*keeper_op_func)( void *ctx, const struct keeper_op *op, const void *data, int fd );

/* keeperio.c */
extern void keeper_writer_init( struct keeper_writer *writer, int fd );
/* the message written so far is dropped */
extern void keeper_writer_reset( struct keeper_writer *writer );
/* a reader that reads only when woken (KEEPER_WAKE) is woken */
extern void keeper_wake( int wake_fd );
/* add an operation; the message goes when it is full; -1 when the connection broke */
extern int keeper_write_op( struct keeper_writer *writer, unsigned int op, unsigned int kind, uint64_t key,
                            const void *data, size_t size, int fd );
/* send what is written, with the flags; -1 when the connection broke */
extern int keeper_flush( struct keeper_writer *writer, unsigned int flags );
/* read one message and hand out its operations; its flags, or -1 when the
 * connection broke or the message was malformed; with MSG_DONTWAIT in
 * recv_flags, KEEPER_NONE when no message is queued */
#define KEEPER_NONE  (-2)
extern int keeper_read( int fd, int recv_flags, keeper_op_func func, void *ctx );

/* keeper.c: the keeper's program, serving the listening socket at descriptor 3;
 * it works in the server directory, where a look at /proc/PID/cwd finds it */
extern int keeper_main( const char *dir );

#endif /* __PORTRES_KEEPER_H */
