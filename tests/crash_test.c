/*
 * Tests that the server's death costs nobody a reservation: a SIGKILL of
 * the server at any moment leaves every runtime reservation of a live
 * process held on the host, its token valid, its associations in place, and
 * the process's next calls answered as if nothing had happened; the keeper's
 * death costs nothing either; a client that dies meanwhile loses its
 * reservations all the same
 *
 * Every crash is proven, not assumed: the pid of the server (or keeper)
 * before, the kill's success, that process gone, and a new one with
 * another pid answering.  Where a time without any server matters, the
 * keeper is stopped (SIGSTOP) while the server dies, so that nothing can
 * start the next one until the test has done what it does meanwhile.
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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "portres/client.h"
#include "testlib.h"

#define RANGE   8       /* a specific TCP range */
#define BLOCK   1024    /* a wildcard UDP block: more holds than one message to the keeper carries */
#define SOCKET  0x77    /* the owner's associated socket */

/* a client process that holds reservations, steered through pipes */
struct owner
{
    pid_t pid;
    int   to;           /* commands to it */
    int   from;         /* its reports */
};

/* what the owner reports */
struct report
{
    unsigned int    status[4];
    portres_token_t tcp_token;
    portres_token_t udp_token;
    unsigned short  tcp_start;
    unsigned short  udp_start;
    unsigned short  given;       /* port its associated socket got */
    unsigned short  is_mine;     /* after the crash: the server still says the range is its */
    portres_token_t seen_token;  /* and which token it has */
};

static char server_dir[PORTRES_PATH_MAX];
static char lock_path[PORTRES_PATH_MAX + 8];

static void find_server_dir( void )
{
    char prefix[PORTRES_PATH_MAX];

    check( !portres_prefix_dir( prefix, sizeof(prefix), 1 ) &&
           !portres_server_dir( prefix, server_dir, sizeof(server_dir), 1 ), "no server directory: %s",
           portres_error_message() );
    snprintf( lock_path, sizeof(lock_path), "%s/lock", server_dir );
}

static pid_t server_pid( void )
{
    return test_lock_owner( lock_path );
}

/* wait up to 10 s for a condition: a bound against hangs, not a measure */
#define WAIT_FOR(cond) \
    ({ int met_, waited_ = 0; \
       while (!(met_ = !!(cond)) && waited_ < 1000) { test_sleep_ms( 10 ); waited_++; } \
       met_; })

static int read_all( int fd, void *buf, size_t size )
{
    return read( fd, buf, size ) == (ssize_t)size ? 0 : -1;
}

/* whether a process has ended: gone, or a zombie that nobody has reaped
 * yet (a daemonized server's parent is whatever adopted it) */
static int process_gone( pid_t pid )
{
    char path[64], line[512], *paren;
    FILE *file;
    int gone = 1;

    if (kill( pid, 0 ) == -1 && errno == ESRCH) return 1;
    snprintf( path, sizeof(path), "/proc/%d/stat", (int)pid );
    if (!(file = fopen( path, "r" ))) return 1;
    /* "pid (comm) state ...": comm may hold anything, the state follows the last ')' */
    if (fgets( line, sizeof(line), file ) && (paren = strrchr( line, ')' )) && paren[1] == ' ')
        gone = paren[2] == 'Z' || paren[2] == 'X';
    fclose( file );
    return gone;
}

/***********************************************************************
 *           the owner
 */

