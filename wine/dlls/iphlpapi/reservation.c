/*
 * Persistent port reservations: the six iphlpapi functions, sent to the wineserver
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

/*
 * The server keeps the persistent reservations, in its tables and in the
 * registry.  It is reached as ws2_32 reaches it, through ioctls on a socket
 * of the protocol, which this file makes directly with ntdll; the ports are
 * in network order here and in host order in the ioctls.
 */

#include <stdarg.h>
#include <string.h>

#define IPHLPAPI_DLL_LINKAGE
#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#include "winsock2.h"
#include "iphlpapi.h"
#include "wine/afd.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(iphlpapi);

static inline USHORT swap_port( USHORT port )
{
    return (port >> 8) | (port << 8);
}

/* a socket of the type, made as ws2_32 makes one */
static NTSTATUS open_socket( int type, HANDLE *handle )
{
    struct afd_create_params create;
    OBJECT_ATTRIBUTES attr;
    UNICODE_STRING name;
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    RtlInitUnicodeString( &name, L"\\Device\\Afd" );
    InitializeObjectAttributes( &attr, &name, 0, NULL, NULL );
    if ((status = NtOpenFile( handle, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, &attr, &io, 0,
                              FILE_SYNCHRONOUS_IO_NONALERT )))
        return status;
    create.family = AF_INET;
    create.type = type;
    create.protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    create.flags = 0;
    if ((status = NtDeviceIoControlFile( *handle, NULL, NULL, NULL, &io, IOCTL_AFD_WINE_CREATE,
                                         &create, sizeof(create), NULL, 0 )))
        NtClose( *handle );
    return status;
}

static ULONG persistent_ioctl( int type, ULONG code, USHORT start, USHORT count, ULONG64 *token )
{
    struct afd_port_reservation_params params, reply;
    IO_STATUS_BLOCK io;
    NTSTATUS status;
    HANDLE handle;

    memset( &params, 0, sizeof(params) );
    params.start = swap_port( start );
    params.count = count;
    if (!(status = open_socket( type, &handle )))
    {
        status = NtDeviceIoControlFile( handle, NULL, NULL, NULL, &io, code, &params, sizeof(params),
                                        token ? &reply : NULL, token ? sizeof(reply) : 0 );
        NtClose( handle );
    }
    TRACE( "code %#lx, %u+%u: status %#lx\n", code, swap_port( start ), count, status );
    if (!status && token) *token = reply.token;
    return RtlNtStatusToDosError( status );
}

/******************************************************************
 *    CreatePersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    if (!token) return ERROR_INVALID_PARAMETER;
    return persistent_ioctl( SOCK_STREAM, IOCTL_AFD_WINE_CREATE_PERSISTENT_PORT_RESERVATION, start, count, token );
}

/******************************************************************
 *    CreatePersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    if (!token) return ERROR_INVALID_PARAMETER;
    return persistent_ioctl( SOCK_DGRAM, IOCTL_AFD_WINE_CREATE_PERSISTENT_PORT_RESERVATION, start, count, token );
}

/******************************************************************
 *    DeletePersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentTcpPortReservation( USHORT start, USHORT count )
{
    return persistent_ioctl( SOCK_STREAM, IOCTL_AFD_WINE_DELETE_PERSISTENT_PORT_RESERVATION, start, count, NULL );
}

/******************************************************************
 *    DeletePersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentUdpPortReservation( USHORT start, USHORT count )
{
    return persistent_ioctl( SOCK_DGRAM, IOCTL_AFD_WINE_DELETE_PERSISTENT_PORT_RESERVATION, start, count, NULL );
}

/******************************************************************
 *    LookupPersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    if (!token) return ERROR_INVALID_PARAMETER;
    return persistent_ioctl( SOCK_STREAM, IOCTL_AFD_WINE_LOOKUP_PERSISTENT_PORT_RESERVATION, start, count, token );
}

/******************************************************************
 *    LookupPersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    if (!token) return ERROR_INVALID_PARAMETER;
    return persistent_ioctl( SOCK_DGRAM, IOCTL_AFD_WINE_LOOKUP_PERSISTENT_PORT_RESERVATION, start, count, token );
}
