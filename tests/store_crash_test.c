/*
 * Crash safety of the persistent store: a server writing a large store is
 * killed with SIGKILL at randomly chosen system calls of the write (strace's
 * fault injection), and the store must then hold exactly the old or the new
 * state, never a torn or empty one, and a new server must load it
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
 * What is checked after each kill: the store parses strictly (every line
 * in store_save()'s format, up to the end line) and is either byte for
 * byte the file before the request or exactly the state after it; kills
 * before the rename leave the old state and kills after it the new one;
 * whatever temporary file the kill left (none, torn or whole), a server
 * started by the client library, as any client starts one, lists exactly
 * that state and looks up the tokens.  The create-or-delete walk keeps
 * the store at TCP_ENTRIES tcp reservations or one more.
 *
 * A SIGKILL tests the crash of the server process, not of the machine:
 * written data stays in the page cache, so the fsync() calls are not
 * tested here (a power cut would be).
 *
 * How a kill point is chosen: strace's "inject=NAME:signal=KILL:when=N"
 * kills the process when it enters its N-th call of NAME, before the call
 * runs.  strace counts calls per name, so a point of the save is named by
 * the call's name and its ordinal in the process.  Two calibration runs
 * (one create, one delete, without injection) trace the server and list the
 * calls from opening the temporary file up to the reply; every trial then
 * picks one of them at random and kills the server there.  Every trial is
 * traced too, so the test sees where the kill really landed rather than
 * trusting the calibration.  The counts are the same in every run because
 * the server starts the same way each time, a created reservation always
 * has CREATE_COUNT ports (the server probes each port with a few calls
 * before saving) and every store line has the same length, so the store
 * of each size always takes the same number of write() calls.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

#define NB_PROTOCOLS 2
#define SLOT_BASE    10000  /* reservation slot i may use ports SLOT_BASE + 10 * i .. + 9 */
#define NB_SLOTS     5553   /* so that every start has five digits and every count one */
#define TCP_ENTRIES  3000   /* ~125 kB of store: some 30 write() calls of stdio's buffer */
#define UDP_ENTRIES  100
#define CREATE_COUNT 4
#define TRIALS       240
#define MIN_KILLS    200    /* trials whose kill must land inside the save */
#define MAX_WINDOW   512
#define MAX_NAMES    256

enum { OP_CREATE, OP_DELETE, NB_OPS };
static const char * const op_names[NB_OPS] = { "create", "delete" };

static const unsigned int protocols[NB_PROTOCOLS] = { PORTRES_PROTO_TCP, PORTRES_PROTO_UDP };
static const char * const protocol_names[NB_PROTOCOLS] = { "tcp", "udp" };

struct entry
{
    unsigned short     start;
    unsigned short     count;
    unsigned long long token;  /* in an expected state, 0 matches any token */
};

/* what a store holds */
struct state
{
    unsigned short dyn_start[NB_PROTOCOLS];
    unsigned short dyn_count[NB_PROTOCOLS];
    unsigned int   nb[NB_PROTOCOLS];
    struct entry   entries[NB_PROTOCOLS][NB_SLOTS];  /* in port order */
};

/* one persistent change, to tcp */
struct op
{
    int          type;   /* OP_CREATE or OP_DELETE */
    struct entry entry;  /* the reservation created (token 0) or deleted */
};

/* a system call of the server: the occurrence-th call of name */
struct point
{
    char         name[24];
    unsigned int occurrence;
};

/* what a trace of the server shows */
struct trace
{
    struct point window[MAX_WINDOW];  /* the calls from opening the temporary file to the reply */
    unsigned int nb_window;
    int          complete;            /* the window ends with the reply */
    int          killed;              /* the server was killed by SIGKILL */
    int          last;                /* index in the window of the last call, -1 when outside it */
    struct point last_call;
};

static char store_path[PORTRES_PATH_MAX + 64];
static char tmp_path[PORTRES_PATH_MAX + 72];
static char lock_path[PORTRES_PATH_MAX + 64];
static char socket_path[PORTRES_PATH_MAX + 64];
static char trace_path[PORTRES_PATH_MAX + 64];
static char log_path[PORTRES_PATH_MAX + 64];

static int init_paths( void )
{
    char prefix[PORTRES_PATH_MAX], dir[PORTRES_PATH_MAX];

    if (portres_prefix_dir( prefix, sizeof(prefix), 1 ) || portres_server_dir( prefix, dir, sizeof(dir), 1 ))
    {
        check( 0, "no prefix or server directory: %s", portres_error_message() );
        return 0;
    }
    snprintf( lock_path, sizeof(lock_path), "%s/lock", dir );
    snprintf( socket_path, sizeof(socket_path), "%s/socket", dir );
    portres_store_path( prefix, store_path, sizeof(store_path) );
    snprintf( tmp_path, sizeof(tmp_path), "%s.tmp", store_path );
    snprintf( trace_path, sizeof(trace_path), "%s/strace.out", prefix );
    snprintf( log_path, sizeof(log_path), "%s/strace.log", prefix );
    return 1;
}

/* pid holding the server lock of the prefix, 0 if none */
static pid_t lock_owner( void )
{
    return test_lock_owner( lock_path );
}