static void owner_main( int in, int out, unsigned short tcp_start )
{
    struct query_port_reply info;
    struct report report;
    unsigned short start, count;
    unsigned int kind;
    char command;
    int fd = -1;

    memset( &report, 0, sizeof(report) );
    report.tcp_start = tcp_start;
    report.status[0] = portres_acquire( PORTRES_PROTO_TCP, tcp_start, RANGE, 0x10, &report.tcp_token, NULL, NULL );
    report.status[1] = portres_acquire( PORTRES_PROTO_UDP, 0, BLOCK, 0x20, &report.udp_token, &report.udp_start,
                                        NULL );
    report.status[2] = portres_associate( PORTRES_PROTO_TCP, 0, SOCKET, report.tcp_token, &start, &count, &kind );
    report.status[3] = portres_bind_port( PORTRES_PROTO_TCP, 0, SOCKET, &report.given, NULL );
    /* the associated socket binds the port it was given, as Wine's would */
    if (!report.status[3] && test_bind( AF_INET, SOCK_STREAM, report.given, 0, NULL, &fd )) report.status[3] = ~0u;
    if (write( out, &report, sizeof(report) ) != sizeof(report) || read( in, &command, 1 ) != 1) _exit( 1 );

    /* after the crash */
    report.status[0] = test_query_port( PORTRES_PROTO_TCP, tcp_start + 1, &info );
    report.is_mine = info.is_mine && info.kind == PORTRES_KIND_RUNTIME;
    report.seen_token = info.token;
    report.status[1] = portres_bind_port( PORTRES_PROTO_TCP, report.given, SOCKET, &start, NULL );
    if (fd != -1) close( fd );
    report.status[2] = portres_release( report.udp_token );
    report.status[3] = portres_release( report.tcp_token );
    if (write( out, &report, sizeof(report) ) != sizeof(report) || read( in, &command, 1 ) != 1) _exit( 1 );
    _exit( 0 );
}

static void start_owner( struct owner *owner, unsigned short tcp_start, struct report *report )
{
    int to[2], from[2];

    if (pipe( to ) || pipe( from )) abort();
    if (!(owner->pid = fork()))
    {
        close( to[1] );
        close( from[0] );
        owner_main( to[0], from[1], tcp_start );
    }
    close( to[0] );
    close( from[1] );
    owner->to = to[1];
    owner->from = from[0];
    memset( report, 0, sizeof(*report) );
    check( !read_all( owner->from, report, sizeof(*report) ), "the owner did not report" );
    check( !report->status[0] && !report->status[1] && !report->status[2] && !report->status[3],
           "the owner's acquire, acquire, associate, bind: %#x %#x %#x %#x", report->status[0],
           report->status[1], report->status[2], report->status[3] );
}

/* after the crash: the owner's view, and its releases */
static void finish_owner( struct owner *owner, const struct report *before )
{
    struct report after;
    int status;

    memset( &after, 0, sizeof(after) );
    check( write( owner->to, "c", 1 ) == 1 && !read_all( owner->from, &after, sizeof(after) ),
           "the owner did not report after the crash" );
    check( !after.status[0] && after.is_mine && after.seen_token == before->tcp_token,
           "after the crash the range is the owner's: %#x, mine %u, token %s", after.status[0], after.is_mine,
           after.seen_token == before->tcp_token ? "the same" : "another" );
    check( !after.status[1], "the associated socket's bind after the crash: %#x", after.status[1] );
    check( !after.status[2] && !after.status[3], "the owner's releases after the crash: %#x %#x",
           after.status[2], after.status[3] );
    check( write( owner->to, "q", 1 ) == 1, "the owner went" );
    status = -1;
    check( waitpid( owner->pid, &status, 0 ) == owner->pid && WIFEXITED( status ) && !WEXITSTATUS( status ),
           "the owner's exit status %#x", status );
    close( owner->to );
    close( owner->from );
}

/***********************************************************************
 *           a prober: another process of the host, binding all the while
 */

struct prober
{
    pid_t         pid;
    int           stop;      /* written to when it is to stop */
    int           result;    /* it writes the number of binds that got in */
    unsigned int *rounds;    /* shared with it: the rounds it has done so far */
};

static unsigned int probe_once( const struct report *report )
{
    static const int families[] = { AF_INET, AF_INET6 };
    unsigned int f, i, inside = 0;

    for (f = 0; f < 2; f++)
    {
        for (i = 0; i < RANGE; i++)
            if (report->tcp_start + i != report->given &&
                test_bind( families[f], SOCK_STREAM, report->tcp_start + i, 0, NULL, NULL ) != EADDRINUSE)
                inside++;
        for (i = 0; i < BLOCK; i += 31)
            if (test_bind( families[f], SOCK_DGRAM, report->udp_start + i, 0, NULL, NULL ) != EADDRINUSE) inside++;
        if (test_bind( families[f], SOCK_DGRAM, report->udp_start + BLOCK - 1, 0, NULL, NULL ) != EADDRINUSE) inside++;
    }
    return inside;
}

