/*
 * portres.dll: the Windows half of the bridge to the reservation server
 *
 * A builtin-marked PE DLL whose only job is to own the unixlib portres.so
 * and pass calls to it.  It works with the unixlib interface of Wine 8
 * (ntdll's __wine_unix_call) and of later Wine (the function pointer ntdll
 * exports as __wine_unix_call_dispatcher); where neither is found, or the
 * unixlib cannot be loaded, every call fails with STATUS_NOT_SUPPORTED and
 * the reason is printed once.
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

#include <ntstatus.h>
#define WIN32_NO_STATUS
#include <windef.h>
#include <winbase.h>
#include <winternl.h>

#include "portres/bridge.h"
#include "portres/pedebug.h"

#define MEMORY_WINE_UNIX_FUNCS 1000   /* MemoryWineUnixFuncs / MemoryWineLoadUnixLib */

typedef NTSTATUS (WINAPI *unix_call_func)( UINT64 handle, unsigned int code, void *args );
typedef NTSTATUS (WINAPI *query_memory_func)( HANDLE process, const void *addr, ULONG info_class,
                                             void *buffer, SIZE_T size, SIZE_T *ret );

/* ntdll's wine_server_handle_to_fd, which Wine 8.0 and 10.0 export alike */
typedef NTSTATUS (CDECL *handle_to_fd_func)( HANDLE handle, unsigned int access, int *unix_fd,
                                             unsigned int *options );

static UINT64 unix_handle;
static unix_call_func unix_call;
static handle_to_fd_func handle_to_fd;
static const char *init_error;
static NTSTATUS init_status = STATUS_NOT_SUPPORTED;

static void init_bridge( HINSTANCE instance )
{
    HMODULE ntdll = GetModuleHandleW( L"ntdll.dll" );
    query_memory_func query_memory;
    unix_call_func *dispatcher;
    NTSTATUS status;

    if (!ntdll || !(query_memory = (void *)GetProcAddress( ntdll, "NtQueryVirtualMemory" )))
    {
        init_error = "ntdll has no NtQueryVirtualMemory";
        return;
    }
    if (!(unix_call = (void *)GetProcAddress( ntdll, "__wine_unix_call" )))
    {
        /* newer Wine: a pointer to the dispatcher, exported as data */
        if ((dispatcher = (void *)GetProcAddress( ntdll, "__wine_unix_call_dispatcher" )))
            unix_call = *dispatcher;
    }
    if (!unix_call)
    {
        init_error = "this is not Wine, or a Wine without the unixlib interface";
        return;
    }
    if (!(handle_to_fd = (void *)GetProcAddress( ntdll, "wine_server_handle_to_fd" )))
    {
        init_error = "ntdll has no wine_server_handle_to_fd";
        return;
    }
    status = query_memory( GetCurrentProcess(), instance, MEMORY_WINE_UNIX_FUNCS, &unix_handle,
                           sizeof(unix_handle), NULL );
    if (status || !unix_handle)
    {
        init_error = "Wine cannot load portres.so: it must be beside portres.dll in Wine's DLL directory "
                     "or in a directory on WINEDLLPATH (./portres-wine sets it; 'sudo make install' installs it)";
        return;
    }
    init_status = STATUS_SUCCESS;
}

/***********************************************************************
 *           portres_call   (portres.@)
 *
 * Make a bridge call (enum bridge_call) with its parameters.
 */
NTSTATUS CDECL portres_call( unsigned int code, void *params )
{
    static LONG reported;

    if (init_status)
    {
        if (!InterlockedExchange( &reported, 1 ))
            ERR( "no reservation server: %s\n", init_error ? init_error : "not initialized" );
        return init_status;
    }
    if (code >= bridge_nb_calls) return STATUS_INVALID_PARAMETER;
    if (code == bridge_socket_id)
    {
        /* the unixlib takes the socket's inode from a descriptor Wine lends us */
        struct bridge_socket_id_params *id = params;
        int fd;

        id->id = 0;
        if (handle_to_fd( (HANDLE)(ULONG_PTR)id->handle, 0, &fd, NULL )) return STATUS_INVALID_PARAMETER;
        id->unix_fd = fd;
    }
    return unix_call( unix_handle, code, params );
}

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    if (reason == DLL_PROCESS_ATTACH)
    {
        DisableThreadLibraryCalls( instance );
        init_bridge( instance );
    }
    return TRUE;
}
