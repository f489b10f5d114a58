/*
 * The reservation ioctls as the Windows benchmarks call them: the codes and
 * the layouts of INET_PORT_RANGE and INET_PORT_RESERVATION_INSTANCE (the
 * SDK's instance structure has anonymous members in C)
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

#ifndef __PORTRES_BENCHIOCTL_H
#define __PORTRES_BENCHIOCTL_H

#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION    0x98000064
#define SIO_RELEASE_PORT_RESERVATION    0x98000065
#endif

struct bench_port_range
{
    USHORT start;           /* network byte order */
    USHORT count;
};

struct bench_port_instance
{
    USHORT start;           /* network byte order */
    USHORT count;
    ULONG padding;
    ULONG64 token;
};

C_ASSERT( sizeof(struct bench_port_range) == 4 );
C_ASSERT( sizeof(struct bench_port_instance) == 16 );

#endif /* __PORTRES_BENCHIOCTL_H */
