/*
 * Bitmaps of ports, and the map of reserved ports the server publishes
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

#ifndef __PORTRES_PORTMAP_H
#define __PORTRES_PORTMAP_H

#include "portres/protocol.h"

/* set or clear the bits of count ports from start */
extern void portmap_set_bits( uint64_t *words, unsigned int start, unsigned int count, int set );
/* first set, or clear, bit in [start, end), or -1 */
extern int portmap_find_set_bit( const uint64_t *words, unsigned int start, unsigned int end );
extern int portmap_find_clear_bit( const uint64_t *words, unsigned int start, unsigned int end );
/* first start of count clear bits in [start, end), or -1 */
extern int portmap_find_clear_run( const uint64_t *words, unsigned int start, unsigned int end,
                                   unsigned int count );

/* the published map: a change goes between begin and end */
extern void portmap_begin( struct portres_map *map );
extern void portmap_end( struct portres_map *map );
/* empty a map that readers may be looking at, in one generation */
extern void portmap_reset( struct portres_map *map );
/* give a map that readers may be looking at the content of another, in one generation */
extern void portmap_copy( struct portres_map *map, const struct portres_map *from );

#endif /* __PORTRES_PORTMAP_H */
