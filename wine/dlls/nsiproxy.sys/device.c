/*
 * Pieces of dlls/nsiproxy.sys: setting parameters, and the port reservation tables
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

/*@ private @*/
struct nsi_set_all_parameters_params
{
    const NPI_MODULEID *module;
    UINT table;
    UINT action;
    const void *key;
    UINT key_size;
    const void *rw_data;
    UINT rw_size;
};

/*@ table-member @*/
    NTSTATUS (*set_all_parameters)( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                    UINT action );
/*@ unix-decls @*/
NTSTATUS port_reservation_tcp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size );
NTSTATUS port_reservation_tcp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action );
NTSTATUS port_reservation_udp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size );
NTSTATUS port_reservation_udp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action );

/*@ unix-decls 8.0 @*/
NTSTATUS port_reservation_tcp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size ) DECLSPEC_HIDDEN;
NTSTATUS port_reservation_tcp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action ) DECLSPEC_HIDDEN;
NTSTATUS port_reservation_udp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size ) DECLSPEC_HIDDEN;
NTSTATUS port_reservation_udp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action ) DECLSPEC_HIDDEN;

/*@ unix-set @*/

static NTSTATUS unix_nsi_set_all_parameters( void *args )
{
    struct nsi_set_all_parameters_params *params = (struct nsi_set_all_parameters_params *)args;
    const struct module_table *entry = get_module_table( params->module, params->table );

    if (!entry || !entry->set_all_parameters)
    {
        WARN( "table not found\n" );
        return STATUS_INVALID_PARAMETER;
    }
    if (params->key_size != entry->sizes[0] || params->rw_size != entry->sizes[1]) return STATUS_INVALID_PARAMETER;
    return entry->set_all_parameters( params->key, params->key_size, params->rw_data, params->rw_size,
                                      params->action );
}
/*@ unix-include @*/
#include "unix_private.h"
/*@ unix-include 8.0 @*/
#include "unix_private.h"
#include "nsiproxy_private.h"
/*@ unix-entry @*/
    unix_nsi_set_all_parameters,
/*@ enum-entry @*/
    nsi_set_all_parameters,
/*@ tcp-table @*/
    },
    {
        NSI_TCP_PORT_RESERVATION_TABLE,
        {
            sizeof(struct nsi_port_reservation_key), 0,
            sizeof(struct nsi_port_reservation_dynamic), 0
        },
        NULL,
        port_reservation_tcp_get_all_parameters,
        NULL,
        port_reservation_tcp_set_all_parameters,
/*@ udp-table @*/
    },
    {
        NSI_UDP_PORT_RESERVATION_TABLE,
        {
            sizeof(struct nsi_port_reservation_key), 0,
            sizeof(struct nsi_port_reservation_dynamic), 0
        },
        NULL,
        port_reservation_udp_get_all_parameters,
        NULL,
        port_reservation_udp_set_all_parameters,
/*@ ioctl-set @*/

static NTSTATUS nsiproxy_set_all_parameters( IRP *irp )
{
    IO_STACK_LOCATION *irpsp = IoGetCurrentIrpStackLocation( irp );
    struct nsiproxy_set_all_parameters *in = (struct nsiproxy_set_all_parameters *)irp->AssociatedIrp.SystemBuffer;
    DWORD in_len = irpsp->Parameters.DeviceIoControl.InputBufferLength;
    struct nsi_set_all_parameters_params params;
    NTSTATUS status;

    if (in_len < offsetof(struct nsiproxy_set_all_parameters, data[0]) ||
        in_len < offsetof(struct nsiproxy_set_all_parameters, data[in->key_size + in->rw_size]))
        return STATUS_INVALID_PARAMETER;

    params.module = &in->module;
    params.table = in->table;
    params.action = in->action;
    params.key = in->data;
    params.key_size = in->key_size;
    params.rw_data = in->data + in->key_size;
    params.rw_size = in->rw_size;

    status = nsiproxy_call( nsi_set_all_parameters, &params );
    irp->IoStatus.Information = 0;
    return status;
}
/*@ ioctl-case @*/
    case IOCTL_NSIPROXY_WINE_SET_ALL_PARAMETERS:
        status = nsiproxy_set_all_parameters( irp );
        break;

/*@ store @*/

/* The changes made in the persistent store are kept in the registry, as on
 * Windows: a key per table, under the key of its module, with a value per
 * key of the table, named by the key's bytes in hexadecimal, whose data are
 * the table's read-write parameters.  The driver makes them again as it
 * starts. */
#define MAX_STORE_KEY_SIZE 64
#define MAX_STORE_RW_SIZE  256

static void store_value_name( const BYTE *key, UINT key_size, WCHAR *name )
{
    UINT i;

    for (i = 0; i < key_size; i++) swprintf( name + 2 * i, 3, L"%02x", key[i] );
    name[2 * i] = 0;
}

static void update_store( const struct nsiproxy_set_all_parameters *in )
{
    const GUID *guid = &in->module.Guid;
    WCHAR path[96], name[2 * MAX_STORE_KEY_SIZE + 1];
    HKEY key;

    if (in->module.Type != MIT_GUID || in->key_size > MAX_STORE_KEY_SIZE) return;
    swprintf( path, ARRAY_SIZE(path),
              L"System\\CurrentControlSet\\Control\\Nsi\\{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}\\%u",
              guid->Data1, guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
              guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7], in->table );
    if (RegCreateKeyExW( HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_SET_VALUE, NULL, &key, NULL )) return;
    store_value_name( in->data, in->key_size, name );
    if (in->action == NSI_SET_DELETE) RegDeleteValueW( key, name );
    else RegSetValueExW( key, name, 0, REG_BINARY, in->data + in->key_size, in->rw_size );
    RegCloseKey( key );
}

