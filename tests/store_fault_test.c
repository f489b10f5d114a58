/*
 * Faults of the persistent store: a store that cannot be written (disk
 * full, read-only, refused, I/O errors, injected with strace into the
 * server's calls on its temporary file, and for real on a tiny tmpfs where
 * the sandbox permits mounting one), and a store that cannot be read whole
 * (torn, garbled, of another format, unreadable)
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

/*
 * A persistent change that cannot be saved must fail with the status that
 * says why, and leave everything as it was: the reservation is not there
 * (or still there, for a delete), the shared map has not changed by a bit,
 * the store file holds what it held, and the next server loads that.
 *
 * A store that cannot be loaded whole must not keep the prefix from
 * working: the server moves it aside to STORE.bad-TIMESTAMP, says so on
 * the standard error of the client that started it, starts with what it
 * could read and saves that; when it cannot move it aside, it serves
 * without ever writing the store and refuses persistent changes.
 *
 * The tests run as root in CI, where permission bits do not stop anything,
 * so the faults are injected: strace -P limits the injection to the calls
 * on one path, so only the store's own calls fail.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

#define MAX_ENTRIES 16

static const unsigned int protocols[2] = { PORTRES_PROTO_TCP, PORTRES_PROTO_UDP };
static const char * const protocol_names[2] = { "tcp", "udp" };

struct entry
{
    unsigned int       protocol;   /* index */
    unsigned short     start;
    unsigned short     count;
    unsigned long long token;
};

/* a persistent state: what a store holds */
struct state
{
    unsigned short dyn_start[2];
    unsigned short dyn_count[2];
    unsigned int   nb;
    struct entry   entries[MAX_ENTRIES];   /* tcp first, each protocol in port order */
};

static char prefix_dir[PORTRES_PATH_MAX];
static char store_path[PORTRES_PATH_MAX + 64];
static char tmp_path[PORTRES_PATH_MAX + 72];
static char lock_path[PORTRES_PATH_MAX + 64];
static char log_path[PORTRES_PATH_MAX + 64];
static char trace_path[PORTRES_PATH_MAX + 64];

static int init_paths( void )
{
    char dir[PORTRES_PATH_MAX];

    if (portres_prefix_dir( prefix_dir, sizeof(prefix_dir), 1 ) ||
        portres_server_dir( prefix_dir, dir, sizeof(dir), 1 ))
    {
        check( 0, "no prefix or server directory: %s", portres_error_message() );
        return 0;
    }
    snprintf( lock_path, sizeof(lock_path), "%s/lock", dir );
    portres_store_path( prefix_dir, store_path, sizeof(store_path) );
    snprintf( tmp_path, sizeof(tmp_path), "%s.tmp", store_path );
    snprintf( log_path, sizeof(log_path), "%s/stderr.log", dir );
    snprintf( trace_path, sizeof(trace_path), "%s/strace.out", dir );
    return 1;
}

static void write_file( const char *path, const char *text, size_t len )
{
    int fd = open( path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600 );

    check( fd != -1 && write( fd, text, len ) == (ssize_t)len, "cannot write %s: %s", path, strerror( errno ) );
    if (fd != -1) close( fd );
}

/* the text store_save() writes for a state */
static size_t format_store( const struct state *st, char *buf, size_t size )
{
    size_t len = 0;
    unsigned int p, i;

    len += snprintf( buf + len, size - len, "# written by store_fault_test\nportres-store 1\n" );
    for (p = 0; p < 2; p++)
        len += snprintf( buf + len, size - len, "dynamicport %s %u %u\n", protocol_names[p], st->dyn_start[p],
                         st->dyn_count[p] );
    for (i = 0; i < st->nb; i++)
        len += snprintf( buf + len, size - len, "reservation %s %u %u %016llx\n",
                         protocol_names[st->entries[i].protocol], st->entries[i].start, st->entries[i].count,
                         st->entries[i].token );
    len += snprintf( buf + len, size - len, "end\n" );
    return len;
}

