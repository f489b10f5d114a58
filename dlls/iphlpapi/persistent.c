/*
 * Create, Delete and LookupPersistent{Tcp,Udp}PortReservation
 *
 * Persistent reservations live in the reservation server's store; these
 * functions check their arguments as Windows does, ask the server through
 * the bridge, and turn its NTSTATUS into the Win32 error Windows returns.
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

#include <ntstatus.h>
#define WIN32_NO_STATUS
#include <windef.h>
#include <winbase.h>
#include <winternl.h>

#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/pebridge.h"
#include "portres/pedebug.h"

static inline USHORT swap_port( USHORT port )
{
    return (port >> 8) | (port << 8);
}

/* the checks Windows makes before anything else: a start port (network
 * order) and a count that are not zero, and a range within 65535 */
static BOOL valid_range( USHORT start, USHORT count )
{
    return start && count && (ULONG)swap_port( start ) + count - 1 <= 65535;
}

/* the request made, its status as a Win32 error */
static ULONG persistent_call( struct bridge_request_params *call, unsigned int protocol, USHORT start,
                              USHORT count )
{
    NTSTATUS status = bridge_call( bridge_request, call );

    TRACE( "request %u, protocol %u, %u+%u: status %#lx\n", call->req.request_header.req, protocol,
           swap_port( start ), count, status );
    return bridge_status_to_error( status );
}

static ULONG create_reservation( unsigned int protocol, USHORT start, USHORT count, ULONG64 *token )
{
    struct bridge_request_params call;
    struct persistent_create_request *req = BRIDGE_REQUEST( &call, persistent_create );
    ULONG error;

    if (!token || !valid_range( start, count )) return ERROR_INVALID_PARAMETER;
    req->protocol = protocol;
    req->start    = swap_port( start );
    req->count    = count;
    req->elevated = bridge_process_elevated();
    if (!(error = persistent_call( &call, protocol, start, count ))) *token = call.reply.persistent_create_reply.token;
    return error;
}

static ULONG delete_reservation( unsigned int protocol, USHORT start, USHORT count )
{
    struct bridge_request_params call;
    struct persistent_delete_request *req = BRIDGE_REQUEST( &call, persistent_delete );

    if (!valid_range( start, count )) return ERROR_INVALID_PARAMETER;
    req->protocol = protocol;
    req->start    = swap_port( start );
    req->count    = count;
    req->elevated = bridge_process_elevated();
    return persistent_call( &call, protocol, start, count );
}

static ULONG lookup_reservation( unsigned int protocol, USHORT start, USHORT count, ULONG64 *token )
{
    struct bridge_request_params call;
    struct persistent_lookup_request *req = BRIDGE_REQUEST( &call, persistent_lookup );
    ULONG error;

    if (!token || !valid_range( start, count )) return ERROR_INVALID_PARAMETER;
    req->protocol = protocol;
    req->start    = swap_port( start );
    req->count    = count;
    if (!(error = persistent_call( &call, protocol, start, count ))) *token = call.reply.persistent_lookup_reply.token;
    return error;
}

/***********************************************************************
 *      CreatePersistentTcpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    return create_reservation( PORTRES_PROTO_TCP, start, count, token );
}

/***********************************************************************
 *      CreatePersistentUdpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    return create_reservation( PORTRES_PROTO_UDP, start, count, token );
}

/***********************************************************************
 *      DeletePersistentTcpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentTcpPortReservation( USHORT start, USHORT count )
{
    return delete_reservation( PORTRES_PROTO_TCP, start, count );
}

/***********************************************************************
 *      DeletePersistentUdpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentUdpPortReservation( USHORT start, USHORT count )
{
    return delete_reservation( PORTRES_PROTO_UDP, start, count );
}

/***********************************************************************
 *      LookupPersistentTcpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    return lookup_reservation( PORTRES_PROTO_TCP, start, count, token );
}

/***********************************************************************
 *      LookupPersistentUdpPortReservation  (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    return lookup_reservation( PORTRES_PROTO_UDP, start, count, token );
}
