/*
 * free_ports COUNT: print the first of COUNT consecutive ports that no socket
 * holds now, for the tests written in shell
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

#include <stdlib.h>

#include "testlib.h"

int main( int argc, char *argv[] )
{
    int count = argc == 2 ? atoi( argv[1] ) : 0;

    if (count <= 0)
    {
        fprintf( stderr, "usage: free_ports COUNT\n" );
        return 1;
    }
    printf( "%u\n", test_free_ports( count ) );
    return 0;
}