/* stop the server of the prefix, if one runs, and wait (10 s at most) until it is gone */
static int stop_server( int sig )
{
    pid_t pid = lock_owner();
    int i;

    if (!pid) return 1;
    kill( pid, sig );
    for (i = 0; i < 10000; i++)
    {
        if (lock_owner() != pid) return 1;
        test_sleep_ms( 1 );
    }
    return 0;
}

/* the whole of a file, NUL-terminated; NULL when it does not exist */
static char *read_file( const char *path, size_t *len )
{
    char *text = test_read_file( path, len );

    /* a file that is not there is an answer, not a check */
    if (!text && errno != ENOENT) check( 0, "cannot read %s: %s", path, strerror( errno ) );
    return text;
}

static void write_store( const char *path, const struct state *st )
{
    FILE *file = fopen( path, "w" );
    unsigned int p, i;

    check( file != NULL, "cannot create %s: %s", path, strerror( errno ) );
    if (!file) return;
    fprintf( file, "# written by store_crash_test\nportres-store 1\n" );
    for (p = 0; p < NB_PROTOCOLS; p++)
        fprintf( file, "dynamicport %s %u %u\n", protocol_names[p], st->dyn_start[p], st->dyn_count[p] );
    for (p = 0; p < NB_PROTOCOLS; p++)
        for (i = 0; i < st->nb[p]; i++)
            fprintf( file, "reservation %s %u %u %016llx\n", protocol_names[p], st->entries[p][i].start,
                     st->entries[p][i].count, st->entries[p][i].token );
    fprintf( file, "end\n" );
    check( fclose( file ) == 0, "cannot write %s", path );
}

static int protocol_index( const char *name )
{
    int p;

    for (p = 0; p < NB_PROTOCOLS; p++) if (!strcmp( name, protocol_names[p] )) return p;
    return -1;
}

/* parse a store as store_save() writes it, strictly: every line exactly in
 * its format, in order, up to the end line.  0 when it is whole, -1 with
 * the reason otherwise (an empty or torn file among them). */
static int parse_store( const char *text, size_t len, struct state *st, char *why, size_t size )
{
    const char *line, *end = text + len, *nl;
    char buf[128], canon[128], proto[8];
    unsigned int start, count, version, line_no = 0, dyn = 0, header = 0, done = 0;
    unsigned long long token;
    int p, last = 0;

    memset( st, 0, sizeof(*st) );
    for (line = text; line < end; line = nl + 1)
    {
        line_no++;
        if (!(nl = memchr( line, '\n', end - line )))
        {
            snprintf( why, size, "line %u is cut short", line_no );
            return -1;
        }
        if (nl - line >= (ptrdiff_t)sizeof(buf))
        {
            snprintf( why, size, "line %u is too long", line_no );
            return -1;
        }
        memcpy( buf, line, nl - line );
        buf[nl - line] = 0;
        canon[0] = 0;
        if (buf[0] == '#') continue;
        if (done)
        {
            snprintf( why, size, "line %u follows the end line", line_no );
            return -1;
        }
        if (!header)
        {
            if (sscanf( buf, "portres-store %u", &version ) == 1)
                snprintf( canon, sizeof(canon), "portres-store %u", version );
            if (strcmp( buf, canon ) || version != 1) goto bad;
            header = 1;
        }
        else if (!strcmp( buf, "end" ))
        {
            if (dyn != NB_PROTOCOLS) goto bad;
            done = 1;
        }
        else if (sscanf( buf, "dynamicport %7s %u %u", proto, &start, &count ) == 3)
        {
            snprintf( canon, sizeof(canon), "dynamicport %s %u %u", proto, start, count );
            if (strcmp( buf, canon ) || dyn >= NB_PROTOCOLS || protocol_index( proto ) != (int)dyn ||
                st->nb[0] || st->nb[1] || start > 65535 || count > 65535) goto bad;
            st->dyn_start[dyn] = start;
            st->dyn_count[dyn] = count;
            dyn++;
        }
        else if (sscanf( buf, "reservation %7s %u %u %llx", proto, &start, &count, &token ) == 4)
        {
            snprintf( canon, sizeof(canon), "reservation %s %u %u %016llx", proto, start, count, token );
            if (strcmp( buf, canon ) || dyn != NB_PROTOCOLS || (p = protocol_index( proto )) < last ||
                !token || !count || start + count > 65536 || st->nb[p] == NB_SLOTS) goto bad;
            if (st->nb[p] && st->entries[p][st->nb[p] - 1].start >= start) goto bad;
            st->entries[p][st->nb[p]].start = start;
            st->entries[p][st->nb[p]].count = count;
            st->entries[p][st->nb[p]].token = token;
            st->nb[p]++;
            last = p;
        }
        else goto bad;
    }
    if (!done)
    {
        snprintf( why, size, "%s (%zu bytes, %u lines), no end line", len ? "torn" : "empty", len, line_no );
        return -1;
    }
    return 0;

bad:
    snprintf( why, size, "line %u is wrong: '%.60s'", line_no, buf );
    return -1;
}

