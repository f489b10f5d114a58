/*
 * srvbench: the reservation server against the floor of its transport
 *
 * The floor is one round trip between a Linux client and a trivial echo
 * server over AF_UNIX (echo.c).  Against it, in the same run and in
 * alternating rounds: acquire + release pairs of one native client, with
 * no reservations, with 10,000 one-port reservations fragmenting the
 * dynamic range and with the range nearly full; 64 clients at once against
 * 64 echo clients; and the server's memory with 65,536 one-port
 * reservations.  A benchmark: it prints a table and fails only when it
 * cannot run.  tests/bench/run-bench (make bench) runs it in a private
 * prefix; "srvbench floor" prints only the floors of the Wine rows: the
 * round trip, and the round trip with the hold of a port made or let go;
 * and the server's answer to a release of no reservation.
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

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"
#include "echo.h"
#include "portres/client.h"
#include "../../server/engine.h"
#include "../../server/server.h"

#define DEFAULT_OPS       1000   /* operations per timed block */
#define DEFAULT_ROUNDS    21     /* timed blocks per side */
#define PARALLEL_CLIENTS  64
#define PARALLEL_OPS      200    /* operations of each client per round */
#define PARALLEL_ROUNDS   5
#define FRAGMENTS         10000
#define MEMORY_RESERVATIONS 65536
#define SERVER_TARGET     0.8    /* requests per second against echo round trips, at least */
#define PAIR_TARGET       0.7    /* the same for acquire+release pairs, which hold and let go */

static unsigned int ops = DEFAULT_OPS, rounds = DEFAULT_ROUNDS;
static char echo_path[PORTRES_PATH_MAX];
static int echo_fd = -1;
static unsigned short dyn_start, dyn_count;
static unsigned short specific_port;

/***********************************************************************
 *           the operations measured
 */

static unsigned int acquire_release( unsigned short start, unsigned short count )
{
    portres_token_t token;
    unsigned short first;
    unsigned int status;

    if ((status = portres_acquire( PORTRES_PROTO_TCP, start, count, 1, &token, &first, NULL ))) return status;
    return portres_release( token );
}

static void check( unsigned int status, const char *what )
{
    if (status) bench_fatal( "%s failed: %s (%s)\n", what, portres_status_name( status ), portres_error_message() );
}

static void op_echo( void )
{
    echo_round_trip( echo_fd );
}

static void op_release_unknown( void )
{
    if (portres_release( 0x5eed ) != STATUS_INVALID_PARAMETER) bench_fatal( "a release of no reservation worked\n" );
}

/* the server's port-in-use check, the same code */
static void op_probe( void )
{
    if (host_port_in_use( NULL, ENGINE_TCP, specific_port )) bench_fatal( "port %u is in use\n", specific_port );
}

static void op_specific( void )
{
    check( acquire_release( specific_port, 1 ), "acquire + release of a given port" );
}

static void op_wildcard1( void )
{
    check( acquire_release( 0, 1 ), "acquire + release of a wildcard port" );
}

static void op_wildcard2( void )
{
    check( acquire_release( 0, 2 ), "acquire + release of a wildcard block of 2 ports" );
}

/* The floor of an ioctl, what the guarantee itself needs: one round trip,
 * plus a hold (socket and bind, kept) for each port of an acquire, or the
 * close of that hold for a release.  The server's own hold code, on ports
 * below the dynamic range, one a request, as resbench.exe's one-port
 * acquires; a port that something else holds costs its attempt and is
 * counted. */
static double time_block( void (*op)( void ), unsigned int count );

#define FLOOR_PORT_BASE 40000
#define FLOOR_MAX_OPS   10000

static int floor_holds[FLOOR_MAX_OPS];
static unsigned int floor_in_use;

static double time_floor_acquires( unsigned int count )
{
    double start = bench_now_us();
    unsigned int i;

    for (i = 0; i < count; i++)
    {
        echo_round_trip( echo_fd );
        floor_holds[i] = host_hold( NULL, ENGINE_TCP, FLOOR_PORT_BASE + i );
    }
    return (bench_now_us() - start) / count;
}

