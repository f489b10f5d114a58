/*
 * The arguments of the reservation ioctls: the checks the proxy makes before
 * a request, and the reading and writing of the caller's buffers
 *
 * Plain C with fixed-width types and no Windows headers, so that it builds
 * both into the proxy (MinGW) and natively for the fuzzer of tests/fuzz.
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

#ifndef __WS2_32_IOCTLARGS_H
#define __WS2_32_IOCTLARGS_H

#include <stdint.h>

/* the Windows values, checked against MinGW's headers in reservation.c */
#define IOCTL_ACQUIRE_PORT_RESERVATION    0x98000064   /* SIO_ACQUIRE_PORT_RESERVATION */
#define IOCTL_RELEASE_PORT_RESERVATION    0x98000065   /* SIO_RELEASE_PORT_RESERVATION */
#define IOCTL_ASSOCIATE_PORT_RESERVATION  0x98000066   /* SIO_ASSOCIATE_PORT_RESERVATION */
#define IOCTL_WSAEFAULT                   10014        /* WSAEFAULT */
#define IOCTL_WSAEINVAL                   10022        /* WSAEINVAL */

/* sizes of INET_PORT_RANGE, INET_PORT_RESERVATION_TOKEN, INET_PORT_RESERVATION_INSTANCE */
#define IOCTL_RANGE_SIZE     4
#define IOCTL_TOKEN_SIZE     8
#define IOCTL_INSTANCE_SIZE  16

/* one reservation ioctl as the caller made it */
struct ioctl_args
{
    uint32_t    code;            /* one of the three IOCTL_*_PORT_RESERVATION */
    const void *in;              /* lpvInBuffer */
    uint32_t    in_size;         /* cbInBuffer */
    void       *out;             /* lpvOutBuffer */
    uint32_t    out_size;        /* cbOutBuffer */
    int         has_ret_size;    /* lpcbBytesReturned is not NULL */
    int         has_overlapped;  /* lpOverlapped is not NULL */
};

/* what the input buffer asks for */
struct ioctl_request
{
    uint16_t start;              /* acquire: first port in host order, 0 for any */
    uint16_t count;              /* acquire: number of ports */
    uint64_t token;              /* release, associate */
};

/* The buffer checks of Windows, in its order: 0 or a WSA error.  On an
 * error, *clear_ret_size says whether *lpcbBytesReturned is set to 0. */
extern int ioctl_args_check( const struct ioctl_args *args, int *clear_ret_size );

/* the request of a call that passed the checks */
extern void ioctl_args_read( const struct ioctl_args *args, struct ioctl_request *req );

/* writes the INET_PORT_RESERVATION_INSTANCE of an acquired reservation to
 * the output buffer of a call that passed the checks; returns its size */
extern uint32_t ioctl_args_write_instance( const struct ioctl_args *args, uint16_t start, uint16_t count,
                                           uint64_t token );

#endif /* __WS2_32_IOCTLARGS_H */