/* 1 when st equals expect; an entry of expect with token 0 takes any token */
static int state_equal( const struct state *st, const struct state *expect )
{
    unsigned int p, i;

    for (p = 0; p < NB_PROTOCOLS; p++)
    {
        if (st->dyn_start[p] != expect->dyn_start[p] || st->dyn_count[p] != expect->dyn_count[p]) return 0;
        if (st->nb[p] != expect->nb[p]) return 0;
        for (i = 0; i < st->nb[p]; i++)
        {
            const struct entry *a = &st->entries[p][i], *b = &expect->entries[p][i];
            if (a->start != b->start || a->count != b->count) return 0;
            if (b->token ? a->token != b->token : !a->token) return 0;
        }
    }
    return 1;
}

/* index of the tcp entry starting at start, or -1 */
static int find_entry( const struct state *st, unsigned short start )
{
    unsigned int i;

    for (i = 0; i < st->nb[0]; i++) if (st->entries[0][i].start == start) return i;
    return -1;
}

/* the state after op */
static void apply_op( const struct state *old, const struct op *op, struct state *new )
{
    unsigned int i;
    int index;

    if (new != old) *new = *old;
    if (op->type == OP_DELETE)
    {
        if ((index = find_entry( old, op->entry.start )) < 0) return;
        memmove( &new->entries[0][index], &new->entries[0][index + 1],
                 (new->nb[0] - index - 1) * sizeof(struct entry) );
        new->nb[0]--;
        return;
    }
    for (i = 0; i < new->nb[0] && new->entries[0][i].start < op->entry.start; i++);
    memmove( &new->entries[0][i + 1], &new->entries[0][i], (new->nb[0] - i) * sizeof(struct entry) );
    new->entries[0][i] = op->entry;
    new->nb[0]++;
}

/* whether a bind to a tcp port fails now, as the server's own probe sees it */
static int tcp_port_busy( unsigned short port )
{
    struct sockaddr_in6 addr6;
    struct sockaddr_in addr4;
    int fd, one = 1, busy = 0;

    if ((fd = socket( AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0 )) != -1)
    {
        memset( &addr4, 0, sizeof(addr4) );
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons( port );
        busy |= bind( fd, (struct sockaddr *)&addr4, sizeof(addr4) ) == -1 && errno == EADDRINUSE;
        close( fd );
    }
    if ((fd = socket( AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0 )) != -1)
    {
        setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one) );
        memset( &addr6, 0, sizeof(addr6) );
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons( port );
        busy |= bind( fd, (struct sockaddr *)&addr6, sizeof(addr6) ) == -1 && errno == EADDRINUSE;
        close( fd );
    }
    return busy;
}

/* whether ports lie in the host's range for automatic binds, where another
 * process could take one between our probe and the server's */
static int in_automatic_range( unsigned short start, unsigned short count )
{
    static unsigned int low, high;

    if (!low) portres_auto_port_range( &low, &high );
    return start <= high && (unsigned int)start + count - 1 >= low;
}

/* a create in a free slot whose ports nobody uses, or a delete of a random
 * entry, so that the number of tcp entries stays TCP_ENTRIES or one more */
static void choose_op( const struct state *st, struct op *op )
{
    unsigned int i, tries;

    memset( op, 0, sizeof(*op) );
    if (st->nb[0] > TCP_ENTRIES)
    {
        op->type = OP_DELETE;
        op->entry = st->entries[0][test_rng_below( st->nb[0] )];
        return;
    }
    op->type = OP_CREATE;
    op->entry.count = CREATE_COUNT;
    for (tries = 0;; tries++)
    {
        op->entry.start = SLOT_BASE + 10 * test_rng_below( NB_SLOTS );
        if (find_entry( st, op->entry.start ) >= 0) continue;
        if (tries < 1000 && in_automatic_range( op->entry.start, CREATE_COUNT )) continue;
        for (i = 0; i < CREATE_COUNT; i++) if (tcp_port_busy( op->entry.start + i )) break;
        if (i == CREATE_COUNT) return;
    }
}

/* one frame each way; 0, or -1 when the connection broke */
static int exchange( int fd, const union generic_request *req, union generic_reply *reply )
{
    size_t done = 0;
    ssize_t ret;

    if (send( fd, req, sizeof(*req), MSG_NOSIGNAL ) != sizeof(*req)) return -1;
    while (done < sizeof(*reply) && (ret = recv( fd, (char *)reply + done, sizeof(*reply) - done, 0 )) > 0)
        done += ret;
    return done == sizeof(*reply) ? 0 : -1;
}

/* The op on a connection of its own, in the protocol's frames: a server
 * killed while it saves shows as a broken connection, where the client
 * library would send the request again to the next server. */