static double time_floor_releases( unsigned int count )
{
    double start = bench_now_us();
    unsigned int i;

    for (i = 0; i < count; i++)
    {
        echo_round_trip( echo_fd );
        if (floor_holds[i] >= 0) host_unhold( NULL, floor_holds[i], ENGINE_TCP, FLOOR_PORT_BASE + i );
        else floor_in_use++;
    }
    return (bench_now_us() - start) / count;
}

/* "srvbench floor": the three floors of the Wine rows, and the server's
 * answer to a request with nothing to do, medians of rounds */
static void print_floors( void )
{
    static double echo[BENCH_MAX_ROUNDS], acquire[BENCH_MAX_ROUNDS], release[BENCH_MAX_ROUNDS];
    static double unknown[BENCH_MAX_ROUNDS];
    unsigned int r;

    if (ops > FLOOR_MAX_OPS || ops > 65535 - FLOOR_PORT_BASE) bench_fatal( "at most %u operations a block\n",
                                                                    65535 - FLOOR_PORT_BASE );
    time_block( op_echo, ops / 10 + 1 );
    for (r = 0; r < rounds; r++)
    {
        echo[r] = time_block( op_echo, ops );
        acquire[r] = time_floor_acquires( ops );
        release[r] = time_floor_releases( ops );
    }
    check( portres_connect( NULL ), "connect to the reservation server" );
    time_block( op_release_unknown, ops / 10 + 1 );
    for (r = 0; r < rounds; r++) unknown[r] = time_block( op_release_unknown, ops );
    portres_disconnect();
    printf( "floor %.3f\n", bench_median( echo, rounds ) );
    printf( "native-unknown %.3f\n", bench_median( unknown, rounds ) );
    printf( "floor-acquire %.3f\n", bench_median( acquire, rounds ) );
    printf( "floor-release %.3f\n", bench_median( release, rounds ) );
    if (floor_in_use) printf( "floor-in-use %u\n", floor_in_use );
}

static double time_block( void (*op)( void ), unsigned int count )
{
    double start = bench_now_us();
    unsigned int i;

    for (i = 0; i < count; i++) op();
    return (bench_now_us() - start) / count;
}

/* median microseconds per echo round trip and per request of op (which
 * makes requests_per_op requests), from alternating rounds */
static void measure( void (*op)( void ), unsigned int requests_per_op, double *floor_us, double *request_us )
{
    static double floor_times[BENCH_MAX_ROUNDS], op_times[BENCH_MAX_ROUNDS];
    unsigned int r;

    time_block( op_echo, ops / 10 + 1 );  /* warm-up */
    time_block( op, ops / 10 + 1 );
    for (r = 0; r < rounds; r++)
    {
        if (r % 2)
        {
            op_times[r] = time_block( op, ops ) / requests_per_op;
            floor_times[r] = time_block( op_echo, ops );
        }
        else
        {
            floor_times[r] = time_block( op_echo, ops );
            op_times[r] = time_block( op, ops ) / requests_per_op;
        }
    }
    *floor_us = bench_median( floor_times, rounds );
    *request_us = bench_median( op_times, rounds );
}

static void server_row( const char *what, void (*op)( void ) )
{
    double floor_us, request_us;

    measure( op, 2, &floor_us, &request_us );
    bench_row( what, floor_us, request_us, BENCH_RATE_AT_LEAST, PAIR_TARGET );
}

/***********************************************************************
 *           states of the dynamic range
 */

/* a one-port reservation of this process; 0 when the port is taken */
static int reserve_port( unsigned int protocol, unsigned int port )
{
    portres_token_t token;
    unsigned short first;
    unsigned int status = portres_acquire( protocol, port, 1, 1, &token, &first, NULL );

    if (status == STATUS_ADDRESS_ALREADY_EXISTS || status == STATUS_SHARING_VIOLATION) return 0;
    /* each runtime port takes a descriptor of the server: its limit ends the row */
    if (status == STATUS_NO_MEMORY) return -1;
    check( status, "a one-port acquire" );
    return 1;
}

