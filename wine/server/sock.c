/*
 * Pieces of server/sock.c: the port reservations of sockets
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

/*@ include @*/
#include "mstcpip.h"
/*@ fields @*/
    struct list         reservations; /* port reservations acquired on this socket */
/*@ init @*/
    list_init( &sock->reservations );
/*@ types @*/

/* A block of ports reserved with SIO_ACQUIRE_PORT_RESERVATION.  It lives as
 * long as the socket that acquired it; only the process that acquired it
 * may release it or bind in it. */
struct port_reservation
{
    struct list         entry;       /* entry in the list of its protocol, ordered by port */
    struct list         sock_entry;  /* entry in the list of the acquiring socket */
    struct process     *process;     /* process that acquired it */
    ULONGLONG           token;       /* token of the reservation, never 0 */
    unsigned short      start;       /* first port */
    unsigned short      count;       /* number of ports */
};

/* the reservations of TCP and of UDP; IPv4 and IPv6 share them */
static struct list port_reservations[2] = { LIST_INIT( port_reservations[0] ), LIST_INIT( port_reservations[1] ) };
static ULONGLONG last_reservation_token;

static void free_port_reservation( struct port_reservation *reservation )
{
    list_remove( &reservation->entry );
    list_remove( &reservation->sock_entry );
    release_object( reservation->process );
    free( reservation );
}
/*@ destroy @*/
    LIST_FOR_EACH_ENTRY_SAFE( reservation, next_reservation, &sock->reservations, struct port_reservation, sock_entry )
        free_port_reservation( reservation );

/*@ destroy-locals @*/
    struct port_reservation *reservation, *next_reservation;
/*@ acquire @*/
/* the reservations of the socket's protocol, or NULL when it has none */
static struct list *get_port_reservations( struct sock *sock )
{
    if (sock->family != WS_AF_INET && sock->family != WS_AF_INET6) return NULL;
    if (sock->type == WS_SOCK_STREAM) return &port_reservations[0];
    if (sock->type == WS_SOCK_DGRAM) return &port_reservations[1];
    return NULL;
}

static struct port_reservation *find_port_reservation( struct list *reservations, ULONGLONG token )
{
    struct port_reservation *reservation;

    LIST_FOR_EACH_ENTRY( reservation, reservations, struct port_reservation, entry )
        if (reservation->token == token) return reservation;
    return NULL;
}

/* whether a socket of the host of the type is bound to the port, in either address family */
static int is_port_in_use( int type, unsigned int port )
{
    union unix_sockaddr addr;
    socklen_t len;
    int fd, ret, zero = 0;

    memset( &addr, 0, sizeof(addr) );
    if ((fd = socket( AF_INET6, get_unix_type( type ), 0 )) != -1)
    {
#ifdef IPV6_V6ONLY
        setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero) );
#endif
        addr.in6.sin6_family = AF_INET6;
        addr.in6.sin6_port = htons( port );
        len = sizeof(addr.in6);
    }
    else if ((fd = socket( AF_INET, get_unix_type( type ), 0 )) != -1)
    {
        addr.in.sin_family = AF_INET;
        addr.in.sin_port = htons( port );
        len = sizeof(addr.in);
    }
    else return 0;

    ret = bind( fd, &addr.addr, len ) < 0 && errno == EADDRINUSE;
    close( fd );
    return ret;
}

/* The first port of a free block of count ports starting between start and
 * last, or 0: a block is free when it overlaps no reservation and no port
 * of it is bound on the host.  The reservations are walked once. */
static unsigned int find_free_ports( int type, struct list *reservations,
                                     unsigned int start, unsigned int count, unsigned int last )
{
    struct port_reservation *reservation = NULL;
    struct list *ptr = list_head( reservations );
    unsigned int port;

    while (start <= last)
    {
        for (; ptr; ptr = list_next( reservations, ptr ))
        {
            reservation = LIST_ENTRY( ptr, struct port_reservation, entry );
            if (reservation->start + reservation->count > start) break;
        }
        if (ptr && reservation->start < start + count)
        {
            start = reservation->start + reservation->count;
            continue;
        }
        for (port = start + count - 1; port >= start; port--)
            if (is_port_in_use( type, port )) break;
        if (port < start) return start;
        start = port + 1;
    }
    return 0;
}

/* a new reservation of the ports, in the list of its protocol, of no process yet */
static struct port_reservation *add_port_reservation( struct list *reservations, ULONGLONG token,
                                                      unsigned int start, unsigned int count )
{
    struct port_reservation *reservation;
    struct list *ptr;

    if (!(reservation = mem_alloc( sizeof(*reservation) ))) return NULL;
    reservation->process = NULL;
    reservation->token = token;
    reservation->start = start;
    reservation->count = count;
    list_init( &reservation->sock_entry );
    LIST_FOR_EACH( ptr, reservations )
        if (LIST_ENTRY( ptr, struct port_reservation, entry )->start > start) break;
    list_add_before( ptr, &reservation->entry );
    return reservation;
}

