/*
 * The port reservation types of mstcpip.h, used as C and C++ code written
 * against the Windows SDK uses them.  Compiled, not run, by
 * tests/sdk_headers_test.sh: as C and as C++, against MinGW-w64's mstcpip.h and
 * against Wine's with wine/include/mstcpip-types.h inserted.  Every check is
 * a static assertion, so that the file compiles only where the header has
 * the SDK's names, types and layouts.
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
#include <mstcpip.h>
#include <stddef.h>

/* the header the script meant is the one found */
#if defined(EXPECT_WINE_HEADERS) && !defined(__WINE_MSTCPIP_H)
#error "not Wine's mstcpip.h"
#endif
#if defined(EXPECT_MINGW_HEADERS) && (defined(__WINE_MSTCPIP_H) || !defined(_MSTCPIP_))
#error "not MinGW-w64's mstcpip.h"
#endif

#ifdef __cplusplus

#define CHECK(e) static_assert(e, #e)

template <typename A, typename B> struct same_type { enum { value = 0 }; };
template <typename A> struct same_type<A, A> { enum { value = 1 }; };
#define SAME_TYPE(a, b) (same_type<a, b>::value)

/* whether T has a member called StartPort: the SDK's instance has it only in C */
template <typename T> static char probe_start_port(decltype(T::StartPort) *);
template <typename T> static long probe_start_port(...);
#define HAS_START_PORT(T) (sizeof(probe_start_port<T>(0)) == sizeof(char))

#else

#define CHECK(e) _Static_assert(e, #e)
#define SAME_TYPE(a, b) _Generic((a *)0, b *: 1, default: 0)

#endif

/* the range, and the reservation that is the same type */
CHECK( sizeof(INET_PORT_RANGE) == 4 );
CHECK( offsetof(INET_PORT_RANGE, StartPort) == 0 );
CHECK( offsetof(INET_PORT_RANGE, NumberOfPorts) == 2 );
CHECK( SAME_TYPE(struct _INET_PORT_RANGE, INET_PORT_RANGE) );
CHECK( SAME_TYPE(INET_PORT_RESERVATION, INET_PORT_RANGE) );
CHECK( SAME_TYPE(PINET_PORT_RANGE, INET_PORT_RANGE *) );
CHECK( SAME_TYPE(PINET_PORT_RESERVATION, INET_PORT_RANGE *) );
CHECK( sizeof(INET_PORT_RESERVATION) == 4 );

/* the token */
CHECK( sizeof(INET_PORT_RESERVATION_TOKEN) == 8 );
CHECK( offsetof(INET_PORT_RESERVATION_TOKEN, Token) == 0 );
CHECK( SAME_TYPE(PINET_PORT_RESERVATION_TOKEN, INET_PORT_RESERVATION_TOKEN *) );
CHECK( sizeof(INVALID_PORT_RESERVATION_TOKEN) == 8 );
CHECK( INVALID_PORT_RESERVATION_TOKEN == 0 );

/* the instance: 16 bytes, the token at offset 8 */
CHECK( sizeof(INET_PORT_RESERVATION_INSTANCE) == 16 );
CHECK( offsetof(INET_PORT_RESERVATION_INSTANCE, Token) == 8 );
CHECK( SAME_TYPE(PINET_PORT_RESERVATION_INSTANCE, INET_PORT_RESERVATION_INSTANCE *) );
#ifdef __cplusplus
CHECK( offsetof(INET_PORT_RESERVATION_INSTANCE, Reservation) == 0 );
CHECK( SAME_TYPE(decltype(INET_PORT_RESERVATION_INSTANCE::Reservation), INET_PORT_RESERVATION) );
CHECK( SAME_TYPE(decltype(INET_PORT_RESERVATION_INSTANCE::Token), INET_PORT_RESERVATION_TOKEN) );
CHECK( HAS_START_PORT(INET_PORT_RANGE) );
CHECK( !HAS_START_PORT(INET_PORT_RESERVATION_INSTANCE) );
#else
CHECK( offsetof(INET_PORT_RESERVATION_INSTANCE, StartPort) == 0 );
CHECK( offsetof(INET_PORT_RESERVATION_INSTANCE, NumberOfPorts) == 2 );
#endif

/* the information */
CHECK( sizeof(INET_PORT_RESERVATION_INFORMATION) == 4 );
CHECK( offsetof(INET_PORT_RESERVATION_INFORMATION, OwningPid) == 0 );
CHECK( SAME_TYPE(PINET_PORT_RESERVATION_INFORMATION, INET_PORT_RESERVATION_INFORMATION *) );

/* code as programs write it: ask for a range, keep the token of the answer */
#ifdef __cplusplus
extern "C" {
#endif
ULONG64 mstcpip_use_types( PINET_PORT_RESERVATION_INSTANCE inst, PINET_PORT_RESERVATION_INFORMATION info,
                           PINET_PORT_RANGE range );
#ifdef __cplusplus
}
#endif

ULONG64 mstcpip_use_types( PINET_PORT_RESERVATION_INSTANCE inst, PINET_PORT_RESERVATION_INFORMATION info,
                           PINET_PORT_RANGE range )
{
    INET_PORT_RESERVATION_TOKEN token;
    PINET_PORT_RESERVATION_TOKEN ptoken = &token;
    PINET_PORT_RESERVATION reservation = range;
    ULONG pid;

    reservation->StartPort = htons( 50000 );
    reservation->NumberOfPorts = 10;
#ifdef __cplusplus
    /* the scalar types: pointers, which convert only between the same types
     * (a template argument would drop Wine's DECLSPEC_ALIGN of ULONG64) */
    USHORT *start = &inst->Reservation.StartPort, *count = &inst->Reservation.NumberOfPorts;
    ULONG64 *value = &inst->Token.Token;
    ULONG *owner = &info->OwningPid;

    if (!start || !count || !value || !owner) return INVALID_PORT_RESERVATION_TOKEN;
    if (ntohs( inst->Reservation.StartPort ) != 50000 || inst->Reservation.NumberOfPorts != 10)
        return INVALID_PORT_RESERVATION_TOKEN;
    *reservation = inst->Reservation;
    ptoken->Token = inst->Token.Token;
    token = inst->Token;
#else
    CHECK( _Generic(inst->StartPort, USHORT: 1, default: 0) );
    CHECK( _Generic(inst->NumberOfPorts, USHORT: 1, default: 0) );
    CHECK( _Generic(inst->Token, ULONG64: 1, default: 0) );
    CHECK( _Generic(info->OwningPid, ULONG: 1, default: 0) );
    if (ntohs( inst->StartPort ) != 50000 || inst->NumberOfPorts != 10)
        return INVALID_PORT_RESERVATION_TOKEN;
    reservation->StartPort = inst->StartPort;
    reservation->NumberOfPorts = inst->NumberOfPorts;
    ptoken->Token = inst->Token;
#endif
    pid = info->OwningPid;
    return pid ? token.Token : INVALID_PORT_RESERVATION_TOKEN;
}
