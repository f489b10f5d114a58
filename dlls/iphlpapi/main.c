/*
 * The proxy iphlpapi.dll: Wine's builtin iphlpapi, plus Windows' persistent
 * port reservation functions
 *
 * Every export of Wine's builtin is forwarded through a trampoline; the six
 * functions Wine lacks are in persistent.c.
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

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    HMODULE builtin;

    if (reason == DLL_PROCESS_ATTACH)
    {
        DisableThreadLibraryCalls( instance );
        if (!(builtin = proxy_load_builtin( instance, L"iphlpapi.dll" ))) return FALSE;
        proxy_resolve( builtin );
        proxy_forget_builtin();
    }
    return TRUE;
}