static unsigned int send_op( const struct op *op, unsigned long long *token )
{
    union generic_request req;
    union generic_reply reply;
    struct sockaddr_un addr;
    unsigned int status = STATUS_CONNECTION_RESET;
    int fd, tries;

    memset( &addr, 0, sizeof(addr) );
    addr.sun_family = AF_UNIX;
    if (strlen( socket_path ) >= sizeof(addr.sun_path)) return STATUS_CONNECTION_REFUSED;
    memcpy( addr.sun_path, socket_path, strlen( socket_path ) );
    /* the server takes its lock before it listens */
    for (tries = 0;; tries++)
    {
        if ((fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 )) == -1) return STATUS_CONNECTION_REFUSED;
        if (!connect( fd, (struct sockaddr *)&addr, sizeof(addr) )) break;
        close( fd );
        if (tries == 10000 || (errno != ECONNREFUSED && errno != ENOENT)) return STATUS_CONNECTION_REFUSED;
        test_sleep_ms( 1 );
    }
    memset( &req, 0, sizeof(req) );
    req.init_request.__header.req = REQ_init;
    req.init_request.version = PORTRES_PROTOCOL_VERSION;
    if (exchange( fd, &req, &reply ) || reply.reply_header.status) goto done;
    memset( &req, 0, sizeof(req) );
    if (op->type == OP_DELETE)
    {
        req.persistent_delete_request.__header.req = REQ_persistent_delete;
        req.persistent_delete_request.protocol = PORTRES_PROTO_TCP;
        req.persistent_delete_request.start = op->entry.start;
        req.persistent_delete_request.count = op->entry.count;
        req.persistent_delete_request.elevated = 1;
    }
    else
    {
        req.persistent_create_request.__header.req = REQ_persistent_create;
        req.persistent_create_request.protocol = PORTRES_PROTO_TCP;
        req.persistent_create_request.start = op->entry.start;
        req.persistent_create_request.count = op->entry.count;
        req.persistent_create_request.elevated = 1;
    }
    if (exchange( fd, &req, &reply )) goto done;
    status = reply.reply_header.status;
    if (op->type == OP_CREATE) *token = reply.persistent_create_reply.token;
done:
    close( fd );
    return status;
}

/* TCP_ENTRIES + UDP_ENTRIES reservations in distinct slots, random counts and tokens */
static void make_state( struct state *st )
{
    static unsigned char used[NB_SLOTS];
    unsigned int p, i, slot, n;

    memset( st, 0, sizeof(*st) );
    for (p = 0; p < NB_PROTOCOLS; p++)
    {
        st->dyn_start[p] = 49152;
        st->dyn_count[p] = 16384;
        memset( used, 0, sizeof(used) );
        n = p ? UDP_ENTRIES : TCP_ENTRIES;
        for (i = 0; i < n; i++)
        {
            while (used[slot = test_rng_below( NB_SLOTS )]);
            used[slot] = 1;
        }
        for (slot = 0; slot < NB_SLOTS; slot++)
        {
            if (!used[slot]) continue;
            st->entries[p][st->nb[p]].start = SLOT_BASE + 10 * slot;
            st->entries[p][st->nb[p]].count = 1 + test_rng_below( 9 );
            while (!(st->entries[p][st->nb[p]].token = test_rng_next()));
            st->nb[p]++;
        }
    }
}

/* the server of the prefix in the foreground under strace, optionally with
 * a kill injected; returns strace's pid */
static pid_t start_traced_server( const char *inject )
{
    return test_start_traced_server( trace_path, log_path, NULL, inject );
}

static pid_t parent_of( pid_t pid )
{
    char path[64], buf[512], *p;
    int fd, ppid = 0;
    ssize_t len;

    snprintf( path, sizeof(path), "/proc/%d/stat", (int)pid );
    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) == -1) return 0;
    len = read( fd, buf, sizeof(buf) - 1 );
    close( fd );
    if (len <= 0) return 0;
    buf[len] = 0;
    if ((p = strrchr( buf, ')' ))) sscanf( p + 1, " %*c %d", &ppid );
    return ppid;
}

/* wait (10 s at most) until the traced server holds the lock; its pid, or 0
 * when strace ended first (*ended set) or another process holds the lock */
static pid_t wait_traced_server( pid_t strace_pid, int *ended, int *status )
{
    pid_t pid;
    int i;

    *ended = 0;
    for (i = 0; i < 10000; i++)
    {
        if ((pid = lock_owner()))
        {
            if (parent_of( pid ) == strace_pid) return pid;
            check( 0, "process %d, not the traced server, holds the lock", (int)pid );
            return 0;
        }
        if (waitpid( strace_pid, status, WNOHANG ) == strace_pid)
        {
            *ended = 1;
            return 0;
        }
        test_sleep_ms( 1 );
    }
    check( 0, "the traced server did not start within 10 s" );
    return 0;
}

/* the first line of strace's own messages */
static void strace_message( char *buf, size_t size )
{
    size_t len;
    char *text = read_file( log_path, &len ), *nl;

    snprintf( buf, size, "%s", text && *text ? text : "(no message)" );
    if ((nl = strchr( buf, '\n' ))) *nl = 0;
    free( text );
}

/* end a run: strace should end by itself; if not, kill the server */
static void reap_strace( pid_t strace_pid, pid_t server_pid )
{
    int status;

    if (test_wait_child( strace_pid, &status, 10000 )) return;
    check( 0, "strace %d did not end; killing the server %d", (int)strace_pid, (int)server_pid );
    kill( server_pid, SIGKILL );
    if (!test_wait_child( strace_pid, &status, 10000 ))
    {
        kill( strace_pid, SIGKILL );
        waitpid( strace_pid, &status, 0 );
    }
}

