/*
 * Finding and loading Wine's builtin DLL that a proxy stands in for
 *
 * The proxy replaces Wine's placeholder in system32, so the builtin is
 * looked for in Wine's own DLL directories, which Wine names in the
 * WINEDLLDIR0..n environment variables; nothing is hard-coded.  Only files
 * marked as Wine builtins are taken, never a copy of a proxy.
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
#include <string.h>
#include <wchar.h>

#include <windef.h>
#include <winbase.h>

#include "portres/proxy.h"
#include "portres/pedebug.h"

/* whether a file is a Wine builtin: winebuild --builtin marks it after the DOS header */
static BOOL is_builtin( const WCHAR *path )
{
    static const char marker[] = "Wine builtin DLL";
    char header[0x40 + sizeof(marker)];
    HANDLE file;
    DWORD size = 0;

    file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL );
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    if (!ReadFile( file, header, sizeof(header), &size, NULL )) size = 0;
    CloseHandle( file );
    return size == sizeof(header) && !memcmp( header + 0x40, marker, sizeof(marker) - 1 );
}

/* Wine's loader remembers the last module it found, by name or by handle, and
 * answers the next lookup of that base name with it: after the builtin was
 * loaded or looked into, GetModuleHandle("ws2_32.dll") or a DLL importing it
 * would get the builtin and bypass the proxy.  A lookup of another module
 * makes it forget. */
void proxy_forget_builtin( void )
{
    GetModuleHandleW( L"kernel32.dll" );
}

static HMODULE try_load( const WCHAR *dir, const WCHAR *subdir, const WCHAR *name, const WCHAR *self_path,
                         HINSTANCE self )
{
    WCHAR path[MAX_PATH];
    HMODULE module;

    if (_snwprintf( path, MAX_PATH, L"%ls%ls\\%ls", dir, subdir, name ) >= MAX_PATH) return NULL;
    path[MAX_PATH - 1] = 0;
    if (!_wcsicmp( path, self_path ) || !is_builtin( path )) return NULL;
    if (!(module = LoadLibraryW( path ))) return NULL;
    if (module == self)
    {
        FreeLibrary( module );
        return NULL;
    }
    proxy_forget_builtin();
    TRACE( "using %ls\n", path );
    return module;
}

/* the subdirectory of Wine's DLL directory with the builtins of our own
 * architecture: a 32-bit process (old WoW) has the i386 ones */
#ifdef __i386__
static const WCHAR arch_dir[] = L"\\i386-windows";
#else
static const WCHAR arch_dir[] = L"\\x86_64-windows";
#endif

HMODULE proxy_load_builtin( HINSTANCE self, const WCHAR *name )
{
    WCHAR var[32], dir[MAX_PATH], self_path[MAX_PATH];
    unsigned int i;
    HMODULE module;

    if (!GetModuleFileNameW( self, self_path, MAX_PATH )) self_path[0] = 0;
    for (i = 0; i < 16; i++)
    {
        const WCHAR *unix_dir = dir;
        DWORD len;

        _snwprintf( var, ARRAYSIZE(var), L"WINEDLLDIR%u", i );
        var[ARRAYSIZE(var) - 1] = 0;
        len = GetEnvironmentVariableW( var, dir, MAX_PATH );
        if (!len || len >= MAX_PATH) continue;
        if (!wcsncmp( dir, L"\\??\\", 4 )) unix_dir += 4;
        if ((module = try_load( unix_dir, arch_dir, name, self_path, self ))) return module;
        if ((module = try_load( unix_dir, L"", name, self_path, self ))) return module;
    }
    ERR( "cannot find Wine's builtin %ls in the directories WINEDLLDIR0..n name\n", name );
    return NULL;
}