/* the state in a store file, strictly in store_save()'s format; 0 when it is whole */
static int parse_store( const char *text, struct state *st )
{
    const char *line = text;
    char proto[8], buf[256];
    unsigned int start, count, header = 0, end = 0, dyn = 0;
    unsigned long long token;

    memset( st, 0, sizeof(*st) );
    while (*line)
    {
        const char *nl = strchr( line, '\n' );
        size_t len = nl ? (size_t)(nl - line) : strlen( line );

        if (!nl || len >= sizeof(buf)) return -1;
        memcpy( buf, line, len );
        buf[len] = 0;
        line = nl + 1;
        if (buf[0] == '#') continue;
        if (end) return -1;
        if (!header)
        {
            if (strcmp( buf, "portres-store 1" )) return -1;
            header = 1;
        }
        else if (!strcmp( buf, "end" )) end = 1;
        else if (sscanf( buf, "dynamicport %7s %u %u", proto, &start, &count ) == 3 && dyn < 2 &&
                 !strcmp( proto, protocol_names[dyn] ))
        {
            st->dyn_start[dyn] = start;
            st->dyn_count[dyn] = count;
            dyn++;
        }
        else if (sscanf( buf, "reservation %7s %u %u %llx", proto, &start, &count, &token ) == 4 &&
                 st->nb < MAX_ENTRIES)
        {
            st->entries[st->nb].protocol = strcmp( proto, "tcp" ) ? 1 : 0;
            st->entries[st->nb].start = start;
            st->entries[st->nb].count = count;
            st->entries[st->nb].token = token;
            st->nb++;
        }
        else return -1;
    }
    return end && dyn == 2 ? 0 : -1;
}

static int state_equal( const struct state *a, const struct state *b )
{
    unsigned int i;

    if (a->nb != b->nb || memcmp( a->dyn_start, b->dyn_start, sizeof(a->dyn_start) ) ||
        memcmp( a->dyn_count, b->dyn_count, sizeof(a->dyn_count) )) return 0;
    for (i = 0; i < a->nb; i++)
        if (a->entries[i].protocol != b->entries[i].protocol || a->entries[i].start != b->entries[i].start ||
            a->entries[i].count != b->entries[i].count || a->entries[i].token != b->entries[i].token) return 0;
    return 1;
}

static void add_entry( struct state *st, unsigned int protocol, unsigned short start, unsigned short count,
                       unsigned long long token )
{
    st->entries[st->nb].protocol = protocol;
    st->entries[st->nb].start = start;
    st->entries[st->nb].count = count;
    st->entries[st->nb].token = token;
    st->nb++;
}

static void default_state( struct state *st )
{
    memset( st, 0, sizeof(*st) );
    st->dyn_start[0] = st->dyn_start[1] = 49152;
    st->dyn_count[0] = st->dyn_count[1] = 16384;
}

/* the state the tests start from */
static void base_state( struct state *st )
{
    default_state( st );
    st->dyn_start[1] = 20000;
    st->dyn_count[1] = 1000;
    add_entry( st, 0, 24000, 4, 0x1111222233334444ULL );
    add_entry( st, 0, 24010, 2, 0x5555666677778888ULL );
    add_entry( st, 0, 24020, 8, 0x0123456789abcdefULL );
    add_entry( st, 1, 24000, 1, 0x0fedcba987654321ULL );
    add_entry( st, 1, 24100, 16, 0x2222333344445555ULL );
}

struct list_ctx
{
    struct state *st;
    unsigned int  protocol;
    unsigned int  runtime;
};

static int list_entry( void *ctx, const struct portres_entry *e )
{
    struct list_ctx *list = ctx;

    if (e->kind != PORTRES_KIND_PERSISTENT) list->runtime++;
    else if (list->st->nb < MAX_ENTRIES) add_entry( list->st, list->protocol, e->start, e->count, 0 );
    return 0;
}

