/*
 * The persistent port reservation functions of iphlpapi.h, used as code
 * written against the Windows SDK uses them.  Compiled, not run, by
 * tests/sdk_headers_test.sh: as C and as C++, against MinGW-w64's
 * iphlpapi.h and against Wine's with the declarations of wine/series'
 * patch 10 inserted.  Each function is assigned to a pointer of the SDK's
 * type, so that the file compiles only where the header declares it so.
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

#include <winsock2.h>
#include <iphlpapi.h>

typedef ULONG (WINAPI *create_func)( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token );
typedef ULONG (WINAPI *delete_func)( USHORT StartPort, USHORT NumberOfPorts );
typedef ULONG (WINAPI *lookup_func)( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token );

create_func create_funcs[] = { CreatePersistentTcpPortReservation, CreatePersistentUdpPortReservation };
delete_func delete_funcs[] = { DeletePersistentTcpPortReservation, DeletePersistentUdpPortReservation };
lookup_func lookup_funcs[] = { LookupPersistentTcpPortReservation, LookupPersistentUdpPortReservation };
