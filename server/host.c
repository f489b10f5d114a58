/*
 * What the server asks of the host: whether a port is bound, random tokens
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

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server.h"

/* whether new IPv6 sockets are IPv6-only unless told otherwise */
static int default_v6only( void )
{
    static int value = -1;
    char c;
    int fd;

    if (value != -1) return value;
    value = 0;
    if ((fd = open( "/proc/sys/net/ipv6/bindv6only", O_RDONLY | O_CLOEXEC )) != -1)
    {
        if (read( fd, &c, 1 ) == 1) value = c != '0';
        close( fd );
    }
    return value;
}

/* try a bind without SO_REUSEADDR: it fails while any socket holds the port.
 * An IPv6 socket that is not IPv6-only conflicts with the IPv4 sockets of
 * the port too.  1 in use, 0 free, -1 when the probe cannot tell. */
static int probe( int family, int type, unsigned short port, int v6only )
{
    struct sockaddr_in6 addr6;
    struct sockaddr_in addr4;
    int fd, ret;

    if ((fd = socket( family, type | SOCK_CLOEXEC, 0 )) == -1) return -1;
    if (family == AF_INET6)
    {
        if (v6only != default_v6only()) setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only) );
        memset( &addr6, 0, sizeof(addr6) );
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons( port );
        ret = bind( fd, (struct sockaddr *)&addr6, sizeof(addr6) );
    }
    else
    {
        memset( &addr4, 0, sizeof(addr4) );
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons( port );
        ret = bind( fd, (struct sockaddr *)&addr4, sizeof(addr4) );
    }
    ret = ret ? (errno == EADDRINUSE ? 1 : -1) : 0;
    close( fd );
    return ret;
}

/* One dual-stack probe covers both families; creating and closing a
 * socket is most of the cost of an acquire, so it is done once.  Without
 * IPv6, or where the dual-stack bind is refused for another reason, each
 * family is probed on its own. */
int host_port_in_use( void *ctx, int protocol, unsigned short port )
{
    int type = protocol == ENGINE_TCP ? SOCK_STREAM : SOCK_DGRAM;
    int ret = probe( AF_INET6, type, port, 0 );

    if (ret >= 0) return ret;
    return probe( AF_INET, type, port, 0 ) == 1 || probe( AF_INET6, type, port, 1 ) == 1;
}

/* Hold a port: a socket bound to it, without SO_REUSEADDR, so that every
 * other bind of the port on the host fails, whatever its options, and the
 * kernel gives it to no port-0 bind nor connect.  One dual-stack socket
 * holds both families; without IPv6, an IPv4 one holds what there is. */
int host_hold( void *ctx, int protocol, unsigned short port )
{
    int type = (protocol == ENGINE_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;
    struct sockaddr_in6 addr6;
    struct sockaddr_in addr4;
    int fd, off = 0;

    if ((fd = socket( AF_INET6, type, 0 )) != -1)
    {
        setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off) );
        memset( &addr6, 0, sizeof(addr6) );
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons( port );
        if (!bind( fd, (struct sockaddr *)&addr6, sizeof(addr6) )) return fd;
        close( fd );
        if (errno == EADDRINUSE) return ENGINE_HOLD_IN_USE;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) return ENGINE_HOLD_FAILED;
    if ((fd = socket( AF_INET, type, 0 )) == -1) return ENGINE_HOLD_FAILED;
    memset( &addr4, 0, sizeof(addr4) );
    addr4.sin_family = AF_INET;
    addr4.sin_port = htons( port );
    if (!bind( fd, (struct sockaddr *)&addr4, sizeof(addr4) )) return fd;
    close( fd );
    return errno == EADDRINUSE ? ENGINE_HOLD_IN_USE : ENGINE_HOLD_FAILED;
}

void host_unhold( void *ctx, int handle, int protocol, unsigned short port )
{
    close( handle );
}