/* a free port of the top of the dynamic range, for the given-port pairs */
static unsigned short free_port_near_top( void )
{
    unsigned int port;

    for (port = dyn_start + dyn_count - 100; port > dyn_start; port--)
        if (acquire_release( port, 1 ) == STATUS_SUCCESS) return port;
    bench_fatal( "no free port in the dynamic range\n" );
}

/* 10,000 one-port reservations: every other port for 6,000, then 4,000 in a
 * row, so that a block of 2 ports fits only past all of them */
static unsigned int fragment_range( void )
{
    unsigned int i, made = 0, port = dyn_start;

    for (i = 0; i < 6000 && made < FRAGMENTS; i++, port += 2) made += reserve_port( PORTRES_PROTO_TCP, port );
    port--;
    while (made < FRAGMENTS && port < dyn_start + dyn_count - 64u) made += reserve_port( PORTRES_PROTO_TCP, port++ );
    return made;
}

/* all free ports of the range but the last 16 */
static unsigned int fill_range( void )
{
    unsigned int port, made = 0;

    for (port = dyn_start + 1; port < dyn_start + 12000u; port += 2) made += reserve_port( PORTRES_PROTO_TCP, port );
    for (port = dyn_start + 12000; port < dyn_start + dyn_count - 16u; port++)
    {
        struct query_port_reply info;

        check( portres_query_port( PORTRES_PROTO_TCP, port, &info.kind, &info.start, &info.count, &info.owner_pid,
                                   &info.is_mine, &info.token ), "query_port" );
        if (!info.kind) made += reserve_port( PORTRES_PROTO_TCP, port );
    }
    return made;
}

/***********************************************************************
 *           64 clients at once
 */

static void parallel_client( int ready_fd, int go_fd, int use_echo )
{
    unsigned int i;
    char c = 0;

    if (use_echo) echo_fd = echo_connect( echo_path );
    else check( portres_connect( NULL ), "connect" );
    if (write( ready_fd, &c, 1 ) != 1) _exit( 1 );
    if (read( go_fd, &c, 1 ) < 0) _exit( 1 );  /* end of file: go */
    for (i = 0; i < PARALLEL_OPS; i++)
    {
        if (use_echo) echo_round_trip( echo_fd );
        else if (acquire_release( 0, 1 )) _exit( 1 );
    }
    _exit( 0 );
}

/* microseconds per request of all clients together */
static double time_parallel( int use_echo )
{
    int ready[2], go[2], status, failed = 0;
    pid_t pids[PARALLEL_CLIENTS];
    unsigned int i;
    double start;
    char c;

    if (pipe( ready ) == -1 || pipe( go ) == -1) bench_fatal( "pipe: %s\n", strerror( errno ) );
    for (i = 0; i < PARALLEL_CLIENTS; i++)
    {
        if ((pids[i] = fork()) == -1) bench_fatal( "fork: %s\n", strerror( errno ) );
        if (!pids[i])
        {
            close( ready[0] );
            close( go[1] );
            parallel_client( ready[1], go[0], use_echo );
        }
    }
    close( ready[1] );
    close( go[0] );
    for (i = 0; i < PARALLEL_CLIENTS; i++)
        if (read( ready[0], &c, 1 ) != 1) bench_fatal( "a client did not start\n" );
    start = bench_now_us();
    close( go[1] );
    for (i = 0; i < PARALLEL_CLIENTS; i++)
        if (waitpid( pids[i], &status, 0 ) == -1 || !WIFEXITED( status ) || WEXITSTATUS( status )) failed++;
    start = bench_now_us() - start;
    close( ready[0] );
    if (failed) bench_fatal( "%d of %u clients failed\n", failed, PARALLEL_CLIENTS );
    return start / (PARALLEL_CLIENTS * PARALLEL_OPS * (use_echo ? 1 : 2));
}

