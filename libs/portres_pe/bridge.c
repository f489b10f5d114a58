/*
 * The proxies' way to the bridge: portres.dll, loaded on first use
 *
 * A proxy works without the bridge (everything but reservations is Wine's
 * own code); only reservation calls need it, so it is loaded when the first
 * one comes, and its absence makes them fail with STATUS_NOT_SUPPORTED and
 * one clear message.
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

#include <ntstatus.h>
#define WIN32_NO_STATUS
#include <windef.h>
#include <winbase.h>
#include <winternl.h>

#include "portres/bridge.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

static NTSTATUS (CDECL *p_portres_call)( unsigned int code, void *params );
static INIT_ONCE init_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK load_bridge( INIT_ONCE *once, void *param, void **context )
{
    HMODULE module = LoadLibraryW( L"portres.dll" );

    if (!module)
    {
        ERR( "cannot load portres.dll (error %lu): port reservations are unavailable; "
             "run './portres install' or start the program with ./portres-wine\n", GetLastError() );
        return TRUE;
    }
    if (!(p_portres_call = (void *)GetProcAddress( module, "portres_call" )))
        ERR( "portres.dll has no portres_call: a mismatched build?\n" );
    return TRUE;
}

NTSTATUS bridge_call( unsigned int code, void *params )
{
    NTSTATUS status;

    InitOnceExecuteOnce( &init_once, load_bridge, NULL, NULL );
    if (!p_portres_call) return STATUS_NOT_SUPPORTED;
    status = p_portres_call( code, params );
    if (status == STATUS_CONNECTION_REFUSED || status == STATUS_CONNECTION_RESET)
    {
        struct bridge_error_message_params error;
        if (!p_portres_call( bridge_error_message, &error )) ERR( "reservation server: %s\n", error.message );
    }
    return status;
}

/* whether the process's token is elevated: Windows asks it of callers that
 * change or take up persistent reservations (Wine's default token is) */
BOOL bridge_process_elevated( void )
{
    TOKEN_ELEVATION elevation;
    HANDLE token;
    DWORD size;
    BOOL ret;

    if (!OpenProcessToken( GetCurrentProcess(), TOKEN_QUERY, &token )) return FALSE;
    ret = GetTokenInformation( token, TokenElevation, &elevation, sizeof(elevation), &size ) &&
          elevation.TokenIsElevated;
    CloseHandle( token );
    return ret;
}

static const struct
{
    NTSTATUS status;
    ULONG    error;
}
status_errors[] =
{
    { STATUS_SUCCESS,                ERROR_SUCCESS },
    { STATUS_INVALID_PARAMETER,      ERROR_INVALID_PARAMETER },
    { STATUS_SHARING_VIOLATION,      ERROR_SHARING_VIOLATION },
    { STATUS_ADDRESS_ALREADY_EXISTS, ERROR_SHARING_VIOLATION },
    { STATUS_NOT_FOUND,              ERROR_NOT_FOUND },
    { STATUS_ACCESS_DENIED,          ERROR_ACCESS_DENIED },
    { STATUS_NO_MEMORY,              ERROR_NOT_ENOUGH_MEMORY },
    { STATUS_NOT_SUPPORTED,          ERROR_NOT_SUPPORTED },
};

/* the Win32 error Windows' iphlpapi gives for what the server answered */
ULONG bridge_status_to_error( NTSTATUS status )
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(status_errors); i++)
        if (status_errors[i].status == status) return status_errors[i].error;
    return RtlNtStatusToDosError( status );
}
