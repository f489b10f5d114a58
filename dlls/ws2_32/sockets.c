/*
 * The set of sockets the reservation server holds state for
 *
 * Sockets that acquired a reservation or were associated with one; only
 * their binds and closes need the server, every other socket goes straight
 * to Wine.  An open-addressing hash set of handle values under an SRW lock.
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

#include <stdarg.h>

#include <winsock2.h>
#include <windef.h>
#include <winbase.h>

#include "ws2_32_private.h"

#define EMPTY    ((SOCKET)0)
#define REMOVED  ((SOCKET)~(ULONG_PTR)0)

static SRWLOCK lock = SRWLOCK_INIT;
static SOCKET *table;
static unsigned int table_size;    /* a power of two */
static unsigned int used;          /* entries and tombstones */
static LONG count;                 /* entries; read without the lock on the fast path */

static unsigned int slot_of( SOCKET s, unsigned int size )
{
    ULONG64 key = (ULONG64)s * 0x9e3779b97f4a7c15ULL;
    return (unsigned int)(key >> 32) & (size - 1);
}

/* index of s, or of the free slot where it would go; -1 when absent and the table is missing */
static int find( SOCKET s, BOOL for_insert )
{
    unsigned int i, pos, tomb = ~0u;

    if (!table) return -1;
    pos = slot_of( s, table_size );
    for (i = 0; i < table_size; i++, pos = (pos + 1) & (table_size - 1))
    {
        if (table[pos] == s) return pos;
        if (table[pos] == REMOVED && tomb == ~0u) tomb = pos;
        if (table[pos] == EMPTY) return for_insert ? (int)(tomb != ~0u ? tomb : pos) : -1;
    }
    return for_insert && tomb != ~0u ? (int)tomb : -1;
}

static BOOL grow( void )
{
    unsigned int i, old_size = table_size, size = table_size ? table_size * 2 : 64;
    SOCKET *old = table;

    if (!(table = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, size * sizeof(*table) )))
    {
        table = old;
        return FALSE;
    }
    table_size = size;
    used = 0;
    for (i = 0; i < old_size; i++)
    {
        if (old[i] == EMPTY || old[i] == REMOVED) continue;
        table[find( old[i], TRUE )] = old[i];
        used++;
    }
    HeapFree( GetProcessHeap(), 0, old );
    return TRUE;
}

void sockets_add( SOCKET s )
{
    int pos;

    AcquireSRWLockExclusive( &lock );
    if (find( s, FALSE ) < 0 && ((used + 1) * 2 <= table_size || grow()))
    {
        pos = find( s, TRUE );
        if (table[pos] == EMPTY) used++;
        table[pos] = s;
        InterlockedIncrement( &count );
    }
    ReleaseSRWLockExclusive( &lock );
}

BOOL sockets_remove( SOCKET s )
{
    int pos;

    if (!count) return FALSE;
    AcquireSRWLockExclusive( &lock );
    if ((pos = find( s, FALSE )) >= 0)
    {
        table[pos] = REMOVED;
        InterlockedDecrement( &count );
    }
    ReleaseSRWLockExclusive( &lock );
    return pos >= 0;
}

BOOL sockets_contains( SOCKET s )
{
    int pos;

    if (!count) return FALSE;
    AcquireSRWLockShared( &lock );
    pos = find( s, FALSE );
    ReleaseSRWLockShared( &lock );
    return pos >= 0;
}
