/*
 * Pieces of dlls/nsi: NsiSetAllParameters
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

/*@ spec @*/
@ stdcall NsiSetAllParameters(long long ptr long ptr long ptr long)
/*@ set @*/

DWORD WINAPI NsiSetAllParameters( DWORD store, DWORD action, const NPI_MODULEID *module, DWORD table,
                                  const void *key, DWORD key_size, const void *rw_data, DWORD rw_size )
{
    HANDLE device = get_nsi_device( FALSE );
    struct nsiproxy_set_all_parameters *in;
    ULONG in_size = FIELD_OFFSET( struct nsiproxy_set_all_parameters, data[key_size + rw_size] ), received;
    DWORD err = ERROR_SUCCESS;

    TRACE( "%ld %ld %p %ld %p %ld %p %ld\n", store, action, module, table, key, key_size, rw_data, rw_size );

    if (device == INVALID_HANDLE_VALUE) return GetLastError();
    if (!(in = malloc( in_size ))) return ERROR_OUTOFMEMORY;

    in->module = *module;
    in->first_arg = store;
    in->action = action;
    in->table = table;
    in->key_size = key_size;
    in->rw_size = rw_size;
    memcpy( in->data, key, key_size );
    if (rw_size) memcpy( in->data + key_size, rw_data, rw_size );

    if (!DeviceIoControl( device, IOCTL_NSIPROXY_WINE_SET_ALL_PARAMETERS, in, in_size, NULL, 0, &received, NULL ))
        err = GetLastError();
    free( in );
    return err;
}
/*@ set 8.0 @*/

DWORD WINAPI NsiSetAllParameters( DWORD store, DWORD action, const NPI_MODULEID *module, DWORD table,
                                  const void *key, DWORD key_size, const void *rw_data, DWORD rw_size )
{
    HANDLE device = get_nsi_device();
    struct nsiproxy_set_all_parameters *in;
    ULONG in_size = FIELD_OFFSET( struct nsiproxy_set_all_parameters, data[key_size + rw_size] ), received;
    DWORD err = ERROR_SUCCESS;

    TRACE( "%ld %ld %p %ld %p %ld %p %ld\n", store, action, module, table, key, key_size, rw_data, rw_size );

    if (device == INVALID_HANDLE_VALUE) return GetLastError();
    if (!(in = heap_alloc( in_size )))
    {
        CloseHandle( device );
        return ERROR_OUTOFMEMORY;
    }

    in->module = *module;
    in->first_arg = store;
    in->action = action;
    in->table = table;
    in->key_size = key_size;
    in->rw_size = rw_size;
    memcpy( in->data, key, key_size );
    if (rw_size) memcpy( in->data + key_size, rw_data, rw_size );

    if (!DeviceIoControl( device, IOCTL_NSIPROXY_WINE_SET_ALL_PARAMETERS, in, in_size, NULL, 0, &received, NULL ))
        err = GetLastError();
    heap_free( in );
    CloseHandle( device );
    return err;
}
