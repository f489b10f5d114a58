/*
 * Port reservations: what the engine needs of the host, in the wineserver
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

#ifndef __WINE_SERVER_RESERVATION_HOST_H
#define __WINE_SERVER_RESERVATION_HOST_H

#include "reservation_engine.h"

/* the ports held on the host, and what the host tells (reservation_host.c) */
@HOST@

/* whether a socket the engine knows still exists (reservation.c) */
extern int wineserver_socket_alive( portres_socket_t socket );

#endif /* __WINE_SERVER_RESERVATION_HOST_H */
