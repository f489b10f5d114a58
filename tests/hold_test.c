/*
 * Tests that a runtime reservation holds its ports on the whole host: no
 * other process can bind them, explicitly or by port 0, over TCP or UDP,
 * IPv4 or IPv6, whatever its socket options, until the reservation goes
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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portres/client.h"
#include "testlib.h"

#define BLOCK 1024          /* sing-box's blocks are of 1024 ports */
#define TRIES 4000          /* port-0 binds of each kind */

static const int families[] = { AF_INET, AF_INET6 };
static const int types[] = { SOCK_STREAM, SOCK_DGRAM };

/* Another process (a child: the holds are the server's, not ours) binds
 * into [start, start + count) of each protocol that is reserved; returns
 * the number of binds that got in. */
static unsigned int binds_inside( const unsigned short start[2], unsigned int count, int port0 )
{
    unsigned int f, t, i, inside = 0;
    unsigned short got;
    int fds[TRIES], n, err;

    for (t = 0; t < 2; t++)
    for (f = 0; f < 2; f++)
    {
        if (!start[t]) continue;
        if (!port0)
        {
            /* every port, with SO_REUSEADDR and SO_REUSEPORT and without */
            for (i = 0; i < count; i++)
            {
                err = test_bind( families[f], types[t], start[t] + i, i & 1, NULL, NULL );
                if (err != EADDRINUSE) inside++;
            }
            continue;
        }
        /* port 0, the sockets kept open so that the kernel moves on */
        for (i = n = 0; i < TRIES; i++)
        {
            if (test_bind( families[f], types[t], 0, 0, &got, &fds[n] )) continue;
            n++;
            if (got >= start[t] && got < start[t] + count) inside++;
        }
        while (n--) close( fds[n] );
    }
    return inside;
}

static unsigned int binds_inside_from_child( const unsigned short start[2], unsigned int count, int port0 )
{
    int pipe_fds[2], status;
    unsigned int inside = ~0u;
    pid_t pid;

    if (pipe( pipe_fds )) return ~0u;
    if (!(pid = fork()))
    {
        inside = binds_inside( start, count, port0 );
        if (write( pipe_fds[1], &inside, sizeof(inside) ) != sizeof(inside)) _exit( 1 );
        _exit( 0 );
    }
    close( pipe_fds[1] );
    if (read( pipe_fds[0], &inside, sizeof(inside) ) != sizeof(inside)) inside = ~0u;
    close( pipe_fds[0] );
    waitpid( pid, &status, 0 );
    return inside;
}

TEST(test_explicit_binds)
{
    struct check_state_reply state;
    char message[512] = "";
    portres_token_t tokens[2];
    unsigned short start[2], first;
    unsigned int inside;

    test_prefix();
    start[0] = start[1] = test_free_ports( 256 );
    check( portres_acquire( PORTRES_PROTO_TCP, start[0], 256, 0x10, &tokens[0], &first, NULL ) == STATUS_SUCCESS,
           "tcp acquire: %s", portres_error_message() );
    check( portres_acquire( PORTRES_PROTO_UDP, start[1], 256, 0x10, &tokens[1], &first, NULL ) == STATUS_SUCCESS,
           "udp acquire: %s", portres_error_message() );
    /* the server's checker finds every hold bound in the kernel */
    check( portres_check_state( &state, message, sizeof(message) ) == STATUS_SUCCESS && state.tcp_runtime == 1 &&
           state.udp_runtime == 1, "checkstate: %s", message );
    inside = binds_inside_from_child( start, 256, 0 );
    check( !inside, "%u explicit binds of another process got into the reservations", inside );
    check( portres_release( tokens[0] ) == STATUS_SUCCESS && portres_release( tokens[1] ) == STATUS_SUCCESS,
           "release" );
    inside = binds_inside_from_child( start, 256, 0 );
    check( inside == 2 * 2 * 256, "after the release, %u of %u binds got in", inside, 2 * 2 * 256 );
}

TEST(test_port0_binds)
{
    portres_token_t tokens[2];
    unsigned short start[2] = { 0, 0 };
    unsigned int inside, t, waited;

    test_prefix();
    /* blocks where Linux's port-0 binds land: the start of its range */
    for (t = 0; t < 2; t++)
    {
        unsigned int low, high;

        portres_auto_port_range( &low, &high );
        /* a block in the lower half, where TCP's port-0 binds go, and where UDP's go too */
        for (start[t] = low + 64; (unsigned int)start[t] + BLOCK < high; start[t] += BLOCK)
            if (portres_acquire( t ? PORTRES_PROTO_UDP : PORTRES_PROTO_TCP, start[t], BLOCK, 0x20, &tokens[t], NULL,
                                 NULL ) == STATUS_SUCCESS)
                break;
        check( (unsigned int)start[t] + BLOCK < high, "no free block of %u ports for %s", BLOCK, t ? "udp" : "tcp" );
    }
    inside = binds_inside_from_child( start, BLOCK, 1 );
    check( !inside, "%u port-0 binds of another process landed in the reservations", inside );
    portres_disconnect();   /* the client's end releases them, like a process's */
    /* once the server has seen the end of the connection, in its own time:
     * 10 s at most, a bound against hangs, not a measure */
    for (waited = 0; (inside = binds_inside_from_child( start, 16, 0 )) != 2 * 2 * 16 && waited < 1000; waited++)
        test_sleep_ms( 10 );
    check( inside == 2 * 2 * 16, "after the client went, %u of %u binds got in", inside, 2 * 2 * 16 );
}

/* a wildcard block of 16,384 ports, the whole dynamic range, is held */
TEST(test_whole_range)
{
    portres_token_t token;
    unsigned short first, start[2] = { 0, 0 };
    unsigned int inside;
    unsigned int status;

    test_prefix();
    status = portres_acquire( PORTRES_PROTO_UDP, 0, 16384, 0x30, &token, &first, NULL );
    if (status == STATUS_ADDRESS_ALREADY_EXISTS)
    {
        test_skip( "a port of 49152-65535 is in use on this host" );
        return;
    }
    check( status == STATUS_SUCCESS && first == 49152, "acquire of 16384 ports: %#x, %u", status, first );
    start[1] = first;
    inside = binds_inside_from_child( start, 16384, 0 );
    check( !inside, "%u explicit binds got into the 16384 ports", inside );
    check( portres_release( token ) == STATUS_SUCCESS, "release" );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_explicit_binds);
    RUN(test_port0_binds);
    RUN(test_whole_range);
    return test_summary();
}