/* the persistent state the server holds, with its tokens */
static int server_state( struct state *st )
{
    struct list_ctx list;
    struct test_tally lookups = { 0 };
    portres_token_t token;
    unsigned int p, i, status;

    memset( st, 0, sizeof(*st) );
    memset( &list, 0, sizeof(list) );
    list.st = st;
    for (p = 0; p < 2; p++)
    {
        list.protocol = p;
        if ((status = portres_list( protocols[p], list_entry, &list )) ||
            (status = portres_get_dynamic_range( protocols[p], &st->dyn_start[p], &st->dyn_count[p] )))
        {
            check( 0, "the server does not answer: status %#x: %s", status, portres_error_message() );
            return 0;
        }
    }
    for (i = 0; i < st->nb; i++)
    {
        status = portres_persistent_lookup( protocols[st->entries[i].protocol], st->entries[i].start,
                                            st->entries[i].count, &token );
        tally( &lookups, !status, "lookup %u: status %#x", st->entries[i].start, status );
        st->entries[i].token = token;
    }
    check_tally_maybe_empty( &lookups, "lookups of the listed reservations" );
    return 1;
}

static void print_state( const char *what, const struct state *st )
{
    unsigned int i;

    printf( "  %s: dynamic %u+%u %u+%u,", what, st->dyn_start[0], st->dyn_count[0], st->dyn_start[1],
            st->dyn_count[1] );
    for (i = 0; i < st->nb; i++)
        printf( " %s %u+%u %llx", protocol_names[st->entries[i].protocol], st->entries[i].start,
                st->entries[i].count, st->entries[i].token );
    printf( "\n" );
}

static void check_server_state( const struct state *expect, const char *what )
{
    struct state st;

    if (!server_state( &st )) return;
    check( state_equal( &st, expect ), "%s: the server does not hold the expected state", what );
    if (!state_equal( &st, expect ))
    {
        print_state( "server", &st );
        print_state( "expected", expect );
    }
}

static void check_clean( const char *what )
{
    char message[PORTRES_MAX_REPLY_DATA + 1];
    struct check_state_reply state;
    unsigned int status = portres_check_state( &state, message, sizeof(message) );

    check( !status, "%s: check_state: status %#x: %s", what, status, message );
}

/***********************************************************************
 *           servers
 */

static pid_t lock_owner( void )
{
    return test_lock_owner( lock_path );
}

/* stop the prefix's server, if one runs, and wait (10 s at most) until it is gone */
static int stop_server( int sig )
{
    pid_t pid = lock_owner();
    int i;

    portres_disconnect();
    if (!pid) return 1;
    kill( pid, sig );
    for (i = 0; i < 10000; i++)
    {
        if (lock_owner() != pid) return 1;
        test_sleep_ms( 1 );
    }
    return 0;
}

/* The server of the prefix in the foreground under strace, with a fault
 * injected into its calls on path; its standard error goes to log_path.
 * Returns strace's pid once the server holds its lock, 0 when it could
 * not start (*skip set when strace cannot trace here). */
static pid_t start_traced_server( const char *path, const char *inject, int *skip )
{
    pid_t pid;
    int i, status;

    *skip = 0;
    pid = test_start_traced_server( trace_path, log_path, path, inject );
    for (i = 0; i < 10000; i++)
    {
        if (lock_owner()) return pid;
        if (waitpid( pid, &status, WNOHANG ) == pid)
        {
            size_t len;
            char *text = test_read_file( log_path, &len );

            if (text && (strstr( text, "not permitted" ) || strstr( text, "cannot run strace" ))) *skip = 1;
            else check( 0, "the traced server did not start (status %#x): %s", status, text ? text : "" );
            free( text );
            return 0;
        }
        test_sleep_ms( 1 );
    }
    check( 0, "the traced server did not start within 10 s" );
    kill( pid, SIGKILL );
    waitpid( pid, &status, 0 );
    return 0;
}

