/*
 * What the project's own Windows test programs under a script share (not
 * conformance tests, which stay whole for Wine): the reservation ioctls'
 * definitions, and the files in which a program and its script, or two
 * programs, tell each other that a step is done
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
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301, USA
 */

#ifndef __PORTRES_TEST_STEPS_H
#define __PORTRES_TEST_STEPS_H

#include <windef.h>

/* MinGW's mstcpip.h has the reservation definitions; Wine's has none */
#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION    0x98000064
#define SIO_RELEASE_PORT_RESERVATION    0x98000065
#define SIO_ASSOCIATE_PORT_RESERVATION  0x98000066
typedef struct { USHORT StartPort; USHORT NumberOfPorts; } INET_PORT_RANGE;
typedef struct { ULONG64 Token; } INET_PORT_RESERVATION_TOKEN;
#endif

/* INET_PORT_RESERVATION_INSTANCE, whose members MinGW leaves unnamed */
struct port_instance
{
    USHORT  StartPort;       /* network byte order */
    USHORT  NumberOfPorts;
    ULONG   Padding;
    ULONG64 Token;
};

/* write a line to DIR\name: aside first, then renamed, so that the reader
 * never reads half of it */
extern BOOL step_tell( const char *dir, const char *name, const char *line );
/* wait up to five minutes for DIR\name (a machine that emulates every
 * instruction may take that long to start a program); its first line in buf */
extern BOOL step_wait( const char *dir, const char *name, char *buf, int size );

#endif /* __PORTRES_TEST_STEPS_H */
