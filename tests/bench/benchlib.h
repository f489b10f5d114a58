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

#ifndef __PORTRES_BENCHLIB_H
#define __PORTRES_BENCHLIB_H

#define BENCH_MAX_ROUNDS 1001

/* microseconds on the monotonic clock */
extern double bench_now_us( void );
/* median of count values; reorders them */
extern double bench_median( double *values, unsigned int count );
extern void bench_fatal( const char *format, ... ) __attribute__((format(printf, 1, 2), noreturn));

/* one row of the result table: what, the baseline and the measurement in
 * microseconds per operation, their ratio against a target; a ratio is
 * measured / baseline for costs (target is a maximum) and baseline / measured
 * for rates (target is a minimum) */
enum bench_target { BENCH_COST_AT_MOST, BENCH_RATE_AT_LEAST };
extern void bench_row( const char *what, double baseline_us, double measured_us,
                       enum bench_target kind, double target );
extern void bench_info( const char *format, ... ) __attribute__((format(printf, 1, 2)));
/* how many rows missed their target so far */
extern unsigned int bench_missed( void );

#endif /* __PORTRES_BENCHLIB_H */