static void start_prober( struct prober *prober, const struct report *report )
{
    int stop[2], result[2];

    if (pipe( stop ) || pipe( result )) abort();
    prober->rounds = mmap( NULL, sizeof(*prober->rounds), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0 );
    if (prober->rounds == MAP_FAILED) abort();
    *prober->rounds = 0;
    if (!(prober->pid = fork()))
    {
        unsigned int inside = 0, rounds = 0;
        char c;

        close( stop[1] );
        close( result[0] );
        fcntl( stop[0], F_SETFL, O_NONBLOCK );
        /* until told to stop, and once more after */
        do
        {
            inside += probe_once( report );
            __atomic_store_n( prober->rounds, ++rounds, __ATOMIC_RELEASE );
        } while (read( stop[0], &c, 1 ) == -1 && errno == EAGAIN);
        inside += probe_once( report );
        if (write( result[1], &inside, sizeof(inside) ) != sizeof(inside)) _exit( 1 );
        _exit( rounds > 0 ? 0 : 1 );
    }
    close( stop[0] );
    close( result[1] );
    prober->stop = stop[1];
    prober->result = result[0];
}

static unsigned int prober_rounds( const struct prober *prober )
{
    return __atomic_load_n( prober->rounds, __ATOMIC_ACQUIRE );
}

/* wait until the prober has done a whole round from now on */
static void wait_prober_round( const struct prober *prober, const char *when )
{
    unsigned int rounds = prober_rounds( prober );

    check( WAIT_FOR( prober_rounds( prober ) >= rounds + 2 ), "%s: the prober did no round (%u so far)", when,
           prober_rounds( prober ) );
}

/* stop the prober: it must exit 0, and no bind of its may have got in */
static void stop_prober( struct prober *prober, const char *when )
{
    unsigned int inside = ~0u, rounds = prober_rounds( prober );
    int reported, status = -1;

    reported = write( prober->stop, "s", 1 ) == 1 && !read_all( prober->result, &inside, sizeof(inside) );
    check( waitpid( prober->pid, &status, 0 ) == prober->pid && WIFEXITED( status ) && !WEXITSTATUS( status ),
           "%s: the prober's exit status %#x after %u rounds", when, status, rounds );
    check( reported && !inside, "%s: %s; %u binds of another process got into the reservations in %u rounds", when,
           reported ? "reported" : "no report", inside, rounds );
    close( prober->stop );
    close( prober->result );
    munmap( prober->rounds, sizeof(*prober->rounds) );
}

/* the server that holds the lock once a request has been answered is the
 * one that answered it: it must be the new one */
static void check_answered_by( pid_t server, const char *when )
{
    pid_t holder = server_pid();

    check( server > 0 && holder == server, "%s: the lock is held by %d, not by the new server %d", when, (int)holder,
           (int)server );
}

/* SIGKILL the server and prove it: its pid before, the kill, the process
 * gone, and a new server (the keeper starts it at once) holding the lock;
 * the new server's pid, 0 when there is none */
static pid_t kill_server( void )
{
    pid_t pid = server_pid(), next = 0;

    check( pid > 0, "no server to kill" );
    if (pid <= 0) return 0;
    check( !kill( pid, SIGKILL ), "cannot kill the server %d: %s", (int)pid, strerror( errno ) );
    check( WAIT_FOR( process_gone( pid ) ), "the killed server %d lives on", (int)pid );
    check( WAIT_FOR( (next = server_pid()) > 0 && next != pid ), "no new server after the server %d was killed",
           (int)pid );
    return next;
}

/* a crash with no server for certain: the keeper is stopped, so that it
 * cannot start the next server until end_crash */
struct crash
{
    pid_t server;   /* the killed one */
    pid_t keeper;   /* stopped meanwhile */
};

