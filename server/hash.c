/*
 * Hash tables of 64-bit keys, with the entries embedded in their owners
 *
 * Chained buckets that double when the table gets full; keys are mixed, so
 * socket handle values (small multiples of 4) spread as well as tokens.
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

#include <stdlib.h>
#include "hash.h"

#define HASH_INITIAL_SIZE 16

static unsigned int bucket_of( uint64_t key, unsigned int size )
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (unsigned int)key & (size - 1);
}

int hash_init( struct hash_table *table )
{
    table->size = HASH_INITIAL_SIZE;
    table->count = 0;
    table->buckets = calloc( table->size, sizeof(*table->buckets) );
    return table->buckets != NULL;
}

void hash_free( struct hash_table *table )
{
    free( table->buckets );
    table->buckets = NULL;
    table->size = table->count = 0;
}

struct hash_entry *hash_find( const struct hash_table *table, uint64_t key )
{
    struct hash_entry *entry;

    for (entry = table->buckets[bucket_of( key, table->size )]; entry; entry = entry->next)
        if (entry->key == key) return entry;
    return NULL;
}

/* double the number of buckets; on allocation failure the table just stays denser */
static void grow( struct hash_table *table )
{
    unsigned int i, size = table->size * 2;
    struct hash_entry **buckets = calloc( size, sizeof(*buckets) );

    if (!buckets) return;
    for (i = 0; i < table->size; i++)
    {
        struct hash_entry *entry = table->buckets[i], *next;
        for (; entry; entry = next)
        {
            unsigned int b = bucket_of( entry->key, size );
            next = entry->next;
            entry->next = buckets[b];
            buckets[b] = entry;
        }
    }
    free( table->buckets );
    table->buckets = buckets;
    table->size = size;
}

void hash_insert( struct hash_table *table, struct hash_entry *entry )
{
    unsigned int b;

    if (table->count >= table->size) grow( table );
    b = bucket_of( entry->key, table->size );
    entry->next = table->buckets[b];
    table->buckets[b] = entry;
    table->count++;
}

void hash_remove( struct hash_table *table, struct hash_entry *entry )
{
    struct hash_entry **ptr = &table->buckets[bucket_of( entry->key, table->size )];

    for (; *ptr; ptr = &(*ptr)->next)
    {
        if (*ptr != entry) continue;
        *ptr = entry->next;
        table->count--;
        return;
    }
}

struct hash_entry *hash_next_bucket( const struct hash_table *table, unsigned int *pos )
{
    for (; *pos < table->size; (*pos)++)
        if (table->buckets[*pos]) return table->buckets[(*pos)++];
    return NULL;
}
