/*
 * A small harness for the Linux-side tests
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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"
#include "../server/engine.h"
#include "../server/server.h"

#define EXIT_SKIPPED 77

/* The counts of the checks of the case that runs, in memory shared with
 * its child (and the processes that child forks): a check is counted in the
 * process that makes it, so the counts survive the child's crash. */
struct case_counts
{
    unsigned int passed, failed, skipped;
};

static struct case_counts *counts;
static int failures;    /* the failed checks of this process, for test_failures() */
static int skipped;
static unsigned int passed_total, failed_total, skipped_total;
static const char *current_name = "";
static char prefix[PATH_MAX];
static char server[PATH_MAX];

/* made before the first fork: the children count into it */
static void init_counts( void )
{
    if (counts) return;
    counts = mmap( NULL, sizeof(*counts), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0 );
    if (counts == MAP_FAILED)
    {
        perror( "mmap" );
        exit( 1 );
    }
    memset( counts, 0, sizeof(*counts) );
}

/* the counts so far go into the totals; the next case starts from 0 */
static void take_counts( struct case_counts *taken )
{
    taken->passed = __atomic_exchange_n( &counts->passed, 0, __ATOMIC_SEQ_CST );
    taken->failed = __atomic_exchange_n( &counts->failed, 0, __ATOMIC_SEQ_CST );
    taken->skipped = __atomic_exchange_n( &counts->skipped, 0, __ATOMIC_SEQ_CST );
    passed_total += taken->passed;
    failed_total += taken->failed;
    skipped_total += taken->skipped;
}

void test_init( int argc, char *argv[] )
{
    const char *env = getenv( "PORTRES_SERVER" );
    char self[PATH_MAX], *slash;
    ssize_t len;

    setvbuf( stdout, NULL, _IOLBF, 0 );
    init_counts();
    if (env && *env)
    {
        snprintf( server, sizeof(server), "%s", env );
        return;
    }
    /* the server of the same build flavour, beside us in the build tree */
    len = readlink( "/proc/self/exe", self, sizeof(self) - 1 );
    self[len > 0 ? len : 0] = 0;
    if ((slash = strrchr( self, '/' ))) *slash = 0;
    if (snprintf( server, sizeof(server), "%s/../server/portres-server%s", self,
                  strstr( argv[0], "-san" ) ? "-san" : "" ) >= (int)sizeof(server))
    {
        printf( "path of the server too long: %s\n", self );
        exit( 1 );
    }
    setenv( "PORTRES_SERVER", server, 1 );
}

const char *test_server_path( void )
{
    return server;
}

void test_check( const char *file, int line, int cond, const char *format, ... )
{
    va_list args;

    init_counts();
    if (cond)
    {
        __atomic_add_fetch( &counts->passed, 1, __ATOMIC_SEQ_CST );
        return;
    }
    __atomic_add_fetch( &counts->failed, 1, __ATOMIC_SEQ_CST );
    failures++;
    printf( "%s:%d: %s: check failed: ", file, line, current_name );
    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    printf( "\n" );
}

int test_tally( struct test_tally *tally, int cond, const char *format, ... )
{
    va_list args;

    tally->count++;
    if (cond) return cond;
    if (!tally->failed++)
    {
        va_start( args, format );
        vsnprintf( tally->first, sizeof(tally->first), format, args );
        va_end( args );
    }
    return cond;
}

void test_check_tally( const char *file, int line, const struct test_tally *tally, const char *what,
                       int may_be_empty )
{
    if (!tally->count) test_check( file, line, may_be_empty, "none of the %s ran", what );
    else test_check( file, line, !tally->failed, "%u of %u %s failed%s%s", tally->failed, tally->count, what,
                     tally->failed ? ", the first: " : "", tally->failed ? tally->first : "" );
}

void test_skip( const char *format, ... )
{
    va_list args;

    init_counts();
    __atomic_add_fetch( &counts->skipped, 1, __ATOMIC_SEQ_CST );
    skipped = 1;
    printf( "%s: skipped: ", current_name );
    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    printf( "\n" );
}

int test_failures( void )
{
    return failures;
}