/* SIGKILL, since LeakSanitizer fails at the exit of a traced process */
static void stop_traced_server( pid_t strace_pid )
{
    int status;

    check( stop_server( SIGKILL ), "the traced server did not stop" );
    if (!test_wait_child( strace_pid, &status, 10000 ))
    {
        check( 0, "strace did not end" );
        kill( strace_pid, SIGKILL );
        waitpid( strace_pid, &status, 0 );
    }
}

static int have_strace( void )
{
    if (system( "strace -V >/dev/null 2>&1" ) == 0) return 1;
    check( 0, "strace is not installed: run tools/install-deps" );
    return 0;
}

/* a copy of the shared map between two equal even generations */
static int copy_map( struct portres_map *copy )
{
    const struct portres_map *map = portres_get_map();
    unsigned int before, tries;

    check( map != NULL, "no map: %s", portres_error_message() );
    for (tries = 0; map && tries < 1000; tries++)
    {
        before = __atomic_load_n( &map->generation, __ATOMIC_ACQUIRE );
        if (!(before & 1))
        {
            memcpy( copy, map, sizeof(*copy) );
            __atomic_thread_fence( __ATOMIC_ACQUIRE );
            if (__atomic_load_n( &map->generation, __ATOMIC_RELAXED ) == before) return 1;
        }
        test_sleep_ms( 1 );
    }
    check( 0, "cannot read the map" );
    return 0;
}

static int maps_equal( const struct portres_map *a, const struct portres_map *b )
{
    return !memcmp( a->reserved, b->reserved, sizeof(a->reserved) ) &&
           !memcmp( a->runtime, b->runtime, sizeof(a->runtime) );
}

/***********************************************************************
 *           a store that cannot be written
 */

/* Each persistent change fails with the status that says why, and leaves
 * the server, the map and the store as they were.  what names the fault. */
static void check_refused_changes( const struct state *st, const char *store_text, size_t store_len,
                                   unsigned int expect, const char *what )
{
    static struct portres_map before, after;
    struct query_port_reply info;
    portres_token_t token = 0;
    unsigned short start, count;
    unsigned int status;
    size_t len;
    char *text;

    /* the server has loaded the store, and published it, once it answers */
    check( !portres_connect( NULL ), "%s: no server: %s", what, portres_error_message() );
    if (!copy_map( &before )) return;

    status = portres_persistent_create( PORTRES_PROTO_TCP, 24500, 4, 1, &token );
    check( status == expect, "%s: create: status %#x, expected %#x", what, status, expect );
    check( portres_persistent_lookup( PORTRES_PROTO_TCP, 24500, 4, &token ) == STATUS_NOT_FOUND,
           "%s: the reservation that could not be saved is there", what );
    check( !test_query_port( PORTRES_PROTO_TCP, 24501, &info ) && !info.kind, "%s: its port is reserved",
           what );

    status = portres_persistent_delete( PORTRES_PROTO_TCP, st->entries[1].start, st->entries[1].count, 1 );
    check( status == expect, "%s: delete: status %#x, expected %#x", what, status, expect );
    check( !portres_persistent_lookup( PORTRES_PROTO_TCP, st->entries[1].start, st->entries[1].count, &token ) &&
           token == st->entries[1].token, "%s: the reservation whose delete could not be saved is gone", what );

    status = portres_set_dynamic_range( PORTRES_PROTO_UDP, 30000, 2000, 1 );
    check( status == expect, "%s: set_dynamic_range: status %#x, expected %#x", what, status, expect );
    check( !portres_get_dynamic_range( PORTRES_PROTO_UDP, &start, &count ) && start == st->dyn_start[1] &&
           count == st->dyn_count[1], "%s: the dynamic range changed to %u+%u", what, start, count );

    if (copy_map( &after )) check( maps_equal( &before, &after ), "%s: the map changed", what );
    check_server_state( st, what );
    check_clean( what );
    text = test_read_file( store_path, &len );
    check( text && len == store_len && !memcmp( text, store_text, len ), "%s: the store file changed", what );
    free( text );
    check( access( tmp_path, F_OK ) == -1, "%s: a temporary file remains", what );
}