static void acquire_port_reservation( struct sock *sock )
{
    const INET_PORT_RANGE *range = get_req_data();
    struct list *reservations = get_port_reservations( sock );
    struct port_reservation *reservation;
    unsigned int start, count;
    struct
    {
        INET_PORT_RANGE range;
        INET_PORT_RESERVATION_TOKEN token;
    } reply;

    if (!reservations)
    {
        set_error( STATUS_NOT_IMPLEMENTED );
        return;
    }
    if (get_req_data_size() < sizeof(*range) || get_reply_max_size() < sizeof(reply))
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    start = ntohs( range->StartPort );
    count = range->NumberOfPorts;
    if (!count || start + count > 65536)
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }

    /* without a start, a block of the dynamic port range */
    if (start) start = find_free_ports( sock->type, reservations, start, count, start );
    else if (count <= 16384) start = find_free_ports( sock->type, reservations, 49152, count, 65536 - count );
    if (!start)
    {
        set_error( STATUS_ADDRESS_ALREADY_EXISTS );
        return;
    }

    if (!(reservation = add_port_reservation( reservations, ++last_reservation_token, start, count ))) return;
    reservation->process = (struct process *)grab_object( current->process );
    list_add_tail( &sock->reservations, &reservation->sock_entry );

    reply.range.StartPort = htons( start );
    reply.range.NumberOfPorts = count;
    reply.token.Token = reservation->token;
    set_reply_data( &reply, sizeof(reply) );
}

static void release_port_reservation( struct sock *sock )
{
    const INET_PORT_RESERVATION_TOKEN *token = get_req_data();
    struct port_reservation *reservation = NULL;
    unsigned int i;

    if (get_req_data_size() < sizeof(*token))
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    /* any socket of the process may release it */
    for (i = 0; i < ARRAY_SIZE(port_reservations) && !reservation; i++)
        reservation = find_port_reservation( &port_reservations[i], token->Token );
    if (!reservation || reservation->process != current->process)
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    free_port_reservation( reservation );
}

/*@ ioctl-acquire @*/
    case IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION:
        acquire_port_reservation( sock );
        return;

    case IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION:
        release_port_reservation( sock );
        return;

/*@ afd-acquire @*/
#define IOCTL_AFD_WINE_ACQUIRE_PORT_RESERVATION         WINE_AFD_IOC(@next@)
#define IOCTL_AFD_WINE_RELEASE_PORT_RESERVATION         WINE_AFD_IOC(@next@)
/*@ afd-associate @*/
#define IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION       WINE_AFD_IOC(@next@)
/*@ fields-associate @*/
    ULONGLONG           reservation; /* token of the port reservation the socket binds in */
/*@ init-associate @*/
    sock->reservation = 0;
/*@ associate @*/

static unsigned int get_unix_port( const union unix_sockaddr *addr )
{
    return ntohs( addr->addr.sa_family == AF_INET6 ? addr->in6.sin6_port : addr->in.sin_port );
}

static void set_unix_port( union unix_sockaddr *addr, unsigned int port )
{
    if (addr->addr.sa_family == AF_INET6) addr->in6.sin6_port = htons( port );
    else addr->in.sin_port = htons( port );
}

static void associate_port_reservation( struct sock *sock )
{
    const INET_PORT_RESERVATION_TOKEN *token = get_req_data();
    struct list *reservations = get_port_reservations( sock );
    struct port_reservation *reservation;

    if (!reservations)
    {
        set_error( STATUS_NOT_IMPLEMENTED );
        return;
    }
    if (get_req_data_size() < sizeof(*token) || sock->bound)
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    if (!(reservation = find_port_reservation( reservations, token->Token ))
            || reservation->process != current->process)
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    sock->reservation = reservation->token;
}

/* The port reservations decide the port of a bind: a socket associated with
 * a reservation binds one of its ports, the first free one for port 0; no
 * other socket binds a reserved port, and the host, which does not know the
 * reservations, does not choose the port of a bind to port 0 while there
 * are some.  Returns nonzero and sets the error when the bind must fail. */
static int check_port_reservations( struct sock *sock, union unix_sockaddr *addr )
{
    static unsigned int last_port = 49151;
    struct list *reservations = get_port_reservations( sock );
    struct port_reservation *reservation = NULL;
    unsigned int port, i;

    if (!reservations || list_empty( reservations )) return 0;
    port = get_unix_port( addr );

    if (sock->reservation && (reservation = find_port_reservation( reservations, sock->reservation )))
    {
        if (port)
        {
            if (port >= reservation->start && port < reservation->start + reservation->count) return 0;
            set_error( STATUS_INVALID_PARAMETER );
            return 1;
        }
        for (port = reservation->start; port < reservation->start + reservation->count; port++)
        {
            if (is_port_in_use( sock->type, port )) continue;
            set_unix_port( addr, port );
            return 0;
        }
        set_error( STATUS_SHARING_VIOLATION );
        return 1;
    }

    if (port)
    {
        LIST_FOR_EACH_ENTRY( reservation, reservations, struct port_reservation, entry )
        {
            if (reservation->start > port) break;
            if (port < reservation->start + reservation->count)
            {
                set_error( STATUS_ACCESS_DENIED );
                return 1;
            }
        }
        return 0;
    }

    /* a free port of the dynamic port range, where the host would choose one */
    for (i = 0; i < 16384; i++)
    {
        port = last_port = last_port < 65535 ? last_port + 1 : 49152;
        if (!find_free_ports( sock->type, reservations, port, 1, port )) continue;
        set_unix_port( addr, port );
        return 0;
    }
    set_error( STATUS_SHARING_VIOLATION );
    return 1;
}

