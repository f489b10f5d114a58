/*
 * Port reservations: the wineserver's hooks, called from sock.c and process.c
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

#ifndef __WINE_SERVER_RESERVATION_H
#define __WINE_SERVER_RESERVATION_H

struct process;
struct sockaddr;

/* IOCTL_AFD_WINE_*_PORT_RESERVATION on a socket of the given family and type */
extern void sock_reservation_ioctl( const void *sock, unsigned int code, int family, int type, int bound );
/* an explicit or implicit bind of a socket to addr, which may get its port
 * from the socket's reservation, or for port 0 with SO_REUSEADDR (reuse) a
 * port nobody has: non-zero, with the error set, to refuse */
extern int sock_reservation_bind( const void *sock, int type, int reuse, struct sockaddr *addr );
/* whether the server chooses the port of the socket's implicit bind: the
 * socket is associated with a reservation, or a persistent reservation
 * lies among the host's automatic ports */
extern int sock_reservation_choose_port( const void *sock, int type );
/* the socket object is being destroyed */
extern void sock_reservation_closed( const void *sock );
/* the process has ended */
extern void process_reservations_end( struct process *process );

#endif /* __WINE_SERVER_RESERVATION_H */