/* after the faulty server, a normal one loads the old state and saves again */
static void check_next_server( const struct state *st, const char *what )
{
    portres_token_t token;
    unsigned int status;

    check_server_state( st, what );
    status = portres_persistent_create( PORTRES_PROTO_TCP, 24500, 4, 1, &token );
    check( !status, "%s: the next server cannot save: status %#x", what, status );
    check( stop_server( SIGTERM ), "%s: the next server did not stop", what );
}

TEST(test_save_faults)
{
    static const struct
    {
        const char  *inject;
        unsigned int status;
    }
    faults[] =
    {
        { "inject=write:error=ENOSPC", STATUS_DISK_FULL },
        { "inject=write:error=EDQUOT", STATUS_DISK_FULL },
        { "inject=fsync:error=ENOSPC", STATUS_DISK_FULL },
        { "inject=fsync:error=EIO", STATUS_UNEXPECTED_IO_ERROR },
        { "inject=close:error=EIO", STATUS_UNEXPECTED_IO_ERROR },
        { "inject=openat,open,creat:error=EROFS", STATUS_MEDIA_WRITE_PROTECTED },
        { "inject=openat,open,creat:error=EACCES", STATUS_ACCESS_DENIED },
        { "inject=openat,open,creat:error=ENOSPC", STATUS_DISK_FULL },
        { "inject=rename,renameat,renameat2:error=EROFS", STATUS_MEDIA_WRITE_PROTECTED },
        { "inject=rename,renameat,renameat2:error=EACCES", STATUS_ACCESS_DENIED },
    };
    static char store_text[8192];
    struct state st;
    unsigned int i;
    pid_t strace_pid;
    size_t len;
    int skip;

    test_prefix();
    if (!have_strace() || !init_paths()) return;
    base_state( &st );
    len = format_store( &st, store_text, sizeof(store_text) );
    for (i = 0; i < sizeof(faults) / sizeof(faults[0]) && !test_failures(); i++)
    {
        write_file( store_path, store_text, len );
        if (!(strace_pid = start_traced_server( tmp_path, faults[i].inject, &skip )))
        {
            if (skip) test_skip( "strace cannot trace the server here" );
            return;
        }
        check_refused_changes( &st, store_text, len, faults[i].status, faults[i].inject );
        stop_traced_server( strace_pid );
        check_next_server( &st, faults[i].inject );
        printf( "%s: refused with %#x, nothing changed\n", faults[i].inject, faults[i].status );
    }
}

/* The same for real, where the sandbox lets us mount: a tmpfs of 256 kB as
 * the prefix, filled up, then made read-only.  The mount lives in a mount
 * namespace of the test's own, which the server it starts shares. */
