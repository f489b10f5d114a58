/*
 * Pieces of dlls/iphlpapi/iphlpapi_main.c: the persistent port reservation
 * functions
 *
 * Copyright 2026 The portres authors
 *
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

/*@ stubs @*/

/******************************************************************
 *    CreatePersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    FIXME( "(%u, %u, %p): stub\n", ntohs( start ), count, token );
    return ERROR_NOT_SUPPORTED;
}

/******************************************************************
 *    CreatePersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI CreatePersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    FIXME( "(%u, %u, %p): stub\n", ntohs( start ), count, token );
    return ERROR_NOT_SUPPORTED;
}

/******************************************************************
 *    DeletePersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentTcpPortReservation( USHORT start, USHORT count )
{
    FIXME( "(%u, %u): stub\n", ntohs( start ), count );
    return ERROR_NOT_SUPPORTED;
}

/******************************************************************
 *    DeletePersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI DeletePersistentUdpPortReservation( USHORT start, USHORT count )
{
    FIXME( "(%u, %u): stub\n", ntohs( start ), count );
    return ERROR_NOT_SUPPORTED;
}

/******************************************************************
 *    LookupPersistentTcpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentTcpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    FIXME( "(%u, %u, %p): stub\n", ntohs( start ), count, token );
    return ERROR_NOT_SUPPORTED;
}

/******************************************************************
 *    LookupPersistentUdpPortReservation (IPHLPAPI.@)
 */
ULONG WINAPI LookupPersistentUdpPortReservation( USHORT start, USHORT count, ULONG64 *token )
{
    FIXME( "(%u, %u, %p): stub\n", ntohs( start ), count, token );
    return ERROR_NOT_SUPPORTED;
}
/*@ persistent @*/
/* whether the ports are a block that can be reserved persistently */
static BOOL valid_port_range( USHORT start, USHORT count )
{
    return start && count && ntohs( start ) + count <= 65536;
}

/* creating and deleting persistent reservations takes an elevated process */
static BOOL process_is_elevated(void)
{
    TOKEN_ELEVATION elevation;
    DWORD size;

    return GetTokenInformation( GetCurrentProcessToken(), TokenElevation, &elevation, sizeof(elevation), &size )
           && elevation.TokenIsElevated;
}

static ULONG lookup_port_reservation( const NPI_MODULEID *module, DWORD table, USHORT start, USHORT count,
                                      ULONG64 *token )
{
    struct nsi_port_reservation_key key = { start, count };
    struct nsi_port_reservation_dynamic dyn;
    ULONG err;

    if (!valid_port_range( start, count ) || !token) return ERROR_INVALID_PARAMETER;
    err = NsiGetAllParameters( 1, module, table, &key, sizeof(key), NULL, 0, &dyn, sizeof(dyn), NULL, 0 );
    if (!err) *token = dyn.token;
    return err;
}

static ULONG create_port_reservation( const NPI_MODULEID *module, DWORD table, USHORT start, USHORT count,
                                      ULONG64 *token )
{
    struct nsi_port_reservation_key key = { start, count };
    ULONG err;

    if (!valid_port_range( start, count ) || !token) return ERROR_INVALID_PARAMETER;
    if (!process_is_elevated()) return ERROR_ACCESS_DENIED;
    err = NsiSetAllParameters( NSI_STORE_PERSISTENT, NSI_SET_CREATE_ONLY, module, table, &key, sizeof(key), NULL, 0 );
    if (!err) err = lookup_port_reservation( module, table, start, count, token );
    return err;
}

static ULONG delete_port_reservation( const NPI_MODULEID *module, DWORD table, USHORT start, USHORT count )
{
    struct nsi_port_reservation_key key = { start, count };

    if (!valid_port_range( start, count )) return ERROR_INVALID_PARAMETER;
    if (!process_is_elevated()) return ERROR_ACCESS_DENIED;
    return NsiSetAllParameters( NSI_STORE_PERSISTENT, NSI_SET_DELETE, module, table, &key, sizeof(key), NULL, 0 );
}

/*@ create-tcp @*/
    TRACE( "(%u, %u, %p)\n", ntohs( start ), count, token );
    return create_port_reservation( &NPI_MS_TCP_MODULEID, NSI_TCP_PORT_RESERVATION_TABLE, start, count, token );
/*@ create-udp @*/
    TRACE( "(%u, %u, %p)\n", ntohs( start ), count, token );
    return create_port_reservation( &NPI_MS_UDP_MODULEID, NSI_UDP_PORT_RESERVATION_TABLE, start, count, token );
/*@ delete-tcp @*/
    TRACE( "(%u, %u)\n", ntohs( start ), count );
    return delete_port_reservation( &NPI_MS_TCP_MODULEID, NSI_TCP_PORT_RESERVATION_TABLE, start, count );
/*@ delete-udp @*/
    TRACE( "(%u, %u)\n", ntohs( start ), count );
    return delete_port_reservation( &NPI_MS_UDP_MODULEID, NSI_UDP_PORT_RESERVATION_TABLE, start, count );
/*@ lookup-tcp @*/
    TRACE( "(%u, %u, %p)\n", ntohs( start ), count, token );
    return lookup_port_reservation( &NPI_MS_TCP_MODULEID, NSI_TCP_PORT_RESERVATION_TABLE, start, count, token );
/*@ lookup-udp @*/
    TRACE( "(%u, %u, %p)\n", ntohs( start ), count, token );
    return lookup_port_reservation( &NPI_MS_UDP_MODULEID, NSI_UDP_PORT_RESERVATION_TABLE, start, count, token );
/*@ nothing @*/
