/*
 * Whether an access violation in this process arrives as one
 *
 * Run by tests/run-tests --i386 before the 32-bit suite: under qemu-user an
 * access violation in 32-bit code arrives as an illegal instruction, so
 * checks that pass bad pointers on purpose cannot run there.  Prints
 * "access violation caught" and exits 0 when it arrives as an access
 * violation, else names the exception and exits 1.
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

#include <stdio.h>

#include <windows.h>

static LONG CALLBACK handler( EXCEPTION_POINTERS *ptrs )
{
    DWORD code = ptrs->ExceptionRecord->ExceptionCode;

    if (code == EXCEPTION_ACCESS_VIOLATION) printf( "access violation caught\n" );
    else printf( "exception %#lx instead of an access violation\n", code );
    fflush( stdout );
    ExitProcess( code == EXCEPTION_ACCESS_VIOLATION ? 0 : 1 );
    return EXCEPTION_CONTINUE_SEARCH;
}

/* an address no process maps, hidden from the compiler's bounds checks */
static int * volatile bad_pointer = (int *)16;

int main( void )
{
    AddVectoredExceptionHandler( 1, handler );
    *bad_pointer = 1;
    printf( "no exception\n" );
    return 2;
}