TEST(test_real_disk_full)
{
    static char store_text[8192], filler_path[PORTRES_PATH_MAX + 16], buf[4096], cmd[PORTRES_PATH_MAX + 16];
    const char *prefix = test_prefix();
    char server_dir[PORTRES_PATH_MAX];
    struct state st;
    unsigned int status;
    portres_token_t token;
    size_t len;
    char *text;
    int fd;

    if (unshare( CLONE_NEWNS ) == -1 || mount( NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL ) == -1)
    {
        test_skip( "no mount namespace here: %s", strerror( errno ) );
        return;
    }
    if (mount( "tmpfs", prefix, "tmpfs", 0, "size=256k,mode=0700" ) == -1)
    {
        test_skip( "cannot mount a tmpfs here: %s", strerror( errno ) );
        return;
    }
    if (!init_paths()) goto done;
    base_state( &st );
    len = format_store( &st, store_text, sizeof(store_text) );
    write_file( store_path, store_text, len );
    check_server_state( &st, "tmpfs" );

    /* full */
    snprintf( filler_path, sizeof(filler_path), "%s/filler", prefix );
    fd = open( filler_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600 );
    check( fd != -1, "cannot create %s: %s", filler_path, strerror( errno ) );
    memset( buf, 'x', sizeof(buf) );
    while (fd != -1 && write( fd, buf, sizeof(buf) ) > 0);
    check( errno == ENOSPC, "filling the tmpfs ended with %s", strerror( errno ) );
    if (fd != -1) close( fd );
    check_refused_changes( &st, store_text, len, STATUS_DISK_FULL, "a full tmpfs" );
    unlink( filler_path );
    status = portres_persistent_create( PORTRES_PROTO_TCP, 24500, 4, 1, &token );
    check( !status, "no save once there is room again: status %#x", status );
    status = portres_persistent_delete( PORTRES_PROTO_TCP, 24500, 4, 1 );
    check( !status, "no save once there is room again: status %#x", status );

    /* read-only */
    check( mount( NULL, prefix, NULL, MS_REMOUNT | MS_RDONLY, NULL ) == 0, "remount read-only: %s",
           strerror( errno ) );
    if ((text = test_read_file( store_path, &len )))
        check_refused_changes( &st, text, len, STATUS_MEDIA_WRITE_PROTECTED, "a read-only tmpfs" );
    free( text );
    check( mount( NULL, prefix, NULL, MS_REMOUNT, NULL ) == 0, "remount read-write: %s", strerror( errno ) );
    check_next_server( &st, "tmpfs" );
    printf( "a real tmpfs: full and read-only, refused, nothing changed\n" );

done:
    /* the server directory of the mounted prefix, which the harness does not know */
    test_stop_server();
    if (!portres_server_dir( prefix, server_dir, sizeof(server_dir), 0 ))
    {
        snprintf( cmd, sizeof(cmd), "rm -rf '%s'", server_dir );
        check( system( cmd ) == 0, "cannot remove %s", server_dir );
    }
    check( umount2( prefix, MNT_DETACH ) == 0, "umount: %s", strerror( errno ) );
}

/***********************************************************************
 *           a store that cannot be read whole
 */

/* the files beside the store that the server set aside */
static unsigned int count_aside( char names[][NAME_MAX + 1], unsigned int max )
{
    const char *base = strrchr( store_path, '/' ) + 1;
    size_t base_len = strlen( base );
    unsigned int nb = 0;
    struct dirent *de;
    DIR *dir = opendir( prefix_dir );

    while (dir && (de = readdir( dir )))
    {
        if (strncmp( de->d_name, base, base_len ) || strncmp( de->d_name + base_len, ".bad-", 5 )) continue;
        if (nb < max) snprintf( names[nb], NAME_MAX + 1, "%s", de->d_name );
        nb++;
    }
    if (dir) closedir( dir );
    return nb;
}

/* insert a string into a text at pos */
static void insert_text( char *text, size_t *len, size_t pos, const char *str )
{
    size_t n = strlen( str );

    memmove( text + pos + n, text + pos, *len - pos + 1 );
    memcpy( text + pos, str, n );
    *len += n;
}

/* start a server through the client library, as any client does, with its
 * messages in log_path */
static unsigned int connect_logged( void )
{
    unsigned int status;
    int saved, fd;

    fflush( stderr );
    saved = dup( 2 );
    fd = open( log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600 );
    dup2( fd, 2 );
    status = portres_connect( NULL );
    dup2( saved, 2 );
    close( saved );
    close( fd );
    return status;
}

