/*
 * The proxy ws2_32.dll: Wine's builtin ws2_32 with port reservations
 *
 * Every export of Wine's ws2_32 is here with its Windows ordinal; all but
 * the few below jump straight into Wine's builtin.  The proxy's own code
 * handles the reservation ioctls and the binds and closes of sockets that
 * take part in reservations, and passes everything else on unchanged.
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

#define WINSOCK_API_LINKAGE   /* we define these exports */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windef.h>
#include <winbase.h>

#include "ws2_32_private.h"
#include "portres/proxy.h"
#include "portres/pedebug.h"

struct ws2_32_funcs real;
LONG startup_count;

static BOOL init_proxy( HINSTANCE instance )
{
    HMODULE builtin = proxy_load_builtin( instance, L"ws2_32.dll" );

    if (!builtin) return FALSE;
    proxy_resolve( builtin );
#define GET(name) if (!(real.name = (void *)GetProcAddress( builtin, #name ))) return FALSE
    GET( WSAStartup );
    GET( WSACleanup );
    GET( WSAIoctl );
    GET( bind );
    GET( closesocket );
    GET( getsockopt );
    GET( getsockname );
    GET( setsockopt );
    GET( socket );
    GET( WSASocketA );
    GET( WSASocketW );
    GET( connect );
    GET( WSAConnect );
    GET( WSAConnectByNameA );
    GET( WSAConnectByNameW );
    GET( sendto );
    GET( WSASendTo );
    GET( WSASendMsg );
#undef GET
    proxy_forget_builtin();
    return TRUE;
}

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    if (reason == DLL_PROCESS_ATTACH)
    {
        DisableThreadLibraryCalls( instance );
        return init_proxy( instance );
    }
    return TRUE;
}

/***********************************************************************
 *      WSAStartup		(WS2_32.115)
 */
int WINAPI WSAStartup( WORD version, WSADATA *data )
{
    int ret = real.WSAStartup( version, data );
    if (!ret) InterlockedIncrement( &startup_count );
    return ret;
}

/***********************************************************************
 *      WSACleanup		(WS2_32.116)
 */
int WINAPI WSACleanup( void )
{
    int ret = real.WSACleanup();
    if (!ret) InterlockedDecrement( &startup_count );
    return ret;
}