static int read_trace( struct trace *trace )
{
    static struct { char name[24]; unsigned int count; } counts[MAX_NAMES];
    unsigned int nb_counts = 0, i;
    char quoted[PORTRES_PATH_MAX + 80], *line = NULL;
    size_t size = 0, len;
    int in_window = 0;
    FILE *file;

    memset( trace, 0, sizeof(*trace) );
    trace->last = -1;
    if (!(file = fopen( trace_path, "re" )))
    {
        check( 0, "no trace %s: %s", trace_path, strerror( errno ) );
        return 0;
    }
    snprintf( quoted, sizeof(quoted), "\"%s\"", tmp_path );
    while (getline( &line, &size, file ) != -1)
    {
        char *p = line;

        while (isdigit( (unsigned char)*p )) p++;  /* the pid -f adds */
        while (*p == ' ') p++;
        if (!strncmp( p, "+++ killed by SIGKILL", 21 ))
        {
            trace->killed = 1;
            continue;
        }
        /* signals, exits and resumed calls do not count */
        len = strspn( p, "abcdefghijklmnopqrstuvwxyz0123456789_" );
        if (!len || len >= sizeof(counts[0].name) || p[len] != '(') continue;
        p[len] = 0;
        for (i = 0; i < nb_counts; i++) if (!strcmp( counts[i].name, p )) break;
        if (i == nb_counts)
        {
            if (nb_counts == MAX_NAMES) continue;
            strcpy( counts[nb_counts].name, p );
            counts[nb_counts++].count = 0;
        }
        counts[i].count++;
        strcpy( trace->last_call.name, p );
        trace->last_call.occurrence = counts[i].count;
        trace->last = -1;
        p[len] = '(';
        if (!in_window && !trace->complete && !strcmp( trace->last_call.name, "openat" ) && strstr( p, quoted ))
            in_window = 1;
        if (!in_window) continue;
        if (trace->nb_window < MAX_WINDOW)
        {
            trace->last = trace->nb_window;
            trace->window[trace->nb_window++] = trace->last_call;
        }
        if (!strncmp( trace->last_call.name, "send", 4 ))
        {
            in_window = 0;
            trace->complete = 1;
        }
    }
    free( line );
    fclose( file );
    return 1;
}

/* a create and a delete without injection, traced: the calls of each save.
 * 0 when strace cannot trace here (skipped) or the runs failed. */
static int calibrate( struct state *model, struct trace calib[NB_OPS] )
{
    static struct state parsed;
    char why[256];
    unsigned long long token = 0;
    unsigned int type, status;
    pid_t strace_pid, server_pid;
    struct op op;
    int ended, strace_status;
    size_t len;
    char *text;

    for (type = 0; type < NB_OPS; type++)
    {
        choose_op( model, &op );
        check( op.type == (int)type, "calibration: %s, not %s", op_names[op.type], op_names[type] );
        strace_pid = start_traced_server( NULL );
        if (!(server_pid = wait_traced_server( strace_pid, &ended, &strace_status )))
        {
            strace_message( why, sizeof(why) );
            if (ended && (strstr( why, "not permitted" ) || strstr( why, "cannot run strace" )))
            {
                test_skip( "strace cannot trace the server here: %s", why );
                return 0;
            }
            check( 0, "the traced server did not start (status %#x): %s", strace_status, why );
            if (!ended) reap_strace( strace_pid, lock_owner() );
            return 0;
        }
        status = send_op( &op, &token );
        check( status == STATUS_SUCCESS, "calibration %s: status %#x (%s)", op_names[type], status,
               portres_error_message() );
        portres_disconnect();
        /* the save is done; SIGKILL, since LeakSanitizer fails at the exit
         * of a traced process and strace follows the exit */
        check( stop_server( SIGKILL ), "the traced server did not stop" );
        reap_strace( strace_pid, server_pid );
        op.entry.token = token;
        apply_op( model, &op, model );

        read_trace( &calib[type] );
        check( calib[type].nb_window > 0, "calibration %s: the server never opened %s", op_names[type], tmp_path );
        check( calib[type].complete, "calibration %s: no reply after the save in %s", op_names[type], trace_path );
        text = read_file( store_path, &len );
        check( text && !parse_store( text, len, &parsed, why, sizeof(why) ) && state_equal( &parsed, model ),
               "calibration %s: the store does not hold the new state", op_names[type] );
        free( text );
        if (test_failures()) return 0;
    }
    return 1;
}

/* index of a call in a window, -1 if absent */
static int find_call( const struct trace *trace, const char *name )
{
    unsigned int i;

    for (i = 0; i < trace->nb_window; i++) if (!strcmp( trace->window[i].name, name )) return i;
    return -1;
}

struct list_check
{
    const struct state *st;
    int                 p;
    unsigned int        n;
    unsigned int        wrong;
};

static int list_entry( void *ctx, const struct portres_entry *e )
{
    struct list_check *list = ctx;
    const struct entry *expect = &list->st->entries[list->p][list->n];

    if (list->n >= list->st->nb[list->p] || e->kind != PORTRES_KIND_PERSISTENT || e->start != expect->start ||
        e->count != expect->count)
        list->wrong++;
    list->n++;
    return 0;
}

