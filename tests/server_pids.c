/*
 * server_pids: the pids of a prefix's reservation server and its keeper
 *
 *   server_pids SERVER_DIR
 *
 * Prints "SERVER KEEPER", 0 for either that does not run: the holder of the
 * server's lock and the portres-keeper working in SERVER_DIR, found as the
 * C tests find them (testlib).  For the tests in shell (servercrash_test.sh).
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

#include <limits.h>
#include <stdio.h>

#include "testlib.h"

int main( int argc, char *argv[] )
{
    char lock[PATH_MAX];

    if (argc != 2)
    {
        fprintf( stderr, "usage: server_pids SERVER_DIR\n" );
        return 1;
    }
    snprintf( lock, sizeof(lock), "%s/lock", argv[1] );
    printf( "%d %d\n", (int)test_lock_owner( lock ), (int)test_keeper_pid( argv[1] ) );
    return 0;
}
