/*
 * Shared pieces of the native benchmarks: clock, medians, the result table
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "benchlib.h"

static unsigned int missed;

double bench_now_us( void )
{
    struct timespec ts;

    clock_gettime( CLOCK_MONOTONIC, &ts );
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare_doubles( const void *a, const void *b )
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double bench_median( double *values, unsigned int count )
{
    qsort( values, count, sizeof(*values), compare_doubles );
    if (count % 2) return values[count / 2];
    return (values[count / 2 - 1] + values[count / 2]) / 2;
}

void bench_fatal( const char *format, ... )
{
    va_list args;

    fflush( stdout );
    fprintf( stderr, "bench: " );
    va_start( args, format );
    vfprintf( stderr, format, args );
    va_end( args );
    exit( 1 );
}

void bench_row( const char *what, double baseline_us, double measured_us,
                enum bench_target kind, double target )
{
    double ratio;
    int met;

    if (kind == BENCH_COST_AT_MOST)
    {
        ratio = measured_us / baseline_us;
        met = ratio <= target;
    }
    else
    {
        ratio = baseline_us / measured_us;
        met = ratio >= target;
    }
    if (!met) missed++;
    printf( "%-52s %9.2f us %9.2f us  %6.3f  %s %.2f  %s\n", what, baseline_us, measured_us, ratio,
            kind == BENCH_COST_AT_MOST ? "<=" : ">=", target, met ? "met" : "NOT MET" );
    fflush( stdout );
}

void bench_info( const char *format, ... )
{
    va_list args;

    va_start( args, format );
    vprintf( format, args );
    va_end( args );
    fflush( stdout );
}

unsigned int bench_missed( void )
{
    return missed;
}