/* the lookup finds the entry, or expect_status: a check, or an iteration of t */
static void check_lookup( struct test_tally *t, int p, const struct entry *entry, unsigned int expect_status,
                          int trial )
{
    portres_token_t token = 0;
    unsigned int status = portres_persistent_lookup( protocols[p], entry->start, entry->count, &token );
    int ok = status == expect_status && (status || token == entry->token);
    char message[256];

    snprintf( message, sizeof(message), "trial %d: lookup %s %u+%u: status %#x token %#llx, expected status %#x "
              "token %#llx", trial, protocol_names[p], entry->start, entry->count, status,
              (unsigned long long)token, expect_status, entry->token );
    if (t) tally( t, ok, "%s", message );
    else check( ok, "%s", message );
}

/* start a new server through the client library, as any client does, and
 * check that it loaded the state (each fact an iteration of t); then stop it */
static void check_restart( const struct state *st, const struct op *op, int is_new, pid_t dead, int trial,
                           struct test_tally *t )
{
    struct list_check list;
    unsigned short start, count;
    unsigned int pid = 0, status, p;
    int index;

    status = portres_connect( &pid );
    tally( t, status == STATUS_SUCCESS, "trial %d: no new server: %s", trial, portres_error_message() );
    if (status) return;
    tally( t, pid != (unsigned int)dead, "trial %d: the killed server %u answers", trial, pid );
    for (p = 0; p < NB_PROTOCOLS; p++)
    {
        memset( &list, 0, sizeof(list) );
        list.st = st;
        list.p = p;
        status = portres_list( protocols[p], list_entry, &list );
        tally( t, !status && list.n == st->nb[p] && !list.wrong,
               "trial %d: the new server lists %u %s reservations (%u wrong, status %#x), the store %u", trial,
               list.n, protocol_names[p], list.wrong, status, st->nb[p] );
        status = portres_get_dynamic_range( protocols[p], &start, &count );
        tally( t, !status && start == st->dyn_start[p] && count == st->dyn_count[p],
               "trial %d: dynamic range %u+%u", trial, start, count );
    }
    /* the changed reservation, and two that were not touched, with their tokens */
    if ((index = find_entry( st, op->entry.start )) >= 0) check_lookup( t, 0, &st->entries[0][index], 0, trial );
    else check_lookup( t, 0, &op->entry, STATUS_NOT_FOUND, trial );
    tally( t, (index >= 0) == (is_new == (op->type == OP_CREATE)), "trial %d: the %s reservation is %s", trial,
           is_new ? "new" : "old", index >= 0 ? "there" : "missing" );
    check_lookup( t, 0, &st->entries[0][test_rng_below( st->nb[0] )], 0, trial );
    check_lookup( t, 1, &st->entries[1][test_rng_below( st->nb[1] )], 0, trial );
    portres_disconnect();
    tally( t, stop_server( SIGTERM ), "trial %d: the new server did not stop", trial );
}

enum { TMP_ABSENT, TMP_TORN, TMP_WHOLE, NB_TMP };
static const char * const tmp_names[NB_TMP] = { "absent", "torn", "whole" };

