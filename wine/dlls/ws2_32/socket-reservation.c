/*
 * Fragment of dlls/ws2_32/socket.c: the port reservation ioctls, before WSAIoctl
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

C_ASSERT( SIO_ACQUIRE_PORT_RESERVATION == IOCTL_ACQUIRE_PORT_RESERVATION );
C_ASSERT( SIO_RELEASE_PORT_RESERVATION == IOCTL_RELEASE_PORT_RESERVATION );
C_ASSERT( SIO_ASSOCIATE_PORT_RESERVATION == IOCTL_ASSOCIATE_PORT_RESERVATION );
C_ASSERT( WSAEFAULT == IOCTL_WSAEFAULT );
C_ASSERT( WSAEINVAL == IOCTL_WSAEINVAL );
C_ASSERT( sizeof(INET_PORT_RANGE) == IOCTL_RANGE_SIZE );
C_ASSERT( sizeof(INET_PORT_RESERVATION_TOKEN) == IOCTL_TOKEN_SIZE );
C_ASSERT( sizeof(INET_PORT_RESERVATION_INSTANCE) == IOCTL_INSTANCE_SIZE );

static BOOL is_port_reservation_ioctl( DWORD code )
{
    return code == SIO_ACQUIRE_PORT_RESERVATION || code == SIO_RELEASE_PORT_RESERVATION
           || code == SIO_ASSOCIATE_PORT_RESERVATION;
}

/* The socket and the buffers are checked here, in the order Windows checks
 * them, before ret_size is required; the server keeps the reservations. */
static int port_reservation_ioctl( SOCKET s, DWORD code, void *in_buff, DWORD in_size, void *out_buff,
                                   DWORD out_size, DWORD *ret_size, WSAOVERLAPPED *overlapped,
                                   LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    struct afd_port_reservation_params params;
    struct afd_get_info_params info;
    struct ioctl_request req;
    struct ioctl_args args;
    IO_STATUS_BLOCK io;
    DWORD afd_code, size = 0, ret;
    int clear_ret_size;

    if (!num_startup)
    {
        SetLastError( WSANOTINITIALISED );
        return -1;
    }
    if (NtDeviceIoControlFile( (HANDLE)s, NULL, NULL, NULL, &io, IOCTL_AFD_WINE_GET_INFO, NULL, 0,
                               &info, sizeof(info) ))
    {
        SetLastError( WSAENOTSOCK );
        return -1;
    }
    if ((info.family != AF_INET && info.family != AF_INET6) ||
        (info.type != SOCK_STREAM && info.type != SOCK_DGRAM))
    {
        SetLastError( WSAEOPNOTSUPP );
        return -1;
    }

    args.code           = code;
    args.in             = in_buff;
    args.in_size        = in_size;
    args.out            = out_buff;
    args.out_size       = out_size;
    args.has_ret_size   = ret_size != NULL;
    args.has_overlapped = overlapped != NULL;
    if ((ret = ioctl_args_check( &args, &clear_ret_size )))
    {
        if (clear_ret_size && ret_size) *ret_size = 0;
        SetLastError( ret );
        return -1;
    }
    ioctl_args_read( &args, &req );

    memset( &params, 0, sizeof(params) );
    params.start = req.start;
    params.count = req.count;
    params.token = req.token;
    if (code == SIO_ACQUIRE_PORT_RESERVATION) afd_code = IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION;
    else if (code == SIO_RELEASE_PORT_RESERVATION) afd_code = IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION;
    else afd_code = IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION;

    ret = server_ioctl_sock( s, afd_code, &params, sizeof(params), &params,
                             code == SIO_ACQUIRE_PORT_RESERVATION ? sizeof(params) : 0,
                             &size, overlapped, completion );
    if (!ret)
    {
        size = 0;
        if (code == SIO_ACQUIRE_PORT_RESERVATION)
            size = ioctl_args_write_instance( &args, params.start, params.count, params.token );
        if (ret_size) *ret_size = size;
        if (overlapped) overlapped->InternalHigh = size;
    }
    SetLastError( ret );
    return ret ? -1 : 0;
}

