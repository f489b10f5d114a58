/*
 * The trampolines of the exports a proxy forwards: each jumps through a
 * slot filled from Wine's builtin, or to a stub that says what is missing
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

#include <windef.h>
#include <winbase.h>

#include "portres/proxy.h"
#include "portres/pedebug.h"

#define EXCEPTION_WINE_STUB 0x80000100

void proxy_resolve( HMODULE builtin )
{
    unsigned int i;

    for (i = 0; i < proxy_count; i++)
    {
        void *func = (void *)GetProcAddress( builtin, proxy_names[i] );
        proxy_slots[i] = func ? func : proxy_missing_stubs[i];
    }
}

void proxy_missing( const char *name )
{
    ULONG_PTR args[2];

    ERR( "%s is not in this Wine's builtin DLL\n", name );
    args[0] = (ULONG_PTR)"portres proxy";
    args[1] = (ULONG_PTR)name;
    RaiseException( EXCEPTION_WINE_STUB, EXCEPTION_NONCONTINUABLE, 2, args );
}