TEST(test_kill_while_saving)
{
    static struct state model, parsed, expect_new, scratch;
    static struct trace calib[NB_OPS], trace;
    static unsigned int outcomes[NB_OPS][MAX_WINDOW][2];   /* old, new per point of the window */
    unsigned int tmp_seen[NB_TMP] = { 0 }, totals[NB_OPS][2] = { { 0 } };
    unsigned int trial, kills = 0, outside = 0, misplaced = 0, distinct = 0, type, i, status;
    unsigned long long seed;
    char why[256], inject[128], *old_text = NULL, *text, *tmp_text;
    size_t old_len, len, tmp_len;
    int renames[NB_OPS], ended, strace_status, is_old, is_new, landed, tmp_kind;
    pid_t strace_pid, server_pid;
    const char *env;
    double begin = test_now();
    struct op op;
    struct test_tally answered = { 0 }, unlocked = { 0 }, traced = { 0 }, whole = { 0 }, before = { 0 };
    struct test_tally after = { 0 }, restarted = { 0 };

    test_prefix();
    /* 240 traced servers take 40 s as built, and up to 2 minutes built with
     * the sanitizers on a busy machine: the harness's bound, for this test */
    alarm( 300 );
    if (system( "strace -V >/dev/null 2>&1" ) != 0)
    {
        check( 0, "strace is not installed: run tools/install-deps" );
        return;
    }
    if (!init_paths()) return;
    if ((env = getenv( "PORTRES_CRASH_SEED" )) && *env) seed = strtoull( env, NULL, 0 );
    else seed = (unsigned long long)time( NULL ) * 1000003u ^ getpid();
    test_rng_seed( seed );
    printf( "seed %llu (PORTRES_CRASH_SEED=%llu repeats this run)\n", seed, seed );

    make_state( &model );
    write_store( store_path, &model );
    if (!calibrate( &model, calib )) return;
    for (type = 0; type < NB_OPS; type++)
    {
        renames[type] = find_call( &calib[type], "rename" );
        check( renames[type] > 0, "calibration %s: no rename in the save", op_names[type] );
        printf( "a %s saves with %u calls from opening %s to the reply:", op_names[type], calib[type].nb_window,
                tmp_path );
        for (i = 0; i < calib[type].nb_window; i++)
        {
            const char *name = calib[type].window[i].name;

            if (!i || strcmp( name, calib[type].window[i - 1].name )) printf( " %s", name );
            else if (i + 1 == calib[type].nb_window || strcmp( name, calib[type].window[i + 1].name ))
                printf( "..%s", name );
        }
        printf( "\n" );
    }
    if (test_failures()) return;
    old_text = read_file( store_path, &old_len );
    printf( "store: %u tcp and %u udp reservations, %zu bytes\n", model.nb[0], model.nb[1], old_len );

    /* each fact of a trial is an iteration of its tally; ten failures end the trials */
    for (trial = 0; trial < TRIALS && answered.failed + unlocked.failed + traced.failed + whole.failed + before.failed +
                                      after.failed + restarted.failed < 10; trial++)
    {
        unsigned long long token = 0;
        int point;

        choose_op( &model, &op );
        point = test_rng_below( calib[op.type].nb_window );
        snprintf( inject, sizeof(inject), "inject=%s:signal=KILL:when=%u", calib[op.type].window[point].name,
                  calib[op.type].window[point].occurrence );

        strace_pid = start_traced_server( inject );
        if (!(server_pid = wait_traced_server( strace_pid, &ended, &strace_status )))
        {
            strace_message( why, sizeof(why) );
            check( 0, "trial %u: the traced server did not start: %s", trial, why );
            if (!ended) reap_strace( strace_pid, lock_owner() );
            trial++;
            break;
        }
        status = send_op( &op, &token );
        tally( &answered, status == STATUS_CONNECTION_RESET, "trial %u: %s at %s #%u: the server answered %#x", trial,
               op_names[op.type], calib[op.type].window[point].name, calib[op.type].window[point].occurrence,
               status );
        portres_disconnect();
        if (status != STATUS_CONNECTION_RESET) kill( server_pid, SIGKILL );
        reap_strace( strace_pid, server_pid );
        tally( &unlocked, !lock_owner(), "trial %u: the lock outlived the killed server", trial );

        /* where the kill landed */
        read_trace( &trace );
        tally( &traced, trace.killed, "trial %u: the trace does not end in SIGKILL", trial );
        landed = trace.last;
        if (landed < 0) outside++;
        else kills++;
        if (landed != point) misplaced++;

        /* the store: exactly the old state, byte for byte, or the new one */
        text = read_file( store_path, &len );
        if (!text || parse_store( text, len, &parsed, why, sizeof(why) ))
        {
            check( 0, "trial %u: %s killed at %s #%u (point %d): the store is %s", trial, op_names[op.type],
                   trace.last_call.name, trace.last_call.occurrence, landed, text ? "bad" : "missing" );
            if (text) printf( "%s: %s\n", store_path, why );
            free( text );
            trial++;
            break;
        }
        apply_op( &model, &op, &expect_new );
        is_old = state_equal( &parsed, &model ) && len == old_len && !memcmp( text, old_text, len );
        is_new = state_equal( &parsed, &expect_new );
        tally( &whole, is_old || is_new, "trial %u: %s killed at %s #%u (point %d): the store is neither the old nor the "
               "new state", trial, op_names[op.type], trace.last_call.name, trace.last_call.occurrence, landed );
        if (landed >= 0 && landed < renames[op.type])
            tally( &before, is_old, "trial %u: killed at %s before the rename, the store is not the old state", trial,
                   trace.last_call.name );
        if (landed > renames[op.type])
            tally( &after, is_new, "trial %u: killed at %s after the rename, the store is not the new state", trial,
                   trace.last_call.name );

        /* what the temporary file holds: it must not matter to the next server */
        tmp_text = read_file( tmp_path, &tmp_len );
        tmp_kind = !tmp_text ? TMP_ABSENT : parse_store( tmp_text, tmp_len, &scratch, why, sizeof(why) ) ?
                   TMP_TORN : TMP_WHOLE;
        tmp_seen[tmp_kind]++;
        free( tmp_text );

        if (is_new) model = parsed;  /* with the token of a created reservation */
        check_restart( &model, &op, is_new, server_pid, trial, &restarted );

        if (landed >= 0) outcomes[op.type][landed][is_new]++;
        totals[op.type][is_new]++;
        free( old_text );
        old_text = text;
        old_len = len;
    }
    check_tally( &answered, "kills inside a save, each with the request unanswered," );
    check_tally( &unlocked, "killed servers, each without its lock after," );
    check_tally( &traced, "traces, each ending in SIGKILL," );
    check_tally( &whole, "stores after a kill, each the old or the new state," );
    check_tally_maybe_empty( &before, "kills before the rename, each leaving the old state," );
    check_tally_maybe_empty( &after, "kills after the rename, each leaving the new state," );
    check_tally( &restarted, "facts of the restarted servers, each as the store says," );

    /* a server's next save replaces whatever temporary file the kills left */
    if (!test_failures())
    {
        unsigned long long token = 0;

        choose_op( &model, &op );
        check( portres_connect( NULL ) == STATUS_SUCCESS, "no server: %s", portres_error_message() );
        status = send_op( &op, &token );
        check( status == STATUS_SUCCESS, "a save after the kills: status %#x", status );
        op.entry.token = token;
        apply_op( &model, &op, &model );
        portres_disconnect();
        check( access( tmp_path, F_OK ) == -1 && errno == ENOENT, "the temporary file remains after a save" );
        text = read_file( store_path, &len );
        check( text && !parse_store( text, len, &parsed, why, sizeof(why) ) && state_equal( &parsed, &model ),
               "the store after the last save is wrong" );
        free( text );
        check( stop_server( SIGTERM ), "the last server did not stop" );
    }
    free( old_text );

    for (type = 0; type < NB_OPS; type++)
        for (i = 0; i < calib[type].nb_window; i++) distinct += outcomes[type][i][0] || outcomes[type][i][1];
    printf( "%u trials: %u kills inside the save at %u distinct points, %u outside it, %u off the chosen point\n",
            trial, kills, distinct, outside, misplaced );
    printf( "outcomes: old %u (create %u, delete %u), new %u (create %u, delete %u)\n",
            totals[0][0] + totals[1][0], totals[0][0], totals[1][0], totals[0][1] + totals[1][1], totals[0][1],
            totals[1][1] );
    for (type = 0; type < NB_OPS; type++)
    {
        unsigned int old = 0, new = 0, first = 0;

        printf( "  %s, old/new by call:", op_names[type] );
        for (i = 0; i < calib[type].nb_window; i++)
        {
            old += outcomes[type][i][0];
            new += outcomes[type][i][1];
            if (i + 1 < calib[type].nb_window && !strcmp( calib[type].window[i].name, calib[type].window[i + 1].name ))
                continue;
            if (i > first) printf( " %s x%u %u/%u", calib[type].window[i].name, i - first + 1, old, new );
            else printf( " %s %u/%u", calib[type].window[i].name, old, new );
            old = new = 0;
            first = i + 1;
        }
        printf( "\n" );
    }
    printf( "temporary file when the next server started: %s %u, %s %u, %s %u\n", tmp_names[0], tmp_seen[0],
            tmp_names[1], tmp_seen[1], tmp_names[2], tmp_seen[2] );
    printf( "time: %.1f s\n", test_now() - begin );

    check( kills >= MIN_KILLS, "only %u kills landed inside the save (%u outside)", kills, outside );
    check( totals[0][0] + totals[1][0] > 0, "no kill left the old state" );
    check( totals[0][1] + totals[1][1] > 0, "no kill left the new state" );
}

