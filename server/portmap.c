/*
 * Bitmaps of ports, and the map of reserved ports the server publishes
 *
 * A bitmap has a bit per port, 64 ports a word.  The searches go a word at
 * a time; the published map is changed inside an odd generation, so that
 * its readers in other processes can tell a torn read.
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

#include "portmap.h"

void portmap_set_bits( uint64_t *words, unsigned int start, unsigned int count, int set )
{
    unsigned int port = start, end = start + count;

    while (port < end)
    {
        unsigned int bit = port % 64, n = end - port < 64 - bit ? end - port : 64 - bit;
        uint64_t mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << bit;
        uint64_t *word = &words[port / 64];
        uint64_t val = __atomic_load_n( word, __ATOMIC_RELAXED );

        __atomic_store_n( word, set ? (val | mask) : (val & ~mask), __ATOMIC_RELAXED );
        port += n;
    }
}

/* first set bit in [start, end), or -1 */
int portmap_find_set_bit( const uint64_t *words, unsigned int start, unsigned int end )
{
    unsigned int port = start;

    while (port < end)
    {
        uint64_t val = __atomic_load_n( &words[port / 64], __ATOMIC_RELAXED ) >> (port % 64);
        if (val)
        {
            port += __builtin_ctzll( val );
            return port < end ? (int)port : -1;
        }
        port = (port / 64 + 1) * 64;
    }
    return -1;
}

/* first clear bit in [start, end), or -1 */
int portmap_find_clear_bit( const uint64_t *words, unsigned int start, unsigned int end )
{
    unsigned int port = start;

    while (port < end)
    {
        uint64_t val = ~__atomic_load_n( &words[port / 64], __ATOMIC_RELAXED ) >> (port % 64);
        if (val)
        {
            port += __builtin_ctzll( val );
            return port < end ? (int)port : -1;
        }
        port = (port / 64 + 1) * 64;
    }
    return -1;
}

/* the clear bits of a word and the next one, as one 128-bit value */
static unsigned __int128 clear_window( const uint64_t *words, unsigned int index )
{
    uint64_t low = ~__atomic_load_n( &words[index], __ATOMIC_RELAXED );
    uint64_t high = index + 1 < PORTRES_MAP_WORDS ? ~__atomic_load_n( &words[index + 1], __ATOMIC_RELAXED ) : 0;

    return ((unsigned __int128)high << 64) | low;
}

/* first start of count clear bits in [start, end), or -1; a word at a time
 * for runs of up to 64 bits, run by run for longer ones */
int portmap_find_clear_run( const uint64_t *words, unsigned int start, unsigned int end, unsigned int count )
{
    unsigned int index;

    if (count > 64)
    {
        int clear, set;

        while ((clear = portmap_find_clear_bit( words, start, end )) >= 0 && clear + count <= end)
        {
            if ((set = portmap_find_set_bit( words, clear, clear + count )) < 0) return clear;
            start = set;
        }
        return -1;
    }
    for (index = start / 64; index * 64 < end; index++)
    {
        unsigned __int128 runs = clear_window( words, index );
        unsigned int have = 1, step;
        uint64_t starts;

        /* bit i of runs: bits i .. i + have - 1 are all clear */
        while (have < count)
        {
            step = have < count - have ? have : count - have;
            runs &= runs >> step;
            have += step;
        }
        starts = (uint64_t)runs;
        if (index == start / 64) starts &= ~(uint64_t)0 << (start % 64);
        if (starts)
        {
            unsigned int port = index * 64 + __builtin_ctzll( starts );
            return port + count <= end ? (int)port : -1;
        }
    }
    return -1;
}

/* a writer makes the generation odd while it changes the map, and even again
 * after; readers retry when they saw an odd or changed generation */
void portmap_begin( struct portres_map *map )
{
    __atomic_store_n( &map->generation, (map->generation | 1), __ATOMIC_RELAXED );
    __atomic_thread_fence( __ATOMIC_RELEASE );
}

void portmap_end( struct portres_map *map )
{
    __atomic_store_n( &map->generation, map->generation + 1, __ATOMIC_RELEASE );
}

/* empty a map that readers may be looking at: what an earlier server left
 * there (a crash can even leave the generation odd) goes, in one generation */
void portmap_reset( struct portres_map *map )
{
    portmap_begin( map );
    map->version = PORTRES_PROTOCOL_VERSION;
    map->associations = 0;
    memset( map->reserved, 0, sizeof(map->reserved) );
    memset( map->runtime, 0, sizeof(map->runtime) );
    portmap_end( map );
}

/* give a map that readers may be looking at the content of another, in one generation */
void portmap_copy( struct portres_map *map, const struct portres_map *from )
{
    portmap_begin( map );
    map->version = PORTRES_PROTOCOL_VERSION;
    map->associations = from->associations;
    memcpy( map->reserved, from->reserved, sizeof(map->reserved) );
    memcpy( map->runtime, from->runtime, sizeof(map->runtime) );
    portmap_end( map );
}
