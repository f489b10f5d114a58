/*
 * Reading the server's published map of reserved ports
 *
 * Shared by the Linux client library and the PE proxies, which read the same
 * memory: the server makes the generation odd while it changes the map, so a
 * reader retries until it has read both words under one even generation.
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

#ifndef __PORTRES_MAPLOOKUP_H
#define __PORTRES_MAPLOOKUP_H

#include "portres/protocol.h"

/* how long a reader waits for a writer to finish, in pause instructions
 * (tens of milliseconds); a writer that died mid-update never does */
#define PORTRES_MAP_SPIN_LIMIT (1u << 20)

/* whether a port of a protocol (PORTRES_PROTO_*) is reserved in the map: 1 or
 * 0, with *runtime telling whether by a runtime reservation; -1 when the map
 * stays in the middle of an update, which only a new server repairs */
static inline int portres_map_lookup( const struct portres_map *map, unsigned int protocol, unsigned short port,
                                      int *runtime )
{
    int index = protocol == PORTRES_PROTO_TCP ? 0 : 1;
    unsigned int before, after, spins = 0;
    uint64_t reserved, in_runtime;

    do
    {
        while ((before = __atomic_load_n( &map->generation, __ATOMIC_ACQUIRE )) & 1)
        {
            if (++spins > PORTRES_MAP_SPIN_LIMIT) return -1;
            __builtin_ia32_pause();
        }
        reserved   = __atomic_load_n( &map->reserved[index][port / 64], __ATOMIC_RELAXED );
        in_runtime = __atomic_load_n( &map->runtime[index][port / 64], __ATOMIC_RELAXED );
        __atomic_thread_fence( __ATOMIC_ACQUIRE );
        after = __atomic_load_n( &map->generation, __ATOMIC_RELAXED );
    } while (before != after);
    if (runtime) *runtime = (in_runtime >> (port % 64)) & 1;
    return (reserved >> (port % 64)) & 1;
}

#endif /* __PORTRES_MAPLOOKUP_H */
