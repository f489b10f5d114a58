/*
 * Fragment of include/mstcpip.h: the port reservation types, before the SIO codes
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

typedef struct _INET_PORT_RANGE
{
    USHORT StartPort;
    USHORT NumberOfPorts;
} INET_PORT_RANGE, *PINET_PORT_RANGE;

typedef struct _INET_PORT_RANGE INET_PORT_RESERVATION, *PINET_PORT_RESERVATION;

typedef struct
{
    ULONG64 Token;
} INET_PORT_RESERVATION_TOKEN, *PINET_PORT_RESERVATION_TOKEN;

#define INVALID_PORT_RESERVATION_TOKEN ((ULONG64)0)

/* In C the SDK leaves both members unnamed, so that C code writes StartPort,
 * NumberOfPorts and Token directly.  An unnamed member of a typedef'd type is
 * a Microsoft extension (-fms-extensions, on by default only for MinGW), and
 * Unix-side code that includes this header (ntdll/unix/socket.c) is built by
 * the host compiler without it, so in C the members are unnamed structures
 * with the same fields and layout. */
typedef struct
{
#ifdef __cplusplus
    INET_PORT_RESERVATION Reservation;
    INET_PORT_RESERVATION_TOKEN Token;
#else
    struct
    {
        USHORT StartPort;
        USHORT NumberOfPorts;
    } DUMMYSTRUCTNAME1;
    struct
    {
        ULONG64 Token;
    } DUMMYSTRUCTNAME2;
#endif
} INET_PORT_RESERVATION_INSTANCE, *PINET_PORT_RESERVATION_INSTANCE;

/* OwningPid alone, as MinGW-w64 10.0's mstcpip.h and the current SDK have it
 * (other copies put an AssignmentCount before it) */
typedef struct
{
    ULONG OwningPid;
} INET_PORT_RESERVATION_INFORMATION, *PINET_PORT_RESERVATION_INFORMATION;
