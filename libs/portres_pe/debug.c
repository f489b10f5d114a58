/*
 * Debug channels for portres's PE code, written through Wine's ntdll
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
#include <stdio.h>

#include <windef.h>
#include <winbase.h>

#include "portres/pedebug.h"

struct portres_debug_channel portres_channel = { 0xff, "portres" };

static unsigned char (__cdecl *p_get_channel_flags)( struct portres_debug_channel *channel );
static int (__cdecl *p_dbg_header)( enum portres_debug_class cls, struct portres_debug_channel *channel,
                                    const char *function );
static int (__cdecl *p_dbg_output)( const char *str );
static INIT_ONCE init_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK init_debug( INIT_ONCE *once, void *param, void **context )
{
    HMODULE ntdll = GetModuleHandleW( L"ntdll.dll" );

    if (!ntdll) return TRUE;
    p_get_channel_flags = (void *)GetProcAddress( ntdll, "__wine_dbg_get_channel_flags" );
    p_dbg_header        = (void *)GetProcAddress( ntdll, "__wine_dbg_header" );
    p_dbg_output        = (void *)GetProcAddress( ntdll, "__wine_dbg_output" );
    if (!p_get_channel_flags || !p_dbg_header || !p_dbg_output) p_get_channel_flags = NULL;
    return TRUE;
}

int portres_dbg_enabled( enum portres_debug_class cls )
{
    InitOnceExecuteOnce( &init_once, init_debug, NULL, NULL );
    if (!p_get_channel_flags) return cls == PORTRES_DBCL_ERR || cls == PORTRES_DBCL_FIXME;
    return (p_get_channel_flags( &portres_channel ) >> cls) & 1;
}

void portres_dbg_log( enum portres_debug_class cls, const char *function, const char *format, ... )
{
    char buffer[1024];
    va_list args;

    va_start( args, format );
    vsnprintf( buffer, sizeof(buffer), format, args );
    va_end( args );
    if (!p_get_channel_flags)
    {
        fprintf( stderr, "%s:portres:%s %s", cls == PORTRES_DBCL_ERR ? "err" : "fixme", function, buffer );
        return;
    }
    if (p_dbg_header( cls, &portres_channel, function ) == -1) return;
    p_dbg_output( buffer );
}