void test_stop_server( void )
{
    char cmd[PATH_MAX * 2 + 64];
    int status;

    if (!prefix[0]) return;
    /* exit status 2: no server runs (any more), which is fine here */
    snprintf( cmd, sizeof(cmd), "WINEPREFIX='%s' '%s' -k 2>/dev/null", prefix, server );
    status = system( cmd );
    if (status == -1 || !WIFEXITED( status ) || (WEXITSTATUS( status ) != 0 && WEXITSTATUS( status ) != 2))
        printf( "%s: could not stop the server of %s\n", current_name, prefix );
}

/* stop the prefix's server and remove the prefix and the server's directory */
static void remove_prefix( void )
{
    char cmd[PATH_MAX * 2 + 32], dir[PORTRES_PATH_MAX];

    if (!prefix[0]) return;
    test_stop_server();
    if (portres_server_dir( prefix, dir, sizeof(dir), 0 )) dir[0] = 0;
    snprintf( cmd, sizeof(cmd), "rm -rf '%s' '%s'", prefix, dir );
    if (system( cmd )) printf( "cannot remove %s\n", prefix );
    prefix[0] = 0;
}

const char *test_prefix( void )
{
    remove_prefix();
    snprintf( prefix, sizeof(prefix), "/tmp/portres-test-XXXXXX" );
    if (!mkdtemp( prefix ))
    {
        perror( "mkdtemp" );
        exit( 1 );
    }
    setenv( "WINEPREFIX", prefix, 1 );
    return prefix;
}

/* Run a test case in a child.  Each check() of the case counts as passed
 * or failed, each test_skip() as skipped; a child that dies or exits with a
 * failure but had no failed check counts one failure.  The case passes
 * when it exits 0 with no failed check. */
void run_test( const char *name, void (*func)( void ) )
{
    struct case_counts got;
    int status, crashed;
    pid_t pid;

    init_counts();
    take_counts( &got );  /* checks made outside a case */
    fflush( stdout );
    if (!(pid = fork()))
    {
        current_name = name;
        prefix[0] = 0;
        alarm( 120 );  /* a hung test fails rather than hanging the run */
        failures = 0;
        skipped = 0;
        func();
        remove_prefix();
        fflush( stdout );
        _exit( failures ? 1 : skipped ? EXIT_SKIPPED : 0 );
    }
    while (waitpid( pid, &status, 0 ) == -1 && errno == EINTR);
    take_counts( &got );
    crashed = !WIFEXITED( status ) || (WEXITSTATUS( status ) != 0 && WEXITSTATUS( status ) != EXIT_SKIPPED);
    if (WIFSIGNALED( status )) printf( "%s: killed by signal %d\n", name, WTERMSIG( status ) );
    if (crashed && !got.failed)
    {
        if (WIFEXITED( status )) printf( "%s: exit status %d with no failed check\n", name, WEXITSTATUS( status ) );
        failed_total++;
    }
    if (crashed || got.failed) printf( "FAIL %s\n", name );
    else if (WEXITSTATUS( status ) == EXIT_SKIPPED) printf( "SKIP %s\n", name );
    else printf( "PASS %s\n", name );
}

/* free for every protocol and family, as the server's own probe sees it */
static int port_free( unsigned int port )
{
    return !host_port_in_use( NULL, ENGINE_TCP, port ) && !host_port_in_use( NULL, ENGINE_UDP, port );
}

/* Blocks are looked for between 10000 and the start of Linux's automatic
 * range (32768), where nothing binds unless asked to; tests running at the
 * same time start at different places. */
unsigned short test_free_ports( unsigned int count )
{
    enum { LOW = 10000, HIGH = 32768 };
    unsigned int span = HIGH - LOW, offset, tried, run = 0, port;

    if (!count || count > span)
    {
        printf( "%s: no block of %u ports can be free\n", current_name, count );
        exit( 1 );
    }
    offset = ((unsigned int)getpid() * 2654435761u) % span;
    for (tried = 0; tried < span + count; tried++)
    {
        port = LOW + (offset + tried) % span;
        if (port == LOW) run = 0;  /* wrapped around: a block does not span the ends */
        if (!port_free( port ))
        {
            run = 0;
            continue;
        }
        if (++run == count) return port - count + 1;
    }
    printf( "%s: no block of %u free ports between %u and %u\n", current_name, count, LOW, HIGH - 1 );
    exit( 1 );
}

/* bind the entries of the hidden /tmp (old_fd) back into the new one, but
 * for the server directories of this user: the build tree, the test's
 * prefix and whatever else lives in /tmp stay where they were */
