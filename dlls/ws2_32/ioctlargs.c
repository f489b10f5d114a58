/*
 * The arguments of the reservation ioctls: buffer checks, and the reading
 * and writing of the caller's buffers, byte by byte since they may be
 * unaligned
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

#include <string.h>

#include "ioctlargs.h"

int ioctl_args_check( const struct ioctl_args *args, int *clear_ret_size )
{
    int acquire = args->code == IOCTL_ACQUIRE_PORT_RESERVATION;
    uint32_t in_needed = acquire ? IOCTL_RANGE_SIZE : IOCTL_TOKEN_SIZE;

    *clear_ret_size = 0;
    /* a short output buffer comes first, even before a missing one */
    if (acquire && args->out_size < IOCTL_INSTANCE_SIZE)
    {
        *clear_ret_size = 1;
        return IOCTL_WSAEINVAL;
    }
    if (args->in_size < in_needed) return IOCTL_WSAEINVAL;
    if (!args->in) return IOCTL_WSAEFAULT;
    if (acquire && !args->out) return IOCTL_WSAEFAULT;
    if (!args->has_ret_size && !args->has_overlapped) return IOCTL_WSAEFAULT;
    return 0;
}

/* the buffers hold little-endian values, but for the port numbers of a
 * range, which are in network order */
static uint16_t get_le16( const unsigned char *p )
{
    return p[0] | (p[1] << 8);
}

static void put_le16( unsigned char *p, uint16_t val )
{
    p[0] = val & 0xff;
    p[1] = val >> 8;
}

void ioctl_args_read( const struct ioctl_args *args, struct ioctl_request *req )
{
    const unsigned char *in = args->in;
    unsigned int i;

    memset( req, 0, sizeof(*req) );
    if (args->code == IOCTL_ACQUIRE_PORT_RESERVATION)
    {
        req->start = (in[0] << 8) | in[1];   /* StartPort, network order */
        req->count = get_le16( in + 2 );     /* NumberOfPorts */
        return;
    }
    for (i = 0; i < IOCTL_TOKEN_SIZE; i++) req->token |= (uint64_t)in[i] << (8 * i);
}

uint32_t ioctl_args_write_instance( const struct ioctl_args *args, uint16_t start, uint16_t count, uint64_t token )
{
    unsigned char *out = args->out;
    unsigned int i;

    out[0] = start >> 8;                     /* StartPort, network order */
    out[1] = start & 0xff;
    put_le16( out + 2, count );              /* NumberOfPorts */
    memset( out + 4, 0, 4 );                 /* padding before the token */
    for (i = 0; i < 8; i++) out[8 + i] = (token >> (8 * i)) & 0xff;
    return IOCTL_INSTANCE_SIZE;
}
