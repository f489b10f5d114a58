/*
 * Fragment of include/wine/afd.h: the port reservation ioctls, numbered after the last one by the generator
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

#define IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION         WINE_AFD_IOC(@NEXT1@)
#define IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION         WINE_AFD_IOC(@NEXT2@)
#define IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION       WINE_AFD_IOC(@NEXT3@)
#define IOCTL_AFD_WINE_CREATE_PERSISTENT_PORT_RESERVATION WINE_AFD_IOC(@NEXT4@)
#define IOCTL_AFD_WINE_DELETE_PERSISTENT_PORT_RESERVATION WINE_AFD_IOC(@NEXT5@)
#define IOCTL_AFD_WINE_LOOKUP_PERSISTENT_PORT_RESERVATION WINE_AFD_IOC(@NEXT6@)

struct afd_port_reservation_params
{
    unsigned short start;   /* acquire, persistent: first port in host order, 0 for any (acquire) */
    unsigned short count;   /* acquire, persistent: number of ports */
    unsigned int __pad;
    ULONGLONG token;        /* release, associate; the reply of acquire, create and lookup */
};