static int restore_tmp_entries( int old_fd )
{
    char top[64], source[64 + NAME_MAX], target[16 + NAME_MAX];
    struct dirent *entry;
    DIR *dir;
    int fd;

    snprintf( top, sizeof(top), ".portres-%u", (unsigned int)getuid() );
    if ((fd = openat( old_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC )) == -1 || !(dir = fdopendir( fd )))
        return -1;
    while ((entry = readdir( dir )))
    {
        struct stat st;

        if (!strcmp( entry->d_name, "." ) || !strcmp( entry->d_name, ".." ) || !strcmp( entry->d_name, top ))
            continue;
        if (fstatat( old_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW ) == -1) continue;
        snprintf( source, sizeof(source), "/proc/self/fd/%d/%s", old_fd, entry->d_name );
        snprintf( target, sizeof(target), "/tmp/%s", entry->d_name );
        if (S_ISDIR( st.st_mode ))
        {
            if (mkdir( target, 0700 ) == -1) continue;
        }
        else if (S_ISREG( st.st_mode ))
        {
            int file = open( target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600 );
            if (file == -1) continue;
            close( file );
        }
        else continue;
        mount( source, target, "none", MS_BIND | MS_REC, NULL );
    }
    closedir( dir );
    return 0;
}

int test_private_tmp( void )
{
    int old_fd;

    if (unshare( CLONE_NEWNS ) == -1)
    {
        printf( "%s: cannot make a mount namespace: %s\n", current_name, strerror( errno ) );
        return -1;
    }
    old_fd = open( "/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC );
    if (old_fd == -1 || mount( "none", "/", "none", MS_REC | MS_PRIVATE, NULL ) == -1 ||
        mount( "portres-test", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" ) == -1 ||
        restore_tmp_entries( old_fd ) == -1)
    {
        printf( "%s: cannot mount a private /tmp: %s\n", current_name, strerror( errno ) );
        if (old_fd != -1) close( old_fd );
        return -1;
    }
    close( old_fd );
    return 0;
}

void test_sleep_ms( int ms )
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep( &ts, NULL );
}

int test_wait_child( pid_t pid, int *status, int ms )
{
    int i;

    for (i = 0; i <= ms; i++)
    {
        if (waitpid( pid, status, WNOHANG ) == pid) return 1;
        test_sleep_ms( 1 );
    }
    return 0;
}

pid_t test_lock_owner( const char *lock_path )
{
    int pid = portres_lock_holder( lock_path );

    return pid > 0 ? pid : 0;
}

unsigned int test_query_port( unsigned int protocol, unsigned short port, struct query_port_reply *info )
{
    return portres_query_port( protocol, port, &info->kind, &info->start, &info->count, &info->owner_pid,
                               &info->is_mine, &info->token );
}

int test_wait_for( int (*pred)( const void *ctx ), const void *ctx )
{
    int i;

    for (i = 0; i < 1000; i++)
    {
        if (pred( ctx )) return 1;
        test_sleep_ms( 10 );
    }
    return 0;
}

/* The server of the prefix in the foreground under strace -f, writing its
 * trace to trace_path and its output to log_path; the calls on path only
 * (-P) when given, a fault injected (-e) when given.  strace dies with us;
 * the server then goes 10 s after its last client (-p10).  Returns strace's
 * pid at once. */
pid_t test_start_traced_server( const char *trace_path, const char *log_path, const char *path,
                                const char *inject )
{
    pid_t parent = getpid(), pid;
    const char *argv[16];
    int n = 0, fd;

    fflush( stdout );
    if ((pid = fork())) return pid;
    prctl( PR_SET_PDEATHSIG, SIGKILL );
    if (getppid() != parent) _exit( 1 );
    if ((fd = open( log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600 )) != -1)
    {
        dup2( fd, 1 );
        dup2( fd, 2 );
    }
    argv[n++] = "strace";
    argv[n++] = "-f";
    argv[n++] = "-o";
    argv[n++] = trace_path;
    if (path)
    {
        argv[n++] = "-P";
        argv[n++] = path;
    }
    if (inject)
    {
        argv[n++] = "-e";
        argv[n++] = inject;
    }
    argv[n++] = "--";
    argv[n++] = test_server_path();
    argv[n++] = "-f";
    argv[n++] = "-p10";
    argv[n++] = "--no-keeper";   /* a kill is the store's test, not the keeper's */
    argv[n] = NULL;
    execvp( argv[0], (char **)argv );
    fprintf( stderr, "cannot run strace: %s\n", strerror( errno ) );
    _exit( 127 );
}

char *test_read_file( const char *path, size_t *len )
{
    size_t size = 4096, done = 0;
    char *buf = malloc( size + 1 );
    ssize_t ret;
    int fd;

    *len = 0;
    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) == -1)
    {
        int err = errno;

        free( buf );
        errno = err;
        return NULL;
    }
    while (buf && (ret = read( fd, buf + done, size - done )) > 0)
    {
        done += ret;
        if (done == size) buf = realloc( buf, (size *= 2) + 1 );
    }
    close( fd );
    if (!buf) return NULL;
    buf[done] = 0;
    *len = done;
    return buf;
}

