/*
 * portres-server: the port reservation server of a Wine prefix
 *
 * One server per prefix, as the wineserver: started on demand by the first
 * client, it takes an fcntl lock in its private directory, listens on an
 * AF_UNIX socket there, and only then tells its starter to go on, so that
 * racing starters end with one server.  It exits a few seconds after its
 * last client leaves, unless told to persist.
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
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "keeper.h"
#include "portres/client.h"

#define DEFAULT_LINGER 3
/* ms between two looks at the Wine sockets whose reservations the server
 * keeps, at the least */
#define SWEEP_INTERVAL 250

/* what the command line asks */
struct options
{
    int foreground;
    int kill_signal;
    int wait;
    int linger;        /* seconds; -1 for ever */
    int keeper;
};

static char prefix[PORTRES_PATH_MAX];
static char server_dir[PORTRES_PATH_MAX];
static char socket_path[PORTRES_PATH_MAX + 32];
static char lock_path[PORTRES_PATH_MAX + 32];
static char map_path[PORTRES_PATH_MAX + 32];
static char store_path[PORTRES_PATH_MAX + 32];

static void usage( FILE *out )
{
    fprintf( out,
             "Usage: portres-server [options]\n"
             "The port reservation server of the Wine prefix $WINEPREFIX (default ~/.wine).\n"
             "Clients start it when needed; it is seldom run by hand.\n\n"
             "Options:\n"
             "   -d[n], --debug[=n]       trace requests to stderr\n"
             "   -f, --foreground         stay in the foreground\n"
             "   -h, --help               show this help\n"
             "   -k[n], --kill[=n]        stop the running server (with signal n) and wait for it;\n"
             "                            exits with 2 when no server runs, 1 when it cannot stop it\n"
             "       --no-keeper          serve without a keeper: a crash of the server then loses\n"
             "                            the runtime reservations (for tests of the store)\n"
             "   -p[n], --persistent[=n]  stay n seconds after the last client (default: forever)\n"
             "   -v, --version            show the version\n"
             "   -w, --wait               wait until the running server exits (at once if none runs)\n" );
}

/* A runtime reservation holds a descriptor a port: as many as the system
 * lets a process have (the hard limit; raised to fs.nr_open where we may) */
static void raise_descriptor_limit( void )
{
    struct rlimit limit;
    unsigned long nr_open = 0;
    FILE *file;

    if (getrlimit( RLIMIT_NOFILE, &limit ) == -1) return;
    if ((file = fopen( "/proc/sys/fs/nr_open", "r" )))
    {
        if (fscanf( file, "%lu", &nr_open ) != 1) nr_open = 0;
        fclose( file );
    }
    if (nr_open > limit.rlim_max)
    {
        struct rlimit raised = { nr_open, nr_open };
        if (!setrlimit( RLIMIT_NOFILE, &raised )) return;
    }
    limit.rlim_cur = limit.rlim_max;
    setrlimit( RLIMIT_NOFILE, &limit );
}

/* the pid holding the server lock, 0 when none, -1 on error */
static int lock_owner( void )
{
    return portres_lock_holder( lock_path );
}

static void sleep_ms( int ms )
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep( &ts, NULL );
}

/* what -k says and returns when the prefix has no server; -w has nothing
 * to wait for then, and succeeds */
static int no_server( int kill_signal )
{
    if (!kill_signal) return 0;
    fprintf( stderr, "portres-server: no server is running for %s\n", prefix );
    return 2;
}

/* -k and -w: act on the running server and wait until it has gone (after
 * a crash, its keeper may have started the next one); -k exits 0 when it
 * stopped one, 2 when none runs, 1 when it could not tell or stop it */
static int kill_or_wait( int kill_signal, int wait )
{
    int pid, waited;

    if ((pid = lock_owner()) == -1)
    {
        fprintf( stderr, "portres-server: cannot read the lock %s: %s\n", lock_path, strerror( errno ) );
        return 1;
    }
    if (!pid) return no_server( kill_signal );
    if (kill_signal && kill( pid, kill_signal ) == -1)
    {
        fprintf( stderr, "portres-server: cannot signal the server (pid %d): %s\n", pid, strerror( errno ) );
        return 1;
    }
    for (waited = 0; lock_owner() == pid; waited += 10)
    {
        if (!wait && waited >= 10000)
        {
            fprintf( stderr, "portres-server: the server (pid %d) did not stop; killing it\n", pid );
            kill( pid, SIGKILL );
            wait = 1;
        }
        sleep_ms( 10 );
    }
    return 0;
}

