/*
 * nsiproxy.sys port reservation tables
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

#if 0
#pragma makedep unix
#endif

#include "config.h"
#include <stdarg.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#define USE_WS_PREFIX
#include "winsock2.h"
#include "ifdef.h"
#include "netiodef.h"
#include "wine/nsi.h"
#include "wine/server.h"

#include "unix_private.h"

static NTSTATUS port_reservation_get_all_parameters( int protocol, const struct nsi_port_reservation_key *key,
                                                     struct nsi_port_reservation_dynamic *dynamic )
{
    NTSTATUS status;

    SERVER_START_REQ( lookup_port_reservation )
    {
        req->protocol = protocol;
        req->start = ntohs( key->port );
        req->count = key->count;
        if (!(status = wine_server_call( req )) && dynamic) dynamic->token = reply->token;
    }
    SERVER_END_REQ;
    return status;
}

static NTSTATUS port_reservation_set_all_parameters( int protocol, const struct nsi_port_reservation_key *key,
                                                     UINT action )
{
    NTSTATUS status;

    switch (action)
    {
    case NSI_SET_CREATE_ONLY:
        SERVER_START_REQ( create_port_reservation )
        {
            req->protocol = protocol;
            req->start = ntohs( key->port );
            req->count = key->count;
            status = wine_server_call( req );
        }
        SERVER_END_REQ;
        return status;

    case NSI_SET_DELETE:
        SERVER_START_REQ( delete_port_reservation )
        {
            req->protocol = protocol;
            req->start = ntohs( key->port );
            req->count = key->count;
            status = wine_server_call( req );
        }
        SERVER_END_REQ;
        return status;
    }
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS port_reservation_tcp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size )
{
    return port_reservation_get_all_parameters( IPPROTO_TCP, key, dynamic_data );
}

NTSTATUS port_reservation_tcp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action )
{
    return port_reservation_set_all_parameters( IPPROTO_TCP, key, action );
}

NTSTATUS port_reservation_udp_get_all_parameters( const void *key, UINT key_size, void *rw_data, UINT rw_size,
                                                  void *dynamic_data, UINT dynamic_size,
                                                  void *static_data, UINT static_size )
{
    return port_reservation_get_all_parameters( IPPROTO_UDP, key, dynamic_data );
}

NTSTATUS port_reservation_udp_set_all_parameters( const void *key, UINT key_size, const void *rw_data, UINT rw_size,
                                                  UINT action )
{
    return port_reservation_set_all_parameters( IPPROTO_UDP, key, action );
}