double test_now( void )
{
    struct timespec ts;

    clock_gettime( CLOCK_MONOTONIC, &ts );
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: reproducible from the printed seed */
static unsigned long long rng_state;

void test_rng_seed( unsigned long long seed )
{
    rng_state = seed;
}

unsigned long long test_rng_next( void )
{
    unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

unsigned int test_rng_below( unsigned int n )
{
    return test_rng_next() % n;
}

/* bind a fresh socket to a port of the loopback (IPv4) or of every address
 * (IPv6, with the system's default V6ONLY), with SO_REUSEADDR and
 * SO_REUSEPORT if asked: 0 and the port it got, or the errno; the socket
 * stays open in *fd_out when asked for */
int test_bind( int family, int type, unsigned short port, int reuse, unsigned short *got, int *fd_out )
{
    struct sockaddr_storage addr;
    socklen_t len;
    int fd, on = 1, ret = 0;

    if ((fd = socket( family, type | SOCK_CLOEXEC, 0 )) == -1) return errno;
    if (reuse)
    {
        setsockopt( fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on) );
        setsockopt( fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on) );
    }
    memset( &addr, 0, sizeof(addr) );
    if (family == AF_INET6)
    {
        ((struct sockaddr_in6 *)&addr)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons( port );
        len = sizeof(struct sockaddr_in6);
    }
    else
    {
        ((struct sockaddr_in *)&addr)->sin_family = AF_INET;
        ((struct sockaddr_in *)&addr)->sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        ((struct sockaddr_in *)&addr)->sin_port = htons( port );
        len = sizeof(struct sockaddr_in);
    }
    if (bind( fd, (struct sockaddr *)&addr, len )) ret = errno;
    else if (got)
    {
        len = sizeof(addr);
        getsockname( fd, (struct sockaddr *)&addr, &len );
        *got = ntohs( family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                         : ((struct sockaddr_in *)&addr)->sin_port );
    }
    if (fd_out && !ret) *fd_out = fd;
    else close( fd );
    return ret;
}

/* the keeper works in the server directory and names itself portres-keeper */
pid_t test_keeper_pid( const char *server_dir )
{
    char path[300], link[PATH_MAX], comm[32];
    struct dirent *entry;
    pid_t found = 0;
    ssize_t len;
    DIR *proc;
    FILE *file;

    if (!(proc = opendir( "/proc" ))) return 0;
    while (!found && (entry = readdir( proc )))
    {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        snprintf( path, sizeof(path), "/proc/%s/comm", entry->d_name );
        if (!(file = fopen( path, "r" ))) continue;
        if (!fgets( comm, sizeof(comm), file )) comm[0] = 0;
        fclose( file );
        if (strcmp( comm, "portres-keeper\n" )) continue;
        snprintf( path, sizeof(path), "/proc/%s/cwd", entry->d_name );
        if ((len = readlink( path, link, sizeof(link) - 1 )) <= 0) continue;
        link[len] = 0;
        if (!strcmp( link, server_dir )) found = atoi( entry->d_name );
    }
    closedir( proc );
    return found;
}

int test_summary( void )
{
    struct case_counts got;

    init_counts();
    take_counts( &got );  /* checks made after the last case */
    printf( "RESULT passed=%u failed=%u skipped=%u\n", passed_total, failed_total, skipped_total );
    return failed_total ? 1 : 0;
}