/* take the lock of the server directory; 0 taken, 2 held by another server, 1 error */
static int take_lock( void )
{
    struct flock fl;
    int fd;

    if ((fd = open( lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600 )) == -1)
    {
        fprintf( stderr, "portres-server: cannot open %s: %s\n", lock_path, strerror( errno ) );
        return 1;
    }
    memset( &fl, 0, sizeof(fl) );
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl( fd, F_SETLK, &fl ) == -1)
    {
        close( fd );
        if (errno == EACCES || errno == EAGAIN) return 2;
        fprintf( stderr, "portres-server: cannot lock %s: %s\n", lock_path, strerror( errno ) );
        return 1;
    }
    return 0;  /* fd stays open: the lock lives as long as the process */
}

/* the map of reserved ports that clients read; a client that mapped the file
 * of an earlier server keeps a valid view, since the file is reused and never
 * shrinks (a reader of a truncated mapping would get SIGBUS) */
static struct portres_map *open_map( void )
{
    struct portres_map *map;
    struct stat st;
    int fd;

    if ((fd = open( map_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600 )) == -1 || fstat( fd, &st ) == -1 ||
        (st.st_size < (off_t)sizeof(*map) && ftruncate( fd, sizeof(*map) ) == -1))
    {
        fprintf( stderr, "portres-server: cannot create %s: %s\n", map_path, strerror( errno ) );
        if (fd != -1) close( fd );
        return NULL;
    }
    map = mmap( NULL, sizeof(*map), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0 );
    close( fd );
    if (map == MAP_FAILED)
    {
        fprintf( stderr, "portres-server: cannot map %s: %s\n", map_path, strerror( errno ) );
        return NULL;
    }
    return map;
}

static int open_socket( void )
{
    struct sockaddr_un addr;
    mode_t mask;
    int fd;

    memset( &addr, 0, sizeof(addr) );
    addr.sun_family = AF_UNIX;
    if (snprintf( addr.sun_path, sizeof(addr.sun_path), "%s", socket_path ) >= (int)sizeof(addr.sun_path))
    {
        fprintf( stderr, "portres-server: the socket path %s is too long\n", socket_path );
        return -1;
    }
    if ((fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0 )) == -1)
    {
        perror( "portres-server: socket" );
        return -1;
    }
    unlink( socket_path );  /* a dead server's; we hold the lock */
    mask = umask( 077 );
    if (bind( fd, (struct sockaddr *)&addr, sizeof(addr) ) == -1 || listen( fd, 128 ) == -1)
    {
        fprintf( stderr, "portres-server: cannot listen on %s: %s\n", socket_path, strerror( errno ) );
        umask( mask );
        close( fd );
        return -1;
    }
    umask( mask );
    chmod( socket_path, 0600 );
    return fd;
}

/* fork; the parent waits for the child to say it listens and exits with its status */
static int daemonize( int *sync_fd )
{
    int fds[2];
    char status;

    if (pipe2( fds, O_CLOEXEC ) == -1)
    {
        perror( "portres-server: pipe" );
        return -1;
    }
    switch (fork())
    {
    case -1:
        perror( "portres-server: fork" );
        return -1;
    case 0:
        close( fds[0] );
        setsid();
        *sync_fd = fds[1];
        return 0;
    default:
    {
        ssize_t ret;

        close( fds[1] );
        while ((ret = read( fds[0], &status, 1 )) == -1 && errno == EINTR);
        exit( ret == 1 ? status : 1 );
    }
    }
}

static void tell_starter( int sync_fd, char status )
{
    if (sync_fd == -1) return;
    while (write( sync_fd, &status, 1 ) == -1 && errno == EINTR);
    close( sync_fd );
}

static void detach_output( void )
{
    int fd = open( "/dev/null", O_RDWR );

    if (fd == -1) return;
    dup2( fd, 0 );
    dup2( fd, 1 );
    if (!debug_level) dup2( fd, 2 );
    if (fd > 2) close( fd );
}

/***********************************************************************
 *           the server's lifetime: signals, sweeps, idleness
 */