static void begin_crash( struct crash *crash )
{
    crash->server = server_pid();
    crash->keeper = test_keeper_pid( server_dir );
    check( crash->server > 0 && crash->keeper > 0, "no server (%d) or no keeper (%d)", (int)crash->server,
           (int)crash->keeper );
    if (crash->server <= 0 || crash->keeper <= 0) return;
    check( !kill( crash->keeper, SIGSTOP ), "cannot stop the keeper %d: %s", (int)crash->keeper, strerror( errno ) );
    check( !kill( crash->server, SIGKILL ), "cannot kill the server %d: %s", (int)crash->server, strerror( errno ) );
    check( WAIT_FOR( process_gone( crash->server ) ), "the killed server %d lives on", (int)crash->server );
    check( WAIT_FOR( !server_pid() ), "the lock is held by %d after the server %d was killed", (int)server_pid(),
           (int)crash->server );
}

/* no server started meanwhile; the keeper goes on and starts the next one,
 * whose pid this returns */
static pid_t end_crash( struct crash *crash )
{
    pid_t next = 0;

    if (crash->server <= 0 || crash->keeper <= 0) return 0;
    check( !server_pid(), "a server (%d) ran while the keeper was stopped", (int)server_pid() );
    check( !kill( crash->keeper, SIGCONT ), "cannot continue the keeper %d: %s", (int)crash->keeper,
           strerror( errno ) );
    check( WAIT_FOR( (next = server_pid()) > 0 && next != crash->server ), "the keeper started no new server" );
    check( test_keeper_pid( server_dir ) == crash->keeper, "the keeper %d is gone", (int)crash->keeper );
    return next;
}

/* the range is taken: another client cannot acquire it */
static void check_taken( const struct report *report, const char *when )
{
    portres_token_t token;
    unsigned int status;

    status = portres_acquire( PORTRES_PROTO_TCP, report->tcp_start, RANGE, 0x99, &token, NULL, NULL );
    check( status == STATUS_ADDRESS_ALREADY_EXISTS, "%s: the owner's TCP range granted again: %#x", when, status );
    status = portres_acquire( PORTRES_PROTO_UDP, report->udp_start, BLOCK, 0x99, &token, NULL, NULL );
    check( status == STATUS_ADDRESS_ALREADY_EXISTS, "%s: the owner's UDP block granted again: %#x", when, status );
}

static void check_state_counts( unsigned int runtime, unsigned int associations, const char *when )
{
    struct check_state_reply state;
    char message[512] = "";
    unsigned int status = portres_check_state( &state, message, sizeof(message) );

    check( !status, "%s: checkstate %#x: %s", when, status, message );
    check( state.tcp_runtime + state.udp_runtime == runtime && state.associations == associations,
           "%s: %u+%u runtime reservations, %u associations; expected %u, %u", when, state.tcp_runtime,
           state.udp_runtime, state.associations, runtime, associations );
}

/***********************************************************************
 *           the tests
 */

/* the ports stay held while the server dies and the next one starts, and
 * the owner goes on as if nothing had happened */
TEST(test_holds_through_crash)
{
    struct report report;
    struct owner owner;
    struct prober prober;
    struct crash crash;
    portres_token_t token;
    pid_t next;

    test_prefix();
    find_server_dir();
    start_owner( &owner, test_free_ports( RANGE ), &report );
    check_state_counts( 2, 1, "before the crash" );
    start_prober( &prober, &report );
    wait_prober_round( &prober, "before the crash" );
    begin_crash( &crash );
    wait_prober_round( &prober, "with no server" );
    next = end_crash( &crash );
    check_state_counts( 2, 1, "after the crash" );
    check_answered_by( next, "after the crash" );
    wait_prober_round( &prober, "after the crash" );
    stop_prober( &prober, "around the crash" );
    check_taken( &report, "after the crash" );
    finish_owner( &owner, &report );
    check_answered_by( next, "the owner's calls after the crash" );
    check( portres_acquire( PORTRES_PROTO_TCP, report.tcp_start, RANGE, 0x99, &token, NULL, NULL ) == STATUS_SUCCESS,
           "the released range cannot be acquired" );
    check( portres_release( token ) == STATUS_SUCCESS, "release" );
    check_state_counts( 0, 0, "at the end" );
}

