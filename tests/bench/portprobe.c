/*
 * portprobe: what the host's kernel charges for the work a reservation
 * needs per port: a socket, a bind to the port and a close (the median over
 * rounds of the microseconds per port, on ports of the dynamic range)
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

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "benchlib.h"

#define PORTS   1024
#define ROUNDS  15

int main( void )
{
    struct sockaddr_in6 addr;
    double rounds[ROUNDS], start;
    int r, i, fd, zero = 0;

    memset( &addr, 0, sizeof(addr) );
    addr.sin6_family = AF_INET6;
    for (r = 0; r < ROUNDS; r++)
    {
        start = bench_now_us();
        for (i = 0; i < PORTS; i++)
        {
            if ((fd = socket( AF_INET6, SOCK_STREAM, 0 )) < 0) return 1;
            setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero) );
            addr.sin6_port = htons( 49152 + i );
            bind( fd, (struct sockaddr *)&addr, sizeof(addr) );
            close( fd );
        }
        rounds[r] = (bench_now_us() - start) / PORTS;
    }
    printf( "probe %.3f\n", bench_median( rounds, ROUNDS ) );
    return 0;
}
