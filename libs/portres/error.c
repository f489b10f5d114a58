/*
 * The client library's errors: why the last call of this thread failed,
 * and the names of the server's statuses
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

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "portres/client.h"

static __thread char error_message[1024];

void portres_set_error( const char *format, ... )
{
    va_list args;
    int err = errno;  /* callers look at it after us */

    va_start( args, format );
    vsnprintf( error_message, sizeof(error_message), format, args );
    va_end( args );
    errno = err;
}

const char *portres_error_message( void )
{
    return error_message[0] ? error_message : "no error";
}

const char *portres_status_name( unsigned int status )
{
    switch (status)
    {
    case STATUS_SUCCESS:                return "success";
    case STATUS_NOT_IMPLEMENTED:        return "unknown request";
    case STATUS_INVALID_PARAMETER:      return "invalid parameter";
    case STATUS_NO_MEMORY:              return "out of memory";
    case STATUS_ACCESS_DENIED:          return "access denied";
    case STATUS_SHARING_VIOLATION:      return "a port of the range is reserved or in use";
    case STATUS_REVISION_MISMATCH:      return "protocol version mismatch";
    case STATUS_DISK_FULL:              return "the disk is full";
    case STATUS_ADDRESS_ALREADY_EXISTS: return "a port of the range is reserved or in use";
    case STATUS_CONNECTION_REFUSED:     return "cannot reach the reservation server";
    case STATUS_CONNECTION_RESET:       return "the connection to the reservation server broke";
    case STATUS_NOT_FOUND:              return "no such reservation";
    case STATUS_MEDIA_WRITE_PROTECTED:  return "the prefix is read-only";
    case STATUS_UNEXPECTED_IO_ERROR:    return "an I/O error";
    case STATUS_INTERNAL_ERROR:         return "the server's state is inconsistent";
    default:                            return "unknown error";
    }
}