/* The server dies after carrying a request out and before answering it
 * (strace kills it as it sends the reply): the client sends the request
 * again to the next server, which answers it as the dead one would have,
 * without doing it twice. */
static void lost_reply( int release )
{
    char cmd[PATH_MAX * 2 + 256];
    struct query_port_reply info;
    portres_token_t token = 0, again;
    unsigned short start;
    unsigned int status;
    pid_t traced, next;

    test_prefix();
    find_server_dir();
    /* the 1st reply is init's, the 2nd the acquire's, the 3rd the release's */
    snprintf( cmd, sizeof(cmd), "strace -o /dev/null -e trace=sendto -e inject=sendto:signal=KILL:when=%u '%s' -f &",
              release ? 3 : 2, test_server_path() );
    check( system( cmd ) == 0, "cannot start the server under strace" );
    check( WAIT_FOR( (traced = server_pid()) > 0 ), "the traced server did not start" );
    start = test_free_ports( RANGE );
    status = portres_acquire( PORTRES_PROTO_TCP, start, RANGE, 0x10, &token, NULL, NULL );
    check( status == STATUS_SUCCESS, "acquire: %#x", status );
    if (release)
    {
        status = portres_release( token );
        check( status == STATUS_SUCCESS, "release whose reply was lost: %#x", status );
    }
    check( WAIT_FOR( process_gone( traced ) ), "the traced server %d did not die", (int)traced );
    status = test_query_port( PORTRES_PROTO_TCP, start, &info );
    next = server_pid();
    check( next > 0 && next != traced, "the query was answered with the lock held by %d, the traced server was %d",
           (int)next, (int)traced );
    if (release)
    {
        check( !status && !info.kind, "the released range: %#x, kind %u", status, info.kind );
        check_state_counts( 0, 0, "after the release" );
        return;
    }
    check( !status && info.is_mine && info.token == token, "the acquired range: %#x, mine %u, token %s", status,
           info.is_mine, info.token == token ? "the same" : "another" );
    /* one reservation, not two */
    check_state_counts( 1, 0, "after the acquire" );
    check( portres_acquire( PORTRES_PROTO_TCP, start, RANGE, 0x11, &again, NULL, NULL ) ==
           STATUS_ADDRESS_ALREADY_EXISTS, "the range was granted twice" );
    check( portres_release( token ) == STATUS_SUCCESS, "release of the token the lost reply had" );
}

TEST(test_lost_acquire_reply)
{
    lost_reply( 0 );
}

TEST(test_lost_release_reply)
{
    lost_reply( 1 );
}

/* a client that dies while there is no server loses its reservations */
TEST(test_owner_dies_meanwhile)
{
    struct report report;
    struct owner owner;
    struct crash crash;
    portres_token_t token;
    int status = -1;
    pid_t next;

    test_prefix();
    find_server_dir();
    start_owner( &owner, test_free_ports( RANGE ), &report );
    begin_crash( &crash );
    check( !kill( owner.pid, SIGKILL ), "cannot kill the owner %d: %s", (int)owner.pid, strerror( errno ) );
    check( waitpid( owner.pid, &status, 0 ) == owner.pid && WIFSIGNALED( status ) && WTERMSIG( status ) == SIGKILL,
           "the owner's status %#x", status );
    close( owner.to );
    close( owner.from );
    next = end_crash( &crash );
    check( WAIT_FOR( portres_acquire( PORTRES_PROTO_TCP, report.tcp_start, RANGE, 0x99, &token, NULL, NULL ) ==
                     STATUS_SUCCESS ), "the dead owner's range stays" );
    check_answered_by( next, "the acquire after the crash" );
    check( portres_release( token ) == STATUS_SUCCESS, "release" );
    check_state_counts( 0, 0, "at the end" );
}

/* Acquires one by one, each its own change that the keeper is sent but not
 * woken for (only a change that lets a hold go wakes it), then the server
 * dies with all of them unread: the keeper reads them after the server has
 * gone, every port stays held meanwhile, and none is granted again. */
