/*
 * A small harness for the Linux-side tests
 *
 * Each test case runs in a child process of its own, so a crash fails that
 * case only; the program ends with a "RESULT passed=N failed=N skipped=N"
 * line that tests/run-tests adds up.  Its unit is the check: each check()
 * counts as passed or failed, each test_skip() as skipped, and a case that
 * crashes or fails with no failed check counts as one failure.  A loop of
 * many iterations keeps counters and makes one check() that reports them.
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

#ifndef __PORTRES_TESTLIB_H
#define __PORTRES_TESTLIB_H

#include <stdio.h>
#include <sys/types.h>

extern void test_check( const char *file, int line, int cond, const char *format, ... )
    __attribute__((format(printf, 4, 5)));
extern void test_skip( const char *format, ... ) __attribute__((format(printf, 1, 2)));

/* A loop of many iterations makes one check: each iteration tallies its
 * outcome (the first failure's message is kept), and check_tally() after
 * the loop reports "N of M WHAT failed, the first: ..." (a loop that never
 * ran fails too).  Start from struct test_tally t = { 0 }. */
struct test_tally
{
    unsigned int count, failed;
    char first[512];
};
/* cond for one iteration; returns it */
extern int test_tally( struct test_tally *tally, int cond, const char *format, ... )
    __attribute__((format(printf, 3, 4)));
extern void test_check_tally( const char *file, int line, const struct test_tally *tally, const char *what,
                              int may_be_empty );
extern int test_failures( void );
extern void run_test( const char *name, void (*func)( void ) );
extern int test_summary( void );

/* a fresh prefix for the test, with PORTRES_SERVER and WINEPREFIX set; the
 * server of the previous one is stopped */
extern const char *test_prefix( void );
extern void test_stop_server( void );
extern const char *test_server_path( void );
extern void test_init( int argc, char *argv[] );

/* the first of count consecutive ports that no TCP or UDP socket, IPv4 or
 * IPv6, holds now (bind probes without SO_REUSEADDR, as the server's); the
 * search starts at a place of its own in each process; exits on failure */
extern unsigned short test_free_ports( unsigned int count );
/* move the calling process into a mount namespace of its own with a /tmp
 * that has all of the real one but /tmp/.portres-UID (the build tree and the
 * prefixes may live in /tmp), so that a test may tamper with
 * /tmp/.portres-UID; 0 on success, -1
 * (with the reason printed) where that needs privileges we lack */
extern int test_private_tmp( void );
/* small waits of the tests */
extern void test_sleep_ms( int ms );
/* wait ms milliseconds at most for a child; 1 when it ended */
extern int test_wait_child( pid_t pid, int *status, int ms );
/* the pid holding a server's lock file, 0 when none (or it cannot be told) */
extern pid_t test_lock_owner( const char *lock_path );
/* the query_port request, its whole reply in *info */
struct query_port_reply;
extern unsigned int test_query_port( unsigned int protocol, unsigned short port, struct query_port_reply *info );
/* wait (10 s at most) for a condition that must come true; 1 when it did */
extern int test_wait_for( int (*pred)( const void *ctx ), const void *ctx );
/* the prefix's server in the foreground under strace (testlib.c says how); strace's pid */
extern pid_t test_start_traced_server( const char *trace_path, const char *log_path, const char *path,
                                       const char *inject );
/* the whole of a file, NUL-terminated, to be freed; NULL when it cannot be
 * read (errno says why) */
extern char *test_read_file( const char *path, size_t *len );
/* seconds of the monotonic clock */
extern double test_now( void );
/* a reproducible random sequence (splitmix64) from a seed, per process */
extern void test_rng_seed( unsigned long long seed );
extern unsigned long long test_rng_next( void );
extern unsigned int test_rng_below( unsigned int n );
/* bind a fresh socket to a port: 0, or the errno (testlib.c says how) */
extern int test_bind( int family, int type, unsigned short port, int reuse, unsigned short *got, int *fd_out );
/* the pid of the keeper of a server directory, 0 when none */
extern pid_t test_keeper_pid( const char *server_dir );

#define check(cond, ...) test_check( __FILE__, __LINE__, !!(cond), __VA_ARGS__ )
#define tally(t, cond, ...) test_tally( (t), !!(cond), __VA_ARGS__ )
#define check_tally(t, what) test_check_tally( __FILE__, __LINE__, (t), (what), 0 )
/* the same for a loop that may rightly run no iteration */
#define check_tally_maybe_empty(t, what) test_check_tally( __FILE__, __LINE__, (t), (what), 1 )
#define TEST(name) static void name( void )
#define RUN(name) run_test( #name, name )

#endif /* __PORTRES_TESTLIB_H */