static void parallel_row( void )
{
    double floor_times[PARALLEL_ROUNDS], server_times[PARALLEL_ROUNDS];
    unsigned int r;
    char what[80];

    portres_disconnect();  /* the children make their own connections */
    for (r = 0; r < PARALLEL_ROUNDS; r++)
    {
        if (r % 2)
        {
            server_times[r] = time_parallel( 0 );
            floor_times[r] = time_parallel( 1 );
        }
        else
        {
            floor_times[r] = time_parallel( 1 );
            server_times[r] = time_parallel( 0 );
        }
    }
    snprintf( what, sizeof(what), "%u clients at once, acquire+release (wildcard)", PARALLEL_CLIENTS );
    bench_row( what, bench_median( floor_times, PARALLEL_ROUNDS ), bench_median( server_times, PARALLEL_ROUNDS ),
               BENCH_RATE_AT_LEAST, SERVER_TARGET );
}

/***********************************************************************
 *           memory
 */

static long resident_kib( unsigned int pid )
{
    char path[64], line[256];
    long kib = -1;
    FILE *file;

    snprintf( path, sizeof(path), "/proc/%u/status", pid );
    if (!(file = fopen( path, "r" ))) return -1;
    while (fgets( line, sizeof(line), file ))
        if (sscanf( line, "VmRSS: %ld kB", &kib ) == 1) break;
    fclose( file );
    return kib;
}

/* a fresh server, its resident memory before and after 65,536 one-port
 * reservations, half TCP and half UDP, or as many as its descriptor limit
 * lets it hold */
static void memory_row( unsigned int old_pid )
{
    unsigned int pid, port, made[2] = { 0, 0 }, i;
    long before, after;
    double start, us;
    int ret = 0;

    portres_disconnect();
    kill( old_pid, SIGTERM );
    for (i = 0; i < 1000 && !kill( old_pid, 0 ); i++) usleep( 10000 );
    check( portres_connect( &pid ), "connect to a new server" );
    if (pid == old_pid) bench_fatal( "the server did not restart\n" );
    before = resident_kib( pid );
    start = bench_now_us();
    for (i = 0; i < 2; i++)
    {
        unsigned int protocol = i ? PORTRES_PROTO_UDP : PORTRES_PROTO_TCP;

        for (port = 1024; port <= 65535 && made[i] < MEMORY_RESERVATIONS / 2 && ret >= 0; port++)
            if ((ret = reserve_port( protocol, port )) > 0) made[i]++;
    }
    us = bench_now_us() - start;
    after = resident_kib( pid );
    bench_info( "server memory: %ld KiB resident with no reservations, %ld KiB with %u TCP + %u UDP "
                "one-port reservations: %.0f bytes each (made in %.2f s, %.1f us each)\n",
                before, after, made[0], made[1], (after - before) * 1024.0 / (made[0] + made[1]),
                us / 1e6, us / (made[0] + made[1]) );
}

/***********************************************************************
 *           a crash
 */

#define RESTARTS 3

/* SIGKILL the server while this process holds what it holds, and time
 * until a new one (the keeper's, or ours) has taken everything back and
 * answers; milliseconds, and the runtime reservations it then has */
static double restart_ms( unsigned int *runtime )
{
    struct check_state_reply state;
    char message[256];
    unsigned int pid;
    double start;

    check( portres_connect( &pid ), "connect to the reservation server" );
    start = bench_now_us();
    kill( pid, SIGKILL );
    check( portres_check_state( &state, message, sizeof(message) ), "check_state after a kill" );
    *runtime = state.tcp_runtime + state.udp_runtime;
    return (bench_now_us() - start) / 1000;
}

