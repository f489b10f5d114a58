/*
 * Pieces of include/wine/nsi.h: setting parameters, and the port reservation tables
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

/*@ tcp-table @*/
#define NSI_TCP_PORT_RESERVATION_TABLE     29
/*@ udp-table @*/
#define NSI_UDP_PORT_RESERVATION_TABLE     5
/*@ reservation @*/
/* Undocumented NSI TCP and UDP port reservation tables; their store is
 * persistent */
struct nsi_port_reservation_key
{
    USHORT port; /* first port, network byte order */
    USHORT count;
};

struct nsi_port_reservation_dynamic
{
    ULONGLONG token;
};

/*@ set-ioctl @*/
#define IOCTL_NSIPROXY_WINE_SET_ALL_PARAMETERS    CTL_CODE(FILE_DEVICE_NETWORK, 0x405, METHOD_BUFFERED, 0)
/*@ set @*/
/* input for IOCTL_NSIPROXY_WINE_SET_ALL_PARAMETERS */
struct nsiproxy_set_all_parameters
{
    NPI_MODULEID module;
    UINT first_arg;
    UINT action;
    UINT table;
    UINT key_size;
    UINT rw_size;
    BYTE data[1]; /* key_size, then rw_size */
};

/*@ set-decl @*/
/* NsiSetAllParameters: the store that keeps the change across restarts */
#define NSI_STORE_PERSISTENT               1
/* NsiSetAllParameters: what it does */
#define NSI_SET_CREATE_ONLY                1
#define NSI_SET_DELETE                     3

DWORD WINAPI NsiSetAllParameters( DWORD store, DWORD action, const NPI_MODULEID *module, DWORD table,
                                  const void *key, DWORD key_size, const void *rw_data, DWORD rw_size );

