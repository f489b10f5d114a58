/*
 * Hash tables of 64-bit keys, with the entries embedded in their owners
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

#ifndef __PORTRES_HASH_H
#define __PORTRES_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_entry
{
    struct hash_entry *next;
    uint64_t           key;
};

struct hash_table
{
    struct hash_entry **buckets;
    unsigned int        size;    /* number of buckets, a power of two */
    unsigned int        count;   /* number of entries */
};

extern int hash_init( struct hash_table *table );
extern void hash_free( struct hash_table *table );
extern struct hash_entry *hash_find( const struct hash_table *table, uint64_t key );
extern void hash_insert( struct hash_table *table, struct hash_entry *entry );
extern void hash_remove( struct hash_table *table, struct hash_entry *entry );
/* the first entry at or after bucket *pos, for walking a table; NULL at the end */
extern struct hash_entry *hash_next_bucket( const struct hash_table *table, unsigned int *pos );

#define HASH_ENTRY(elem, type, field) \
    ((type *)((char *)(elem) - offsetof(type, field)))

#endif /* __PORTRES_HASH_H */