TEST(test_damaged_store)
{
    static char text[16384], line[8192], names[8][NAME_MAX + 1], path[PORTRES_PATH_MAX + NAME_MAX + 2];
    static struct state st, expect, saved;
    static const char * const kinds[] =
    {
        "torn in a line", "torn after a line", "garbled lines", "an over-long line", "another format", "empty",
        "no end line", "binary junk",
    };
    unsigned int kind, nb_aside = 0, n, status, found;
    portres_token_t token;
    size_t len, aside_len, log_len;
    char *aside, *log, *p;

    test_prefix();
    if (!init_paths()) return;
    for (kind = 0; kind < sizeof(kinds) / sizeof(kinds[0]) && !test_failures(); kind++)
    {
        base_state( &st );
        len = format_store( &st, text, sizeof(text) );
        expect = st;
        switch (kind)
        {
        case 0:  /* cut in the middle of the fourth reservation: the first three remain */
            p = strstr( text, "reservation udp 24000" );
            len = p - text + 20;
            expect.nb = 3;
            break;
        case 1:  /* cut after the second reservation's line */
            p = strstr( text, "reservation tcp 24020" );
            len = p - text;
            expect.nb = 2;
            break;
        case 2:  /* junk, an overlap, a duplicate token, a bad protocol, bad ranges among good lines */
            snprintf( line, sizeof(line), "garbage here\nreservation tcp 24001 2 1234\n"
                      "reservation udp 25000 1 %016llx\nreservation sctp 25010 1 99\n"
                      "reservation tcp 65535 2 77\ndynamicport tcp 80 10\n", st.entries[0].token );
            insert_text( text, &len, strstr( text, "reservation tcp 24010" ) - text, line );
            break;
        case 3:  /* a line of 5000 characters after the first reservation */
            memset( line, '7', 5000 );
            line[5000] = '\n';
            line[5001] = 0;
            insert_text( text, &len, strstr( text, "reservation tcp 24010" ) - text, line );
            break;
        case 4:
            p = strstr( text, "portres-store 1" );
            p[14] = '2';
            default_state( &expect );
            break;
        case 5:
            len = 0;
            default_state( &expect );
            break;
        case 6:
            p = strstr( text, "end\n" );
            len = p - text;
            break;
        case 7:
            for (len = 0; len < 3000; len++) text[len] = (char)(len * 7919 % 251);
            default_state( &expect );
            break;
        }
        write_file( store_path, text, len );

        status = connect_logged();
        check( !status, "%s: no server: %s", kinds[kind], portres_error_message() );
        if (status) break;
        check_server_state( &expect, kinds[kind] );
        check_clean( kinds[kind] );

        /* loudly, and the damaged file kept byte for byte */
        log = test_read_file( log_path, &log_len );
        check( log && strstr( log, "damaged" ) && strstr( log, ".bad-" ), "%s: the server said: %s", kinds[kind],
               log ? log : "nothing" );
        if (log && kind < 3) printf( "%s: %s", kinds[kind], log );
        free( log );
        n = count_aside( names, 8 );
        check( n == nb_aside + 1, "%s: %u files set aside, expected %u", kinds[kind], n, nb_aside + 1 );
        nb_aside = n;
        for (n = found = 0; n < nb_aside && n < 8; n++)
        {
            snprintf( path, sizeof(path), "%s/%.255s", prefix_dir, names[n] );
            aside = test_read_file( path, &aside_len );
            found |= aside && aside_len == len && !memcmp( aside, text, len );
            free( aside );
        }
        check( found, "%s: no file set aside holds the damaged store", kinds[kind] );

        /* the store now holds what was read, and the server saves as usual */
        aside = test_read_file( store_path, &aside_len );
        check( aside && !parse_store( aside, &saved ) && state_equal( &saved, &expect ),
               "%s: the store does not hold what was read", kinds[kind] );
        free( aside );
        status = portres_persistent_create( PORTRES_PROTO_UDP, 24500, 4, 1, &token );
        check( !status, "%s: create after the recovery: status %#x", kinds[kind], status );
        check( stop_server( SIGTERM ), "%s: the server did not stop", kinds[kind] );
        add_entry( &expect, 1, 24500, 4, token );
        check( connect_logged() == STATUS_SUCCESS, "%s: no second server", kinds[kind] );
        check_server_state( &expect, kinds[kind] );
        log = test_read_file( log_path, &log_len );
        check( log && !log_len, "%s: the second server complains: %s", kinds[kind], log ? log : "" );
        free( log );
        check( stop_server( SIGTERM ), "%s: the server did not stop", kinds[kind] );
    }
    printf( "%u damaged stores set aside and recovered from\n", nb_aside );
}

