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