/* with the reservations of memory_row, then with none */
static void restart_row( void )
{
    double loaded[RESTARTS], empty[RESTARTS];
    unsigned int i, held = 0, none = 0;

    for (i = 0; i < RESTARTS; i++) loaded[i] = restart_ms( &held );
    portres_disconnect();   /* a new session, without them */
    for (i = 0; i < RESTARTS; i++) empty[i] = restart_ms( &none );
    bench_info( "%-52s %9.2f ms %9.2f ms  %6.3f  (%u runtime reservations kept, %u)\n",
                "crash: SIGKILL until the next server answers", bench_median( empty, RESTARTS ),
                bench_median( loaded, RESTARTS ), bench_median( loaded, RESTARTS ) / bench_median( empty, RESTARTS ),
                held, none );
}

/***********************************************************************
 *           main
 */

static void usage( void )
{
    fprintf( stderr, "usage: srvbench [floor] [OPS-PER-BLOCK [ROUNDS (1-%u)]]\n"
             "Runs in the prefix $WINEPREFIX, which must be set (run-bench makes a private one).\n",
             BENCH_MAX_ROUNDS );
    exit( 2 );
}

int main( int argc, char *argv[] )
{
    const char *prefix = getenv( "WINEPREFIX" );
    double floor_us, request_us;
    unsigned int server_pid, made;
    int floor_only = 0;
    pid_t echo_pid;

    if (argc > 1 && !strcmp( argv[1], "floor" ))
    {
        floor_only = 1;
        argc--;
        argv++;
    }
    if (argc > 1) ops = atoi( argv[1] );
    if (argc > 2) rounds = atoi( argv[2] );
    if (argc > 3 || !ops || !rounds || rounds > BENCH_MAX_ROUNDS || !prefix || !*prefix) usage();

    snprintf( echo_path, sizeof(echo_path), "%s/echo-socket", prefix );
    echo_pid = echo_start( echo_path );
    echo_fd = echo_connect( echo_path );
    if (floor_only)
    {
        print_floors();
        echo_stop( echo_pid );
        return 0;
    }

    check( portres_connect( &server_pid ), "connect to the reservation server" );
    check( portres_get_dynamic_range( PORTRES_PROTO_TCP, &dyn_start, &dyn_count ), "get_dynamic_range" );
    specific_port = free_port_near_top();

    bench_info( "srvbench: %u requests per block, %u rounds per side alternating, medians; "
                "dynamic range %u-%u\n", ops, rounds, dyn_start, dyn_start + dyn_count - 1 );
    bench_info( "%-52s %12s %12s  %6s  %-7s\n", "row", "floor", "measured", "ratio", "target" );

    measure( op_echo, 1, &floor_us, &request_us );
    bench_info( "%-52s %9.2f us %9.2f us\n", "floor: AF_UNIX echo round trip (two blocks)", floor_us, request_us );

    measure( op_release_unknown, 1, &floor_us, &request_us );
    bench_row( "server: release of no reservation (dispatch only)", floor_us, request_us, BENCH_RATE_AT_LEAST,
               SERVER_TARGET );
    measure( op_probe, 1, &floor_us, &request_us );
    bench_info( "%-52s %9.2f us %9.2f us  %6.3f  (what an acquire adds)\n",
                "host: port-in-use probe, dual-stack socket+bind+close", floor_us, request_us, request_us / floor_us );
    server_row( "server: acquire+release given port, 0 reserved", op_specific );
    server_row( "server: acquire+release wildcard, 0 reserved", op_wildcard1 );

    made = fragment_range();
    bench_info( "fragmented the dynamic range with %u one-port reservations\n", made );
    server_row( "server: acquire+release given port, 10,000 frag.", op_specific );
    server_row( "server: acquire+release wildcard, 10,000 frag.", op_wildcard1 );
    server_row( "server: wildcard 2 ports past 10,000 frag.", op_wildcard2 );

    made += fill_range();
    bench_info( "filled the dynamic range: %u one-port reservations, 16 ports left at the top\n", made );
    server_row( "server: wildcard acquire+release, range nearly full", op_wildcard1 );

    parallel_row();
    memory_row( server_pid );
    restart_row();

    portres_disconnect();
    echo_stop( echo_pid );
    bench_info( "srvbench: %u rows missed their target\n", bench_missed() );
    return 0;
}
