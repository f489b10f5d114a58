/*
 * What the host says of its ports: the range its automatic binds take
 * their ports from
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

#include "portres/client.h"

/* Linux's ip_local_port_range, or its default when it cannot be read */
void portres_auto_port_range( unsigned int *first, unsigned int *last )
{
    unsigned int low, high;
    FILE *file;

    *first = 32768;
    *last = 60999;
    if (!(file = fopen( "/proc/sys/net/ipv4/ip_local_port_range", "re" ))) return;
    if (fscanf( file, "%u %u", &low, &high ) == 2 && low && low <= high && high < 65536)
    {
        *first = low;
        *last = high;
    }
    fclose( file );
}