/*@ ioctl-associate @*/
    case IOCTL_AFD_WINE_ASSOCIATE_PORT_RESERVATION:
        associate_port_reservation( sock );
        return;

/*@ bind @*/
        if (check_port_reservations( sock, &bind_addr ))
            return;

/*@ implicit @*/

/* Binds an unbound socket before the host gives it a port at connect time,
 * when port reservations decide its port. */
static int bind_reserved_port( struct sock *sock, int unix_fd )
{
    struct list *reservations = get_port_reservations( sock );
    union unix_sockaddr addr;
    socklen_t len;

    if (!reservations || list_empty( reservations )) return 0;
    len = get_unix_sockaddr_any( &addr, sock->family );
    if (check_port_reservations( sock, &addr )) return 1;
    if (bind( unix_fd, &addr.addr, len ) < 0)
    {
        set_error( sock_get_ntstatus( errno ) );
        return 1;
    }
    return 0;
}

/*@ connect @*/

        if (!sock->bound && bind_reserved_port( sock, unix_fd ))
            return;
/*@ send @*/
        if (check_port_reservations( sock, &unix_addr ))
            bind_errno = EADDRINUSE;
        else if (bind( unix_fd, &unix_addr.addr, unix_len ) < 0)
/*@ free-persistent @*/
    if (reservation->process) release_object( reservation->process );
/*@ field-persistent @*/
    struct process     *process;     /* process that acquired it, NULL for a persistent one */
/*@ associate-persistent-check @*/
            || (reservation->process && reservation->process != current->process))
/*@ associate-persistent @*/
    /* any elevated process may use a persistent reservation */
    if (!reservation->process && !token_is_elevated( thread_get_impersonation_token( current ) ))
    {
        set_error( STATUS_ACCESS_DENIED );
        return;
    }
/*@ bind-persistent @*/
            /* the ports of a persistent reservation may be bound explicitly */
            if (port < reservation->start + reservation->count && reservation->process)
/*@ persistent @*/

/* the reservations of a protocol, or NULL */
static struct list *get_protocol_reservations( int protocol )
{
    if (protocol == WS_IPPROTO_TCP) return &port_reservations[0];
    if (protocol == WS_IPPROTO_UDP) return &port_reservations[1];
    return NULL;
}

/* the persistent reservation of exactly these ports, or NULL */
static struct port_reservation *find_persistent_reservation( int protocol, unsigned int start, unsigned int count )
{
    struct list *reservations = get_protocol_reservations( protocol );
    struct port_reservation *reservation;

    if (!reservations) return NULL;
    LIST_FOR_EACH_ENTRY( reservation, reservations, struct port_reservation, entry )
        if (!reservation->process && reservation->start == start && reservation->count == count)
            return reservation;
    return NULL;
}

/* create a persistent port reservation */
DECL_HANDLER(create_port_reservation)
{
    struct list *reservations = get_protocol_reservations( req->protocol );
    int type = req->protocol == WS_IPPROTO_TCP ? WS_SOCK_STREAM : WS_SOCK_DGRAM;
    struct port_reservation *reservation;
    ULONGLONG token;

    if (!reservations || !req->start || !req->count || req->start + req->count > 65536)
    {
        set_error( STATUS_INVALID_PARAMETER );
        return;
    }
    if (find_free_ports( type, reservations, req->start, req->count, req->start ) != req->start)
    {
        set_error( STATUS_SHARING_VIOLATION );
        return;
    }
    /* the token is made of the ports, so that it is the same when the
     * reservation is made again at the next start; the tokens of sockets'
     * reservations never reach the high bit */
    token = (ULONGLONG)1 << 63 | (ULONGLONG)req->protocol << 32 | (ULONGLONG)req->start << 16 | req->count;
    if ((reservation = add_port_reservation( reservations, token, req->start, req->count )))
        reply->token = reservation->token;
}

/* delete a persistent port reservation */
DECL_HANDLER(delete_port_reservation)
{
    struct port_reservation *reservation;

    if ((reservation = find_persistent_reservation( req->protocol, req->start, req->count )))
        free_port_reservation( reservation );
    else
        set_error( STATUS_NOT_FOUND );
}

/* get the token of a persistent port reservation */
DECL_HANDLER(lookup_port_reservation)
{
    struct port_reservation *reservation;

    if ((reservation = find_persistent_reservation( req->protocol, req->start, req->count )))
        reply->token = reservation->token;
    else
        set_error( STATUS_NOT_FOUND );
}
/*@ include-security @*/
#include "security.h"
