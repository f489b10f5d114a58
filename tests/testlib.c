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
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "portres/client.h"

#define EXIT_SKIPPED 77

static int failures;
static int skipped;
static int passed_total, failed_total, skipped_total;
static const char *current_name = "";
static char prefix[PATH_MAX];
static char server[PATH_MAX];

void test_init( int argc, char *argv[] )
{
    const char *env = getenv( "PORTRES_SERVER" );
    char self[PATH_MAX], *slash;
    ssize_t len;

    setvbuf( stdout, NULL, _IOLBF, 0 );
    if (env && *env)
    {
        snprintf( server, sizeof(server), "%s", env );
        return;
    }
    /* the server of the same build flavour, beside us in the build tree */
    len = readlink( "/proc/self/exe", self, sizeof(self) - 1 );
    self[len > 0 ? len : 0] = 0;
    if ((slash = strrchr( self, '/' ))) *slash = 0;
    snprintf( server, sizeof(server), "%s/../server/portres-server%s", self,
              strstr( argv[0], "-san" ) ? "-san" : "" );
    setenv( "PORTRES_SERVER", server, 1 );
}

const char *test_server_path( void )
{
    return server;
}

void test_check( const char *file, int line, int cond, const char *format, ... )
{
    va_list args;

    if (cond) return;
    failures++;
    printf( "%s:%d: %s: check failed: ", file, line, current_name );
    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    printf( "\n" );
}

void test_skip( const char *format, ... )
{
    va_list args;

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

    if (!prefix[0]) return;
    snprintf( cmd, sizeof(cmd), "WINEPREFIX='%s' '%s' -k", prefix, server );
    if (system( cmd ) != 0) printf( "%s: could not stop the server of %s\n", current_name, prefix );
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

/* run a test case in a child; it passes when it exits 0 with no failed check */
void run_test( const char *name, void (*func)( void ) )
{
    int status;
    pid_t pid;

    fflush( stdout );
    if (!(pid = fork()))
    {
        current_name = name;
        prefix[0] = 0;
        alarm( 120 );  /* a hung test fails rather than hanging the run */
        failures = 0;
        func();
        remove_prefix();
        fflush( stdout );
        _exit( failures ? 1 : skipped ? EXIT_SKIPPED : 0 );
    }
    while (waitpid( pid, &status, 0 ) == -1 && errno == EINTR);
    if (WIFEXITED( status ) && WEXITSTATUS( status ) == 0)
    {
        printf( "PASS %s\n", name );
        passed_total++;
    }
    else if (WIFEXITED( status ) && WEXITSTATUS( status ) == EXIT_SKIPPED)
    {
        printf( "SKIP %s\n", name );
        skipped_total++;
    }
    else
    {
        if (WIFSIGNALED( status )) printf( "%s: killed by signal %d\n", name, WTERMSIG( status ) );
        printf( "FAIL %s\n", name );
        failed_total++;
    }
}

int test_summary( void )
{
    printf( "RESULT passed=%d failed=%d skipped=%d\n", passed_total, failed_total, skipped_total );
    return failed_total ? 1 : 0;
}