static struct fd signals;
static struct fd wineserver;           /* the prefix's wineserver's pidfd, when known */
static struct timeout_user sweep_timer;
static struct timeout_user idle_timer;
static int linger_time;                /* seconds; -1 for ever */
static long long idle_since;           /* when the last client left */
static int had_clients;

static void signal_poll_event( struct fd *fd, short revents )
{
    stop_loop();  /* asked to stop */
}

static int open_signals( void )
{
    sigset_t set;
    int fd;

    signal( SIGPIPE, SIG_IGN );
    sigemptyset( &set );
    sigaddset( &set, SIGTERM );
    sigaddset( &set, SIGINT );
    sigaddset( &set, SIGHUP );
    sigaddset( &set, SIGQUIT );
    sigprocmask( SIG_BLOCK, &set, NULL );
    if ((fd = signalfd( -1, &set, SFD_CLOEXEC | SFD_NONBLOCK )) == -1 ||
        add_fd( &signals, fd, POLLIN, signal_poll_event ) == -1)
    {
        perror( "portres-server: signalfd" );
        if (fd != -1) close( fd );
        return -1;
    }
    return 0;
}

/* Wine sockets can end without a word to us (CloseHandle, a CRT _close, a
 * duplicate in another process): they are looked at every SWEEP_INTERVAL
 * ms or more while there are any, and at once when the wineserver exits */
static void sweep( void *arg )
{
    long long start = now_ms(), next;

    wineserver_new_round();
    engine_sweep( engine );
    journal_commit();
    reap_sessions();
    /* a sweep costs a readlink a socket: it takes no more than 1% of the
     * time, however many sockets there are */
    next = (now_ms() - start) * 100;
    if (next < SWEEP_INTERVAL) next = SWEEP_INTERVAL;
    add_timeout( &sweep_timer, start + next, sweep, NULL );
}

static void wineserver_poll_event( struct fd *fd, short revents )
{
    remove_fd( fd );
    wineserver_exited();
    sweep( NULL );
}

/* the wineserver whose sockets are looked at, waited on */
static void watch_wineserver( void )
{
    int fd = wineserver_pidfd();

    if (fd == (wineserver.poll_event ? wineserver.unix_fd : -1)) return;
    remove_fd( &wineserver );
    if (fd != -1) add_fd( &wineserver, fd, POLLIN, wineserver_poll_event );
}

static void idle_timeout( void *arg )
{
    stop_loop();
}

/* before each wait: the sweeps run while there is anything to sweep, and
 * the server stops linger seconds after it had nothing left to serve */
static void before_poll( void )
{
    int sweeping = engine_nb_wine_sockets( engine ) || get_nb_detached();

    if (!sweeping) remove_timeout( &sweep_timer );
    else if (!sweep_timer.callback) add_timeout( &sweep_timer, now_ms() + SWEEP_INTERVAL, sweep, NULL );
    if (get_nb_connections()) had_clients = 1;
    else if (had_clients)
    {
        idle_since = now_ms();
        had_clients = 0;
    }
    if (get_nb_connections() || sweeping || linger_time < 0) remove_timeout( &idle_timer );
    else if (!idle_timer.callback) add_timeout( &idle_timer, idle_since + linger_time * 1000LL, idle_timeout, NULL );
    watch_wineserver();
    wineserver_new_round();
}

/* serve until a signal or, with linger >= 0, linger seconds without
 * clients nor anything that outlives them */
static int serve( int listen_fd, int linger )
{
    int ret;

    linger_time = linger;
    idle_since = now_ms();
    if (open_signals() == -1 || open_listener( listen_fd ) == -1) return -1;
    ret = main_loop( before_poll );
    /* a stop: the keeper lets go of everything, as the server does */
    journal_close();
    close_sessions();
    close_listener();
    remove_fd( &signals );
    close( signals.unix_fd );
    remove_fd( &wineserver );
    free_fds();
    return ret;
}

/***********************************************************************
 *           the command line
 */

