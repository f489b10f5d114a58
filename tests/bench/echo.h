/*
 * The floor of the benchmarks: a trivial echo server over AF_UNIX and its client
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

#ifndef __PORTRES_ECHO_H
#define __PORTRES_ECHO_H

#include <sys/types.h>

#define ECHO_FRAME_SIZE 64   /* as a request and a reply of the reservation server */

/* fork an echo server listening at path; returns when it accepts connections */
extern pid_t echo_start( const char *path );
extern void echo_stop( pid_t pid );
extern int echo_connect( const char *path );
/* one frame there and back */
extern void echo_round_trip( int fd );

#endif /* __PORTRES_ECHO_H */
