/*
 * The reservation engine's structures, shared by the engine and its checker
 *
 * A Wine client names its sockets by the inode of their kernel socket: the
 * records of those sockets are the engine's, found by inode from any
 * client, and outlive the client that made them known for as long as the
 * socket lives (callbacks.socket_alive says).  Other clients' socket
 * values are names of their own, and their records die with them.
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

#ifndef __PORTRES_ENGINE_PRIVATE_H
#define __PORTRES_ENGINE_PRIVATE_H

#include "engine.h"
#include "hash.h"
#include "portres/list.h"

struct reservation;

/* what the engine knows of one socket */
struct sock_rec
{
    struct hash_entry     entry;         /* in engine->sockets (Wine sockets) or client->sockets, by socket */
    struct list           client_entry;  /* in client->wine_sockets; empty when the client has gone */
    struct engine_client *client;        /* the client that made it known; NULL once that has gone */
    int                   wine;          /* its life is the kernel socket's (the wineserver's object) */
    struct list           reservations;  /* runtime reservations acquired on it */
    struct reservation   *assoc;         /* associated reservation, or NULL */
    struct list           assoc_entry;   /* in assoc->assocs */
    unsigned short        port;          /* port handed out for its bind, 0 if none */
    uint64_t              id;            /* its name in the records, unique in the engine's life */
};

struct reservation
{
    struct hash_entry     entry;         /* in the engine's tokens */
    struct list           owner_entry;   /* in sock->reservations, or engine->persistent */
    struct list           owned_entry;   /* in owner->owned; empty when persistent or the owner has gone */
    struct list           assocs;        /* sock_recs associated with it */
    struct sock_rec      *sock;          /* acquiring socket, NULL when persistent */
    struct engine_client *owner;         /* acquiring client, NULL when persistent or gone */
    int                  *holders;       /* runtime: a hold of each port on the host, or -1 when the
                                            port was handed to an associated socket; NULL when persistent */
    int                   dying;         /* being freed: its ports are not held again */
    unsigned int          owner_pid;     /* its pid, kept when it has gone */
    unsigned short        start;
    unsigned short        count;
    unsigned char         protocol;
    unsigned char         kind;
};

struct engine_client
{
    struct list        entry;            /* in engine->clients */
    struct engine     *engine;
    struct hash_table  sockets;          /* records of its sockets, when not a Wine client */
    struct list        wine_sockets;     /* records of Wine sockets it made known */
    struct list        owned;            /* runtime reservations it acquired */
    unsigned int       pid;
    int                wine;             /* a process of the prefix's Wine */
    uint64_t           id;               /* the server's name of it */
};

struct engine
{
    struct engine_callbacks cb;
    struct portres_map     *map;
    int                     own_map;
    struct reservation    **ports[ENGINE_NB_PROTOCOLS];   /* 65536 slots each */
    struct hash_table       tokens;
    struct hash_table       sockets;                      /* records of Wine sockets, by inode */
    struct list             clients;
    struct list             persistent;
    unsigned int            count[ENGINE_NB_PROTOCOLS];
    unsigned short          dyn_start[ENGINE_NB_PROTOCOLS];
    unsigned short          dyn_count[ENGINE_NB_PROTOCOLS];
    uint64_t                last_sock_id;                 /* the last socket record's id */
};

extern struct reservation *engine_find_reservation( struct engine *engine, portres_token_t token );

#endif /* __PORTRES_ENGINE_PRIVATE_H */