/* the options; -1 when they are wrong, 0 when the program has done what they ask */
static int parse_options( int argc, char *argv[], struct options *options )
{
    static const struct option long_options[] =
    {
        { "debug", optional_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { "kill", optional_argument, NULL, 'k' },
        { "no-keeper", no_argument, NULL, 'K' },
        { "persistent", optional_argument, NULL, 'p' },
        { "version", no_argument, NULL, 'v' },
        { "wait", no_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 }
    };
    int opt;

    memset( options, 0, sizeof(*options) );
    options->linger = DEFAULT_LINGER;
    options->keeper = 1;
    while ((opt = getopt_long( argc, argv, "d::fhk::p::vw", long_options, NULL )) != -1)
    {
        switch (opt)
        {
        case 'd': debug_level = optarg ? atoi( optarg ) : 1; break;
        case 'f': options->foreground = 1; break;
        case 'h': usage( stdout ); return 0;
        case 'k': options->kill_signal = optarg ? atoi( optarg ) : SIGTERM; break;
        case 'K': options->keeper = 0; break;
        case 'p': options->linger = optarg ? atoi( optarg ) : -1; break;
        case 'v': printf( "portres-server protocol %08x\n", PORTRES_PROTOCOL_VERSION ); return 0;
        case 'w': options->wait = 1; break;
        default:  usage( stderr ); return -1;
        }
    }
    if (optind < argc || options->kill_signal < 0 || options->kill_signal >= NSIG)
    {
        usage( stderr );
        return -1;
    }
    return 1;
}

/* the prefix and the server directory, made when starting; 0 when found,
 * else the exit status */
static int find_paths( int start, int kill_signal )
{
    if (portres_prefix_dir( prefix, sizeof(prefix), start ) == -1 ||
        portres_server_dir( prefix, server_dir, sizeof(server_dir), start ) == -1)
    {
        /* no prefix, no server (prefix has its path even so) */
        if (!start && errno == ENOENT) return no_server( kill_signal );
        fprintf( stderr, "portres-server: %s\n", portres_error_message() );
        return 1;
    }
    snprintf( socket_path, sizeof(socket_path), "%s/socket", server_dir );
    snprintf( lock_path, sizeof(lock_path), "%s/lock", server_dir );
    snprintf( map_path, sizeof(map_path), "%s/map", server_dir );
    portres_store_path( prefix, store_path, sizeof(store_path) );
    return -1;
}

/* The engine starts on a map of its own, and takes back from the keeper
 * what an earlier server left, if one died; then the map that clients read
 * gets all of it at once: they never see a reservation missing. */
static int open_state( int keeper )
{
    static const struct engine_callbacks host_callbacks = { journal_port_in_use, host_random_token,
                                                             host_socket_alive, journal_hold, journal_unhold,
                                                             host_hold_valid, journal_record, NULL };
    struct portres_map *map;

    if (!(map = open_map()) || init_reservations( store_path, NULL, &host_callbacks ) == -1 ||
        (keeper && restore_open( server_dir ) == -1))
        return -1;
    engine_publish( engine, map );
    return 0;
}

/* the server itself: its lock, its state, its socket, then the loop */
static int run_server( const struct options *options )
{
    int listen_fd, sync_fd = -1, ret;

    if (!options->foreground && daemonize( &sync_fd ) == -1) return 1;
    if ((ret = take_lock()))
    {
        tell_starter( sync_fd, ret );
        return ret;
    }
    wineserver_init( prefix );
    raise_descriptor_limit();
    if (open_state( options->keeper ) == -1 || (listen_fd = open_socket()) == -1)
    {
        tell_starter( sync_fd, 1 );
        return 1;
    }
    if (debug_level) fprintf( stderr, "portres-server: pid %d serving %s\n", (int)getpid(), prefix );
    tell_starter( sync_fd, 0 );
    if (!options->foreground) detach_output();
    if (chdir( server_dir ) == -1 && chdir( "/" ) == -1) perror( "portres-server: chdir" );

    ret = serve( listen_fd, options->linger );
    unlink( socket_path );
    close( listen_fd );
    close_reservations();
    return ret ? 1 : 0;
}

int main( int argc, char *argv[] )
{
    struct options options;
    int ret, start;

    /* the keeper (server/keeper.c), started by a server as this program */
    if (argc == 3 && !strcmp( argv[1], "--keeper" )) return keeper_main( argv[2] );

    if ((ret = parse_options( argc, argv, &options )) <= 0) return ret ? 1 : 0;
    /* descriptors inherited from a client would keep its pipes open */
    closefrom( 3 );
    start = !options.kill_signal && !options.wait;
    if ((ret = find_paths( start, options.kill_signal )) != -1) return ret;
    if (!start) return kill_or_wait( options.kill_signal, options.wait );
    return run_server( &options );
}