/* the kernel's view of a hold: a socket of the protocol, bound to the port */
int host_hold_valid( void *ctx, int handle, int protocol, unsigned short port )
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int type, expected = protocol == ENGINE_TCP ? SOCK_STREAM : SOCK_DGRAM;
    socklen_t type_len = sizeof(type);

    if (getsockopt( handle, SOL_SOCKET, SO_TYPE, &type, &type_len ) || type != expected) return 0;
    if (getsockname( handle, (struct sockaddr *)&addr, &len )) return 0;
    if (addr.ss_family == AF_INET6) return ntohs( ((struct sockaddr_in6 *)&addr)->sin6_port ) == port;
    return addr.ss_family == AF_INET && ntohs( ((struct sockaddr_in *)&addr)->sin_port ) == port;
}

/* read size random bytes from the kernel; 0 on success.  The system call
 * itself: glibc 2.41 (Debian 13) serves getrandom() from a vDSO state of
 * its own, and a call here comes every 32 tokens, where its cost does not
 * matter; this way every token is bytes the kernel handed out, which the
 * security test checks by tracing the calls. */
static int kernel_random( void *buf, size_t size )
{
    char *ptr = buf;
    size_t done = 0;
    int fd;

    while (done < size)
    {
        ssize_t ret = syscall( SYS_getrandom, ptr + done, size - done, 0 );
        if (ret > 0) done += ret;
        else if (ret == -1 && errno != EINTR) break;
    }
    if (done == size) return 0;
    if ((fd = open( "/dev/urandom", O_RDONLY | O_CLOEXEC )) == -1) return -1;
    while (done < size)
    {
        ssize_t ret = read( fd, ptr + done, size - done );
        if (ret > 0) done += ret;
        else if (ret == 0 || errno != EINTR) break;
    }
    close( fd );
    return done == size ? 0 : -1;
}

/* Tokens come from the kernel's random source, 32 at a time: a getrandom
 * call costs as much as a tenth of a request's round trip.  The batch
 * never leaves the server's memory, so the tokens are as unguessable as
 * the kernel's random bytes; 0 when there are none. */
portres_token_t host_random_token( void *ctx )
{
    static portres_token_t batch[32];   /* 256 bytes: getrandom never returns less */
    static unsigned int left;
    portres_token_t token;

    if (!left)
    {
        if (kernel_random( batch, sizeof(batch) )) return 0;
        left = sizeof(batch) / sizeof(batch[0]);
    }
    token = batch[--left];
    batch[left] = 0;
    return token;
}

/* when a process started, in clock ticks since boot (/proc/PID/stat's 22nd
 * field): with the pid, it names the process whatever pid comes again; 0
 * when there is no such process */
unsigned long long host_process_start( unsigned int pid )
{
    unsigned long long start = 0;
    char path[64], buf[1024], *p;
    ssize_t len;
    int fd, field;

    snprintf( path, sizeof(path), "/proc/%u/stat", pid );
    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) == -1) return 0;
    len = read( fd, buf, sizeof(buf) - 1 );
    close( fd );
    if (len <= 0) return 0;
    buf[len] = 0;
    /* the name, in parentheses, may hold anything: the fields follow the last ')' */
    if (!(p = strrchr( buf, ')' ))) return 0;
    for (field = 2; *p && field < 22; p++) if (*p == ' ') field++;
    if (field == 22) start = strtoull( p, NULL, 10 );
    return start;
}

/* whether a client process lives: by its pidfd, which is readable once it
 * has exited, or where there is none (a kernel or a tool without
 * pidfd_open), by its pid and start time */
int host_process_alive( unsigned int pid, int pidfd, unsigned long long start )
{
    struct pollfd pfd = { pidfd, POLLIN, 0 };

    if (pidfd != -1) return poll( &pfd, 1, 0 ) == 0;
    return start && host_process_start( pid ) == start;
}

/* a Wine socket lives as long as the wineserver holds its kernel socket */
int host_socket_alive( void *ctx, portres_socket_t socket )
{
    return wineserver_socket_alive( socket );
}