/* the keys of a table's key in the registry made again */
static void restore_table( const NPI_MODULEID *module, UINT table, HKEY key )
{
    WCHAR name[2 * MAX_STORE_KEY_SIZE + 1];
    struct nsi_set_all_parameters_params params;
    BYTE data[MAX_STORE_KEY_SIZE], rw[MAX_STORE_RW_SIZE];
    DWORD i, j, name_len, rw_size, type;

    params.module = module;
    params.table = table;
    params.action = NSI_SET_CREATE_ONLY;
    params.key = data;
    params.rw_data = rw;
    for (i = 0; name_len = ARRAY_SIZE(name), rw_size = sizeof(rw),
                !RegEnumValueW( key, i, name, &name_len, NULL, &type, rw, &rw_size ); i++)
    {
        if (type != REG_BINARY || name_len % 2) continue;
        for (j = 0; j < name_len / 2; j++)
        {
            WCHAR byte[3] = { name[2 * j], name[2 * j + 1], 0 };
            data[j] = wcstoul( byte, NULL, 16 );
        }
        params.key_size = name_len / 2;
        params.rw_size = rw_size;
        if (nsiproxy_call( nsi_set_all_parameters, &params ))
            WARN( "could not restore %s in table %u\n", debugstr_w( name ), table );
    }
}

static void restore_store(void)
{
    WCHAR module_name[40], table_name[12];
    NPI_MODULEID module = { sizeof(module), MIT_GUID };
    HKEY nsi, module_key, table_key;
    UNICODE_STRING str;
    DWORD i, j, len;

    if (RegOpenKeyExW( HKEY_LOCAL_MACHINE, L"System\\CurrentControlSet\\Control\\Nsi", 0, KEY_READ, &nsi )) return;
    for (i = 0; len = ARRAY_SIZE(module_name), !RegEnumKeyExW( nsi, i, module_name, &len, NULL, NULL, NULL, NULL ); i++)
    {
        RtlInitUnicodeString( &str, module_name );
        if (RtlGUIDFromString( &str, &module.Guid ) || RegOpenKeyExW( nsi, module_name, 0, KEY_READ, &module_key ))
            continue;
        for (j = 0; len = ARRAY_SIZE(table_name), !RegEnumKeyExW( module_key, j, table_name, &len, NULL, NULL, NULL, NULL ); j++)
        {
            if (RegOpenKeyExW( module_key, table_name, 0, KEY_READ, &table_key )) continue;
            restore_table( &module, wcstoul( table_name, NULL, 10 ), table_key );
            RegCloseKey( table_key );
        }
        RegCloseKey( module_key );
    }
    RegCloseKey( nsi );
}
/*@ store-include @*/
#include <stdarg.h>
#include <stdlib.h>
/*@ store-winreg @*/
#include "winioctl.h"
#include "winreg.h"
/*@ store-call @*/
    status = nsiproxy_call( nsi_set_all_parameters, &params );
    if (!status && in->first_arg == NSI_STORE_PERSISTENT) update_store( in );
/*@ restore-call @*/
    restore_store();
