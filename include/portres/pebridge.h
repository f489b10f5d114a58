/*
 * The proxies' way to the bridge
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

#ifndef __PORTRES_PEBRIDGE_H
#define __PORTRES_PEBRIDGE_H

/* make a bridge call (enum bridge_call; winternl.h declares NTSTATUS); returns an NTSTATUS */
extern NTSTATUS bridge_call( unsigned int code, void *params );

/* A request of the protocol, filled in place:
 *     struct bridge_request_params call;
 *     struct acquire_request *req = BRIDGE_REQUEST( &call, acquire );
 *     req->protocol = ...;
 *     status = bridge_call( bridge_request, &call );
 * and the reply is in call.reply.acquire_reply. */
#define BRIDGE_REQUEST(call, name) \
    (memset( (call), 0, sizeof(*(call)) ), (call)->req.request_header.req = REQ_##name, \
     &(call)->req.name##_request)
/* whether the process's token is elevated, as Windows asks for persistent reservations */
extern BOOL bridge_process_elevated( void );
/* the Win32 error of a bridge call's NTSTATUS, as iphlpapi reports them */
extern ULONG bridge_status_to_error( NTSTATUS status );

#endif /* __PORTRES_PEBRIDGE_H */