#define UNREAD 40
TEST(test_unread_changes)
{
    portres_token_t tokens[UNREAD], token;
    unsigned short ports[UNREAD];
    struct test_tally held = { 0 }, released = { 0 };
    struct crash crash;
    unsigned int i, status;
    pid_t next;

    test_prefix();
    find_server_dir();
    for (i = 0; i < UNREAD; i++)
    {
        status = portres_acquire( PORTRES_PROTO_UDP, 0, 1, 0x200 + i, &tokens[i], &ports[i], NULL );
        check( status == STATUS_SUCCESS, "acquire %u: %#x", i, status );
    }
    begin_crash( &crash );
    for (i = 0; i < UNREAD; i++)
        tally( &held, test_bind( AF_INET, SOCK_DGRAM, ports[i], 0, NULL, NULL ) == EADDRINUSE,
               "port %u free on the host with no server", ports[i] );
    check_tally( &held, "holds with no server" );
    next = end_crash( &crash );
    check_state_counts( UNREAD, 0, "after the crash" );
    check_answered_by( next, "after the crash" );
    status = portres_acquire( PORTRES_PROTO_UDP, ports[0], 1, 0x99, &token, NULL, NULL );
    check( status == STATUS_ADDRESS_ALREADY_EXISTS, "a port acquired before the crash granted again: %#x", status );
    status = portres_acquire( PORTRES_PROTO_UDP, ports[UNREAD - 1], 1, 0x99, &token, NULL, NULL );
    check( status == STATUS_ADDRESS_ALREADY_EXISTS, "the last port acquired before the crash granted again: %#x",
           status );
    for (i = 0; i < UNREAD; i++)
        tally( &released, portres_release( tokens[i] ) == STATUS_SUCCESS, "release %u", i );
    check_tally( &released, "releases after the crash" );
    check_state_counts( 0, 0, "at the end" );
}

/* the keeper dies: the server gives a new one everything, and a crash
 * after that costs nothing either */
TEST(test_keeper_dies)
{
    struct report report;
    struct owner owner;
    struct prober prober;
    pid_t keeper, server, next_keeper = 0, next;

    test_prefix();
    find_server_dir();
    start_owner( &owner, test_free_ports( RANGE ), &report );
    keeper = test_keeper_pid( server_dir );
    server = server_pid();
    check( keeper > 0 && server > 0, "no keeper (%d) or no server (%d)", (int)keeper, (int)server );
    if (keeper <= 0 || server <= 0) return;
    start_prober( &prober, &report );
    wait_prober_round( &prober, "before the keeper died" );
    check( !kill( keeper, SIGKILL ), "cannot kill the keeper %d: %s", (int)keeper, strerror( errno ) );
    check( WAIT_FOR( process_gone( keeper ) ), "the killed keeper %d lives on", (int)keeper );
    check( WAIT_FOR( (next_keeper = test_keeper_pid( server_dir )) > 0 && next_keeper != keeper ),
           "no new keeper after the keeper %d was killed", (int)keeper );
    /* answered once the server has given the new keeper everything: both
     * dying before that would lose it */
    check_state_counts( 2, 1, "after the keeper died" );
    check_answered_by( server, "after the keeper died" );
    wait_prober_round( &prober, "after the keeper died" );
    /* the new keeper alone has what the next server gets */
    next = kill_server();
    check_state_counts( 2, 1, "after the keeper and the server died" );
    check_answered_by( next, "after the keeper and the server died" );
    check( test_keeper_pid( server_dir ) == next_keeper, "the new keeper %d did not outlive the server",
           (int)next_keeper );
    wait_prober_round( &prober, "after the server died" );
    stop_prober( &prober, "around the keeper's and the server's deaths" );
    check_taken( &report, "after the keeper and the server died" );
    finish_owner( &owner, &report );
    check_state_counts( 0, 0, "at the end" );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_holds_through_crash);
    RUN(test_lost_acquire_reply);
    RUN(test_lost_release_reply);
    RUN(test_owner_dies_meanwhile);
    RUN(test_unread_changes);
    RUN(test_keeper_dies);
    return test_summary();
}
