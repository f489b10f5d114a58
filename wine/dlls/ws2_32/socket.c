/*
 * Pieces of dlls/ws2_32/socket.c: the port reservation ioctls
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

/*@ name-acquire @*/
        IOCTL_NAME(SIO_ACQUIRE_PORT_RESERVATION);
/*@ name-release @*/
        IOCTL_NAME(SIO_RELEASE_PORT_RESERVATION);
/*@ acquire @*/
    case SIO_ACQUIRE_PORT_RESERVATION:
    {
        DWORD ret;

        if (out_size < sizeof(INET_PORT_RESERVATION_INSTANCE))
        {
            *ret_size = 0;
            SetLastError( WSAEINVAL );
            return -1;
        }
        if (in_size < sizeof(INET_PORT_RANGE))
        {
            SetLastError( WSAEINVAL );
            return -1;
        }
        if (!in_buff || !out_buff)
        {
            SetLastError( WSAEFAULT );
            return -1;
        }
        ret = server_ioctl_sock( s, IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION, in_buff, sizeof(INET_PORT_RANGE),
                                 out_buff, sizeof(INET_PORT_RESERVATION_INSTANCE), ret_size, overlapped, completion );
        SetLastError( ret );
        return ret ? -1 : 0;
    }

    case SIO_RELEASE_PORT_RESERVATION:
    {
        DWORD ret;

        if (in_size < sizeof(INET_PORT_RESERVATION_TOKEN))
        {
            SetLastError( WSAEINVAL );
            return -1;
        }
        if (!in_buff)
        {
            SetLastError( WSAEFAULT );
            return -1;
        }
        ret = server_ioctl_sock( s, IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION, in_buff,
                                 sizeof(INET_PORT_RESERVATION_TOKEN), NULL, 0, ret_size, overlapped, completion );
        SetLastError( ret );
        return ret ? -1 : 0;
    }

/*@ associate-label @*/
    case SIO_ASSOCIATE_PORT_RESERVATION:
/*@ associate-code @*/
        ret = server_ioctl_sock( s, code == SIO_RELEASE_PORT_RESERVATION ? IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION
                                 : IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION, in_buff,