/* a temporary file that a killed save left (torn, whole or empty, holding
 * another state) is ignored by the next server and replaced by its first save */
TEST(test_stray_temp_file)
{
    static struct state model, other, parsed;
    static const char * const kinds[] = { "torn", "whole", "empty" };
    struct list_check list;
    char why[256], *text;
    unsigned long long token = 0;
    unsigned int i, status;
    struct op op;
    size_t len;

    test_prefix();
    if (!init_paths()) return;
    test_rng_seed( 1 );
    for (i = 0; i < 3; i++)
    {
        make_state( &model );
        write_store( store_path, &model );
        make_state( &other );
        write_store( tmp_path, &other );
        text = read_file( tmp_path, &len );
        check( text && truncate( tmp_path, i == 0 ? len / 2 : i == 1 ? len : 0 ) == 0, "truncate %s", tmp_path );
        free( text );

        check( portres_connect( NULL ) == STATUS_SUCCESS, "%s: no server: %s", kinds[i], portres_error_message() );
        memset( &list, 0, sizeof(list) );
        list.st = &model;
        status = portres_list( PORTRES_PROTO_TCP, list_entry, &list );
        check( !status && list.n == model.nb[0] && !list.wrong, "%s: the server lists %u reservations (%u wrong), "
               "the store %u", kinds[i], list.n, list.wrong, model.nb[0] );
        check_lookup( NULL, 0, &model.entries[0][0], 0, -1 );
        choose_op( &model, &op );
        status = send_op( &op, &token );
        check( status == STATUS_SUCCESS, "%s: create: status %#x", kinds[i], status );
        op.entry.token = token;
        apply_op( &model, &op, &model );
        check( access( tmp_path, F_OK ) == -1, "%s: the temporary file remains after a save", kinds[i] );
        text = read_file( store_path, &len );
        check( text && !parse_store( text, len, &parsed, why, sizeof(why) ) && state_equal( &parsed, &model ),
               "%s: the store is wrong after a save", kinds[i] );
        free( text );
        portres_disconnect();
        check( stop_server( SIGTERM ), "%s: the server did not stop", kinds[i] );
    }
}

int main( int argc, char *argv[] )
{
    test_init( argc, argv );
    RUN(test_stray_temp_file);
    RUN(test_kill_while_saving);
    return test_summary();
}
