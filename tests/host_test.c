/*
 * Tests of what the server asks of the host: the port-in-use probe sees
 * every kind of socket bound to a port, IPv4 and IPv6, as Wine makes them
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
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"
#include "../server/engine.h"
#include "../server/server.h"

struct holder
{
    const char *name;
    int family;
    int v6only;        /* for AF_INET6 */
    int loopback;      /* bound to the loopback address, else to the wildcard */
    int reuse;         /* SO_REUSEADDR, as Wine sets it on its Unix sockets */
    int listening;     /* TCP only */
};

static const struct holder holders[] =
{
    { "IPv4 wildcard",                      AF_INET,  0, 0, 0, 0 },
    { "IPv4 loopback",                      AF_INET,  0, 1, 0, 0 },
    { "IPv4 loopback, SO_REUSEADDR",        AF_INET,  0, 1, 1, 0 },
    { "IPv4 wildcard, SO_REUSEADDR, listen", AF_INET, 0, 0, 1, 1 },
    { "IPv6-only wildcard",                 AF_INET6, 1, 0, 0, 0 },
    { "IPv6-only loopback",                 AF_INET6, 1, 1, 0, 0 },
    { "IPv6-only loopback, SO_REUSEADDR",   AF_INET6, 1, 1, 1, 0 },
    { "dual-stack wildcard",                AF_INET6, 0, 0, 0, 0 },
    { "dual-stack wildcard, listen",        AF_INET6, 0, 0, 1, 1 },
};

static const char *protocol_name( unsigned int protocol )
{
    return protocol == ENGINE_TCP ? "tcp" : "udp";
}

static socklen_t make_address( int family, int loopback, unsigned short port, struct sockaddr_storage *storage )
{
    memset( storage, 0, sizeof(*storage) );
    if (family == AF_INET)
    {
        struct sockaddr_in *addr = (struct sockaddr_in *)storage;
        addr->sin_family = AF_INET;
        addr->sin_port = htons( port );
        addr->sin_addr.s_addr = htonl( loopback ? INADDR_LOOPBACK : INADDR_ANY );
        return sizeof(*addr);
    }
    else
    {
        struct sockaddr_in6 *addr = (struct sockaddr_in6 *)storage;
        addr->sin6_family = AF_INET6;
        addr->sin6_port = htons( port );
        addr->sin6_addr = loopback ? in6addr_loopback : in6addr_any;
        return sizeof(*addr);
    }
}

/* a socket as the holder describes, bound to port (0: any); -1 when the
 * host cannot make it (no IPv6) */
static int hold( const struct holder *holder, int type, unsigned short *port )
{
    struct sockaddr_storage storage;
    socklen_t len = make_address( holder->family, holder->loopback, *port, &storage );
    int fd, one = 1;

    if ((fd = socket( holder->family, type | SOCK_CLOEXEC, 0 )) == -1) return -1;
    if (holder->family == AF_INET6)
        setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &holder->v6only, sizeof(holder->v6only) );
    if (holder->reuse) setsockopt( fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one) );
    if (bind( fd, (struct sockaddr *)&storage, len ) == -1 ||
        (holder->listening && type == SOCK_STREAM && listen( fd, 1 ) == -1))
    {
        close( fd );
        return -1;
    }
    len = sizeof(storage);
    getsockname( fd, (struct sockaddr *)&storage, &len );
    *port = ntohs( holder->family == AF_INET ? ((struct sockaddr_in *)&storage)->sin_port
                                             : ((struct sockaddr_in6 *)&storage)->sin6_port );
    return fd;
}

TEST(test_in_use)
{
    unsigned int i, protocol, tried = 0;

    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
    {
        int type = protocol == ENGINE_TCP ? SOCK_STREAM : SOCK_DGRAM;

        for (i = 0; i < sizeof(holders) / sizeof(holders[0]); i++)
        {
            const struct holder *holder = &holders[i];
            unsigned short port = 0;
            int fd = hold( holder, type, &port );

            if (fd == -1)
            {
                test_skip( "%s %s: the host cannot make this socket", protocol_name( protocol ),
                           holder->name );
                continue;
            }
            tried++;
            check( host_port_in_use( NULL, protocol, port ) == 1, "%s %s on port %u: not seen",
                   protocol_name( protocol ), holder->name, port );
            check( !host_port_in_use( NULL, !protocol, port ),
                   "%s %s on port %u: seen by the other protocol", protocol_name( protocol ),
                   holder->name, port );
            close( fd );
            /* a socket that never connected leaves nothing behind */
            check( !host_port_in_use( NULL, protocol, port ), "%s %s: port %u still in use after close",
                   protocol_name( protocol ), holder->name, port );
        }
    }
    check( tried >= 2 * 4, "only %u kinds of sockets could be made", tried );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_in_use);
    return test_summary();
}