/* A damaged store that cannot be moved aside (injected EROFS on the
 * rename): the server serves what it could read and refuses persistent
 * changes instead of overwriting the file.  And a store that cannot be
 * opened at all (injected EIO) is set aside and the server starts empty. */
TEST(test_damaged_store_stuck)
{
    static char text[8192];
    struct state st, expect;
    struct query_port_reply info;
    portres_token_t token;
    unsigned short first;
    pid_t strace_pid;
    size_t len, cur_len, log_len;
    char *cur, *log, names[2][NAME_MAX + 1];
    int skip;

    test_prefix();
    if (!have_strace() || !init_paths()) return;
    base_state( &st );
    len = format_store( &st, text, sizeof(text) ) - 4;   /* no end line */
    write_file( store_path, text, len );
    if (!(strace_pid = start_traced_server( store_path, "inject=rename,renameat,renameat2:error=EROFS", &skip )))
    {
        if (skip) test_skip( "strace cannot trace the server here" );
        return;
    }
    check_server_state( &st, "stuck" );
    check( portres_persistent_create( PORTRES_PROTO_TCP, 24500, 4, 1, &token ) == STATUS_MEDIA_WRITE_PROTECTED,
           "a persistent change was accepted" );
    check( portres_persistent_lookup( PORTRES_PROTO_TCP, 24500, 4, &token ) == STATUS_NOT_FOUND,
           "the refused reservation is there" );
    check( portres_acquire( PORTRES_PROTO_TCP, 24600, 2, 0x10, &token, &first, NULL ) == STATUS_SUCCESS,
           "runtime reservations do not work" );
    check( !test_query_port( PORTRES_PROTO_TCP, 24601, &info ) && info.kind == PORTRES_KIND_RUNTIME,
           "the runtime reservation is not there" );
    check_clean( "stuck" );
    stop_traced_server( strace_pid );
    cur = test_read_file( store_path, &cur_len );
    check( cur && cur_len == len && !memcmp( cur, text, len ), "the damaged store was changed" );
    free( cur );
    check( count_aside( names, 2 ) == 0, "a file was set aside" );
    log = test_read_file( log_path, &log_len );
    check( log && strstr( log, "cannot move" ) && strstr( log, "refusing persistent changes" ),
           "the server said: %s", log ? log : "nothing" );
    free( log );

    /* unreadable: set aside, and the server starts with nothing */
    len = format_store( &st, text, sizeof(text) );
    write_file( store_path, text, len );
    if (!(strace_pid = start_traced_server( store_path, "inject=openat,open:error=EIO", &skip ))) return;
    default_state( &expect );
    check_server_state( &expect, "unreadable" );
    stop_traced_server( strace_pid );
    check( count_aside( names, 2 ) == 1, "the unreadable store was not set aside" );
    log = test_read_file( log_path, &log_len );
    check( log && strstr( log, "cannot read" ) && strstr( log, "kept it as" ), "the server said: %s",
           log ? log : "nothing" );
    free( log );
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_save_faults);
    RUN(test_real_disk_full);
    RUN(test_damaged_store);
    RUN(test_damaged_store_stuck);
    return test_summary();
}
