/*
 * Conformance test framework with the interface of Wine's wine/test.h, written for portres
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
 * Foundation, Inc., 51 Franklin Street, Fifth Floor, Boston, MA 02110-1301, USA
 */

/*
 * How it is used
 * --------------
 * Every test source file includes this header and declares its entry point
 * with START_TEST(name), which defines "void func_name(void)".  One extra
 * file of the test program (usually a generated testlist.c) defines
 * STANDALONE before including this header and provides the table
 *
 *     const struct test winetest_testlist[] = { { "name", func_name }, { 0, 0 } };
 *
 * Only that file gets the implementation and main().  A test that consists
 * of a single source file may instead define STANDALONE itself; START_TEST
 * then also emits the one-entry table.
 *
 * The program takes the name of the test to run as its first argument; with
 * no argument it runs every test of the table in turn, and "--list" prints
 * the table.  Its exit status is the number of failures, at most 255.
 *
 * Environment variables read at start-up: WINETEST_DEBUG (default 1),
 * WINETEST_INTERACTIVE, WINETEST_PLATFORM (overrides the detection of
 * Wine), WINETEST_REPORT_SUCCESS, WINETEST_REPORT_FLAKY,
 * WINETEST_MUTE_THRESHOLD (default 42) and WINETEST_TIME.
 *
 * Only windef.h and winbase.h are pulled in from the Windows headers (not
 * windows.h), so that a test may still include winsock2.h afterwards.
 */

#ifndef __WINE_WINE_TEST_H
#define __WINE_WINE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windef.h>
#include <winbase.h>

#ifndef INVALID_FILE_ATTRIBUTES
#define INVALID_FILE_ATTRIBUTES  (~0u)
#endif
#ifndef INVALID_SET_FILE_POINTER
#define INVALID_SET_FILE_POINTER (~0u)
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#endif

/* Messages are formatted by the C runtime of Windows, so let the compiler
 * check them as such; with MinGW "printf" means the Microsoft dialect, which
 * accepts %I64x and %Iu as well as %llx. */
#if defined(__GNUC__) || defined(__clang__)
#define WINETEST_PRINTF_ATTR(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WINETEST_PRINTF_ATTR(fmt, args)
#endif

#ifndef __WINE_PRINTF_ATTR
#define __WINE_PRINTF_ATTR(fmt, args) WINETEST_PRINTF_ATTR(fmt, args)
#endif


/* Settings, filled in by main() before the first test starts. */

extern int winetest_debug;            /* verbosity; 0 hides traces and todo messages */
extern int winetest_interactive;      /* tests may ask for user interaction */
extern int winetest_report_success;   /* print a line for every passing check */
extern int winetest_report_flaky;     /* count flaky failures in the exit status */
extern int winetest_mute_threshold;   /* messages per line number before muting */
extern int winetest_time;             /* print the elapsed time in every message */
extern const char *winetest_platform; /* "wine" or "windows" */
extern int winetest_platform_is_wine; /* !strcmp( winetest_platform, "wine" ) */


/* Entry points of the framework. */

extern void winetest_set_location( const char *file, int line );
extern void winetest_subtest( const char *name );
extern void winetest_ignore_exceptions( BOOL ignore );
extern void winetest_start_todo( int is_todo );
extern int winetest_loop_todo(void);
extern void winetest_end_todo(void);
extern void winetest_start_flaky( int is_flaky );
extern int winetest_loop_flaky(void);
extern void winetest_end_flaky(void);
extern int winetest_get_mainargs( char ***pargv );
extern LONG winetest_get_failures(void);
extern void winetest_add_failures( LONG new_failures );
extern void winetest_wait_child_process( HANDLE process );

extern int broken( int condition );
extern int winetest_vok( int condition, const char *msg, va_list args );
extern void winetest_vskip( const char *msg, va_list args );

extern void winetest_ok( int condition, const char *msg, ... ) WINETEST_PRINTF_ATTR(2, 3);
extern void winetest_skip( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_win_skip( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_trace( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);

extern void winetest_push_context( const char *fmt, ... ) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_pop_context(void);


/* START_TEST(name) opens the definition of the test function func_name. */

#ifdef STANDALONE
#define START_TEST(name) \
    static void func_##name(void); \
    const struct test winetest_testlist[] = \
    { \
        { #name, func_##name }, \
        { 0, 0 } \
    }; \
    static void func_##name(void)
#else
#define START_TEST(name) \
    void func_##name(void); \
    void func_##name(void)
#endif


/* The checking macros.  Each one first records where it was written and
 * then becomes a call of the matching winetest_ function, so that
 * ok( cond, "format", ... ) passes its arguments on unchanged. */

#ifdef WINETEST_NO_LINE_NUMBERS
#define WINETEST_WHERE_(file, line) winetest_set_location( (file), 0 )
#else
#define WINETEST_WHERE_(file, line) winetest_set_location( (file), (line) )
#endif

#define subtest_(file, line)            (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_subtest
#define ignore_exceptions_(file, line)  (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_ignore_exceptions
#define ok_(file, line)                 (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_ok
#define skip_(file, line)               (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_skip
#define win_skip_(file, line)           (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_win_skip
#define trace_(file, line)              (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_trace
#define wait_child_process_(file, line) (WINETEST_WHERE_(file, line), 0) ? (void)0 : winetest_wait_child_process

#define subtest            subtest_(__FILE__, __LINE__)
#define ignore_exceptions  ignore_exceptions_(__FILE__, __LINE__)
#define ok                 ok_(__FILE__, __LINE__)
#define skip               skip_(__FILE__, __LINE__)
#define win_skip           win_skip_(__FILE__, __LINE__)
#define trace              trace_(__FILE__, __LINE__)
#define wait_child_process wait_child_process_(__FILE__, __LINE__)

/* todo and flaky blocks prefix a statement or a braced block.  They are
 * loops whose body runs exactly once, between a start and an end call that
 * push and pop the state on a per-thread stack (so do not jump out of them
 * with break or return). */

#define todo_if(is_todo) \
    for (winetest_start_todo( (is_todo) ); winetest_loop_todo(); winetest_end_todo())
#define todo_wine             todo_if( winetest_platform_is_wine )
#define todo_wine_if(is_todo) todo_if( (is_todo) && winetest_platform_is_wine )

#define flaky_if(is_flaky) \
    for (winetest_start_flaky( (is_flaky) ); winetest_loop_flaky(); winetest_end_flaky())
#define flaky                   flaky_if( 1 )
#define flaky_wine              flaky_if( winetest_platform_is_wine )
#define flaky_wine_if(is_flaky) flaky_if( (is_flaky) && winetest_platform_is_wine )


/* Accessors for nameless unions and structures, for older tests. */

#ifndef U
#ifdef NONAMELESSUNION
#define U(x)  (x).u
#define U1(x) (x).u1
#define U2(x) (x).u2
#define U3(x) (x).u3
#define U4(x) (x).u4
#define U5(x) (x).u5
#define U6(x) (x).u6
#define U7(x) (x).u7
#define U8(x) (x).u8
#else
#define U(x)  (x)
#define U1(x) (x)
#define U2(x) (x)
#define U3(x) (x)
#define U4(x) (x)
#define U5(x) (x)
#define U6(x) (x)
#define U7(x) (x)
#define U8(x) (x)
#endif
#endif

#ifndef S
#ifdef NONAMELESSSTRUCT
#define S(x)  (x).s
#define S1(x) (x).s1
#define S2(x) (x).s2
#define S3(x) (x).s3
#define S4(x) (x).s4
#define S5(x) (x).s5
#else
#define S(x)  (x)
#define S1(x) (x)
#define S2(x) (x)
#define S3(x) (x)
#define S4(x) (x)
#define S5(x) (x)
#endif
#endif


/* Debug string helpers that Wine's test.h gets from wine/debug.h.  They are
 * left out when the real wine/debug.h was included first.  The returned
 * strings live in a per-thread ring buffer and stay valid for a while only. */

#ifndef __WINE_WINE_DEBUG_H

extern const char *wine_dbg_sprintf( const char *format, ... ) WINETEST_PRINTF_ATTR(1, 2);
extern const char *wine_dbgstr_an( const char *str, int n );
extern const char *wine_dbgstr_wn( const WCHAR *str, int n );
extern const char *wine_dbgstr_guid( const GUID *guid );
extern const char *wine_dbgstr_point( const POINT *point );
extern const char *wine_dbgstr_size( const SIZE *size );
extern const char *wine_dbgstr_rect( const RECT *rect );
extern const char *wine_dbgstr_longlong( ULONGLONG value );

static inline const char *wine_dbgstr_a( const char *str )
{
    return wine_dbgstr_an( str, -1 );
}

static inline const char *wine_dbgstr_w( const WCHAR *str )
{
    return wine_dbgstr_wn( str, -1 );
}

static inline const char *debugstr_an( const char *str, int n )
{
    return wine_dbgstr_an( str, n );
}

static inline const char *debugstr_a( const char *str )
{
    return wine_dbgstr_an( str, -1 );
}

static inline const char *debugstr_wn( const WCHAR *str, int n )
{
    return wine_dbgstr_wn( str, n );
}

static inline const char *debugstr_w( const WCHAR *str )
{
    return wine_dbgstr_wn( str, -1 );
}

static inline const char *debugstr_guid( const GUID *guid )
{
    return wine_dbgstr_guid( guid );
}

#endif /* __WINE_WINE_DEBUG_H */


/************************************************************************
 * Implementation.  Compiled only into the one file that defines
 * STANDALONE, normally the generated testlist.c.
 */

#ifdef STANDALONE

struct test
{
    const char *name;
    void (*func)(void);
};

extern const struct test winetest_testlist[];

int winetest_debug = 1;
int winetest_interactive = 0;
int winetest_report_success = 0;
int winetest_report_flaky = 0;
int winetest_mute_threshold = 42;
int winetest_time = 0;
const char *winetest_platform = "windows";
int winetest_platform_is_wine = 0;

#define WINETEST_CONTEXT_DEPTH  8      /* context strings printed per thread */
#define WINETEST_CONTEXT_LENGTH 128    /* size of one context string */
#define WINETEST_RING_SIZE      8192   /* per-thread room for debug strings */
#define WINETEST_DBGSTR_CHARS   256    /* characters shown by wine_dbgstr_an/wn */
#define WINETEST_LINE_SLOTS     16384  /* counters used to mute chatty lines */
#define WINETEST_MAX_MESSAGE    (1024 * 1024)
#define WINETEST_CHILD_TIMEOUT  30000  /* ms, for winetest_wait_child_process */

/* What each thread keeps for itself. */
struct winetest_thread_state
{
    const char *file;            /* base name of the file of the last check */
    int line;                    /* its line number */
    unsigned int todo_stack;     /* one bit per open todo block, innermost lowest */
    unsigned int flaky_stack;    /* the same for flaky blocks */
    int todo_entered;            /* set between winetest_start_todo and the loop test */
    int flaky_entered;
    unsigned int context_depth;  /* may exceed WINETEST_CONTEXT_DEPTH */
    char context[WINETEST_CONTEXT_DEPTH][WINETEST_CONTEXT_LENGTH];
    size_t ring_pos;
    char ring[WINETEST_RING_SIZE];
};

static int winetest_argc;
static char **winetest_argv;
static const struct test *winetest_current;

static volatile LONG winetest_tls_slot = -1;   /* TLS_OUT_OF_INDEXES until allocated */
static struct winetest_thread_state winetest_fallback_state;

static CRITICAL_SECTION winetest_output_lock;
static int winetest_output_lock_ready;

static DWORD winetest_start_ticks;
static volatile LONG winetest_last_ticks;

/* Counters of the test that is running. */
static volatile LONG winetest_successes;
static volatile LONG winetest_failures;
static volatile LONG winetest_flaky_failures;
static volatile LONG winetest_todo_successes;
static volatile LONG winetest_todo_failures;
static volatile LONG winetest_skipped;
static volatile LONG winetest_muted_todos;
static volatile LONG winetest_muted_skips;
static volatile LONG winetest_muted_traces;
static volatile LONG winetest_line_counts[WINETEST_LINE_SLOTS];

static struct winetest_thread_state *winetest_state(void)
{
    struct winetest_thread_state *state;
    DWORD saved_error = GetLastError();
    LONG slot = winetest_tls_slot;

    if (slot == -1)
    {
        DWORD index = TlsAlloc();

        if (index == TLS_OUT_OF_INDEXES)
        {
            SetLastError( saved_error );
            return &winetest_fallback_state;
        }
        slot = InterlockedCompareExchange( &winetest_tls_slot, (LONG)index, -1 );
        if (slot == -1)
            slot = (LONG)index;
        else
            TlsFree( index );
    }

    state = TlsGetValue( (DWORD)slot );
    if (!state)
    {
        state = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*state) );
        if (state)
            TlsSetValue( (DWORD)slot, state );
        else
            state = &winetest_fallback_state;
    }
    SetLastError( saved_error );
    return state;
}

/* Hands out temporary string space from the per-thread ring: reserve the
 * most that may be needed, then give back what was not used. */
static char *winetest_ring_reserve( size_t size )
{
    struct winetest_thread_state *state = winetest_state();
    char *ptr;

    if (size > sizeof(state->ring)) size = sizeof(state->ring);
    if (state->ring_pos + size > sizeof(state->ring)) state->ring_pos = 0;
    ptr = state->ring + state->ring_pos;
    state->ring_pos += size;
    return ptr;
}

static void winetest_ring_release( const char *ptr, size_t used )
{
    struct winetest_thread_state *state = winetest_state();

    if (ptr >= state->ring && ptr + used <= state->ring + sizeof(state->ring))
        state->ring_pos = (size_t)(ptr - state->ring) + used;
}


/* Output.  A message is put together in memory first and then written with
 * a single call, under a lock, and flushed at once, so that lines from
 * several threads do not mix and nothing is lost if the process is killed. */

struct winetest_text
{
    char *buf;
    size_t len;
    size_t size;
    char fixed[512];
};

static void winetest_text_init( struct winetest_text *text )
{
    text->buf = text->fixed;
    text->size = sizeof(text->fixed);
    text->len = 0;
    text->buf[0] = 0;
}

static int winetest_text_grow( struct winetest_text *text, size_t want )
{
    size_t size = text->size;
    char *buf;

    while (size < want) size *= 2;
    if (size > WINETEST_MAX_MESSAGE) size = WINETEST_MAX_MESSAGE;
    if (size <= text->size) return 0;

    if (text->buf == text->fixed)
    {
        buf = HeapAlloc( GetProcessHeap(), 0, size );
        if (buf) memcpy( buf, text->buf, text->len + 1 );
    }
    else buf = HeapReAlloc( GetProcessHeap(), 0, text->buf, size );

    if (!buf) return 0;
    text->buf = buf;
    text->size = size;
    return 1;
}

static void winetest_text_vadd( struct winetest_text *text, const char *fmt, va_list args )
{
    for (;;)
    {
        size_t room = text->size - text->len;
        va_list copy;
        int ret;

        va_copy( copy, args );
        ret = _vsnprintf( text->buf + text->len, room, fmt, copy );
        va_end( copy );

        if (ret >= 0 && (size_t)ret < room)
        {
            text->len += ret;
            return;
        }
        /* the runtime returns -1 when the text did not fit */
        if (!winetest_text_grow( text, ret >= 0 ? text->len + ret + 1 : text->size * 2 ))
        {
            text->buf[text->size - 1] = 0;
            text->len = text->size - 1;
            return;
        }
    }
}

static void winetest_text_add( struct winetest_text *text, const char *fmt, ... ) WINETEST_PRINTF_ATTR(2, 3);
static void winetest_text_add( struct winetest_text *text, const char *fmt, ... )
{
    va_list args;

    va_start( args, fmt );
    winetest_text_vadd( text, fmt, args );
    va_end( args );
}

static void winetest_text_write( struct winetest_text *text )
{
    if (winetest_output_lock_ready) EnterCriticalSection( &winetest_output_lock );
    fwrite( text->buf, 1, text->len, stdout );
    fflush( stdout );
    if (winetest_output_lock_ready) LeaveCriticalSection( &winetest_output_lock );

    if (text->buf != text->fixed) HeapFree( GetProcessHeap(), 0, text->buf );
    winetest_text_init( text );
}

/* Prints a single formatted text as it is. */
static void winetest_print( const char *fmt, ... ) WINETEST_PRINTF_ATTR(1, 2);
static void winetest_print( const char *fmt, ... )
{
    struct winetest_text text;
    va_list args;

    winetest_text_init( &text );
    va_start( args, fmt );
    winetest_text_vadd( &text, fmt, args );
    va_end( args );
    winetest_text_write( &text );
}

/* The ":seconds" part after the line number, empty unless WINETEST_TIME. */
static void winetest_add_elapsed( struct winetest_text *text )
{
    DWORD now;

    if (!winetest_time) return;
    now = GetTickCount();
    InterlockedExchange( &winetest_last_ticks, (LONG)now );
    winetest_text_add( text, "%.3f", (double)(now - winetest_start_ticks) / 1000.0 );
}

/* "file.c:123: " */
static void winetest_add_location( struct winetest_text *text )
{
    struct winetest_thread_state *state = winetest_state();

    winetest_text_add( text, "%s:%d:", state->file ? state->file : "unknown", state->line );
    winetest_add_elapsed( text );
    winetest_text_add( text, " " );
}

/* "file.c:123: <kind>ctx1: ctx2: <message>" */
static void winetest_report( const char *kind, const char *fmt, va_list args )
{
    struct winetest_thread_state *state = winetest_state();
    struct winetest_text text;
    unsigned int i, depth;

    winetest_text_init( &text );
    winetest_add_location( &text );
    winetest_text_add( &text, "%s", kind );
    depth = state->context_depth;
    if (depth > WINETEST_CONTEXT_DEPTH) depth = WINETEST_CONTEXT_DEPTH;
    for (i = 0; i < depth; i++)
        winetest_text_add( &text, "%s: ", state->context[i] );
    winetest_text_vadd( &text, fmt, args );
    winetest_text_write( &text );
}

static void winetest_report_fmt( const char *kind, const char *fmt, ... ) WINETEST_PRINTF_ATTR(2, 3);
static void winetest_report_fmt( const char *kind, const char *fmt, ... )
{
    va_list args;

    va_start( args, fmt );
    winetest_report( kind, fmt, args );
    va_end( args );
}

/* Counts the messages of the current line number, and tells once when that
 * line starts being muted.  Returns how many came before this one. */
static LONG winetest_line_seen(void)
{
    struct winetest_thread_state *state;
    LONG count;

    if (winetest_debug > 1) return 0;
    state = winetest_state();
    count = InterlockedIncrement( &winetest_line_counts[(unsigned int)state->line % WINETEST_LINE_SLOTS] ) - 1;
    if (count == winetest_mute_threshold)
        winetest_report_fmt( "", "Line has been silenced after %d occurrences\n", winetest_mute_threshold );
    return count;
}

static int winetest_line_muted(void)
{
    return winetest_line_seen() >= winetest_mute_threshold;
}


/* The public functions. */

void winetest_set_location( const char *file, int line )
{
    struct winetest_thread_state *state = winetest_state();
    const char *base = file;
    const char *p;

    for (p = file; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    state->file = base;
    state->line = line;
}

void winetest_subtest( const char *name )
{
    DWORD saved_error = GetLastError();

    winetest_report_fmt( "", "Subtest %s\n", name );
    SetLastError( saved_error );
}

void winetest_ignore_exceptions( BOOL ignore )
{
    DWORD saved_error = GetLastError();

    winetest_report_fmt( "", "IgnoreExceptions=%d\n", ignore ? 1 : 0 );
    SetLastError( saved_error );
}

int broken( int condition )
{
    return !winetest_platform_is_wine && condition;
}

int winetest_vok( int condition, const char *msg, va_list args )
{
    struct winetest_thread_state *state = winetest_state();
    DWORD saved_error = GetLastError();
    int result;

    if (state->todo_stack)
    {
        if (condition)
        {
            /* a todo that passes is reported so that the todo gets removed */
            if (state->flaky_stack)
            {
                winetest_report( "Test succeeded inside flaky todo block: ", msg, args );
                InterlockedIncrement( &winetest_flaky_failures );
            }
            else
            {
                winetest_report( "Test succeeded inside todo block: ", msg, args );
                InterlockedIncrement( &winetest_todo_failures );
            }
            result = 0;
        }
        else
        {
            if (winetest_debug > 0 && winetest_line_muted())
                InterlockedIncrement( &winetest_muted_todos );
            else
            {
                if (winetest_debug > 0) winetest_report( "Test marked todo: ", msg, args );
                InterlockedIncrement( &winetest_todo_successes );
            }
            result = 1;
        }
    }
    else if (!condition)
    {
        if (state->flaky_stack)
        {
            winetest_report( "Test marked flaky: ", msg, args );
            InterlockedIncrement( &winetest_flaky_failures );
        }
        else
        {
            winetest_report( "Test failed: ", msg, args );
            InterlockedIncrement( &winetest_failures );
        }
        result = 0;
    }
    else
    {
        if (winetest_report_success ||
            (winetest_time && GetTickCount() - (DWORD)winetest_last_ticks >= 1000))
        {
            struct winetest_text text;

            winetest_text_init( &text );
            winetest_add_location( &text );
            winetest_text_add( &text, "Test succeeded\n" );
            winetest_text_write( &text );
        }
        InterlockedIncrement( &winetest_successes );
        result = 1;
    }

    SetLastError( saved_error );
    return result;
}

void winetest_ok( int condition, const char *msg, ... )
{
    va_list args;

    va_start( args, msg );
    winetest_vok( condition, msg, args );
    va_end( args );
}

void winetest_trace( const char *msg, ... )
{
    DWORD saved_error = GetLastError();
    va_list args;

    if (winetest_debug <= 0) return;
    if (winetest_line_muted())
    {
        InterlockedIncrement( &winetest_muted_traces );
    }
    else
    {
        va_start( args, msg );
        winetest_report( "", msg, args );
        va_end( args );
    }
    SetLastError( saved_error );
}

void winetest_vskip( const char *msg, va_list args )
{
    DWORD saved_error = GetLastError();

    if (winetest_line_muted())
    {
        InterlockedIncrement( &winetest_muted_skips );
    }
    else
    {
        winetest_report( "Tests skipped: ", msg, args );
        InterlockedIncrement( &winetest_skipped );
    }
    SetLastError( saved_error );
}

void winetest_skip( const char *msg, ... )
{
    va_list args;

    va_start( args, msg );
    winetest_vskip( msg, args );
    va_end( args );
}

void winetest_win_skip( const char *msg, ... )
{
    va_list args;

    /* Skipping is only acceptable on Windows; Wine must have the feature. */
    va_start( args, msg );
    if (winetest_platform_is_wine)
        winetest_vok( 0, msg, args );
    else
        winetest_vskip( msg, args );
    va_end( args );
}

void winetest_start_todo( int is_todo )
{
    struct winetest_thread_state *state = winetest_state();

    state->todo_stack = (state->todo_stack << 1) | (is_todo ? 1 : 0);
    state->todo_entered = 1;
}

int winetest_loop_todo(void)
{
    struct winetest_thread_state *state = winetest_state();
    int first = state->todo_entered;

    state->todo_entered = 0;
    return first;
}

void winetest_end_todo(void)
{
    struct winetest_thread_state *state = winetest_state();

    state->todo_stack >>= 1;
}

void winetest_start_flaky( int is_flaky )
{
    struct winetest_thread_state *state = winetest_state();

    state->flaky_stack = (state->flaky_stack << 1) | (is_flaky ? 1 : 0);
    state->flaky_entered = 1;
}

int winetest_loop_flaky(void)
{
    struct winetest_thread_state *state = winetest_state();
    int first = state->flaky_entered;

    state->flaky_entered = 0;
    return first;
}

void winetest_end_flaky(void)
{
    struct winetest_thread_state *state = winetest_state();

    state->flaky_stack >>= 1;
}

void winetest_push_context( const char *fmt, ... )
{
    struct winetest_thread_state *state = winetest_state();
    DWORD saved_error = GetLastError();
    va_list args;

    if (state->context_depth < WINETEST_CONTEXT_DEPTH)
    {
        char *dst = state->context[state->context_depth];

        va_start( args, fmt );
        _vsnprintf( dst, WINETEST_CONTEXT_LENGTH, fmt, args );
        va_end( args );
        dst[WINETEST_CONTEXT_LENGTH - 1] = 0;
    }
    state->context_depth++;
    SetLastError( saved_error );
}

void winetest_pop_context(void)
{
    struct winetest_thread_state *state = winetest_state();

    if (state->context_depth) state->context_depth--;
}

int winetest_get_mainargs( char ***pargv )
{
    *pargv = winetest_argv;
    return winetest_argc;
}

LONG winetest_get_failures(void)
{
    return winetest_failures;
}

void winetest_add_failures( LONG new_failures )
{
    if (new_failures > 0) InterlockedExchangeAdd( &winetest_failures, new_failures );
}

void winetest_wait_child_process( HANDLE process )
{
    DWORD saved_error = GetLastError();
    DWORD exit_code = 0;
    DWORD ret;

    if (!process)
    {
        winetest_report_fmt( "Test failed: ", "No child process handle (CreateProcess failed?)\n" );
        InterlockedIncrement( &winetest_failures );
        SetLastError( saved_error );
        return;
    }

    ret = WaitForSingleObject( process, WINETEST_CHILD_TIMEOUT );
    if (ret == WAIT_TIMEOUT)
    {
        winetest_report_fmt( "Test failed: ", "Timed out waiting for the child process\n" );
        InterlockedIncrement( &winetest_failures );
    }
    else if (ret != WAIT_OBJECT_0)
    {
        winetest_report_fmt( "Test failed: ", "Could not wait for the child process: %lu le=%lu\n",
                             ret, GetLastError() );
        InterlockedIncrement( &winetest_failures );
    }
    else if (!GetExitCodeProcess( process, &exit_code ))
    {
        winetest_report_fmt( "Test failed: ", "Could not get the exit code of the child process: le=%lu\n",
                             GetLastError() );
        InterlockedIncrement( &winetest_failures );
    }
    else if (exit_code > 255)
    {
        /* an exception code, not a count of failures */
        winetest_report_fmt( "", "unhandled exception %08lx in child process %04lx\n",
                             exit_code, GetProcessId( process ) );
        InterlockedIncrement( &winetest_failures );
    }
    else if (exit_code)
    {
        winetest_report_fmt( "", "%lu failures in child process\n", exit_code );
        InterlockedExchangeAdd( &winetest_failures, (LONG)exit_code );
    }
    SetLastError( saved_error );
}


#ifndef __WINE_WINE_DEBUG_H

const char *wine_dbg_sprintf( const char *format, ... )
{
    const size_t max = 1024;
    char *buf = winetest_ring_reserve( max );
    va_list args;
    int len;

    va_start( args, format );
    len = _vsnprintf( buf, max, format, args );
    va_end( args );
    if (len < 0 || (size_t)len >= max) len = (int)max - 1;
    buf[len] = 0;
    winetest_ring_release( buf, (size_t)len + 1 );
    return buf;
}

/* Quotes a narrow or wide string, escaping what is not plain ASCII. */
static const char *winetest_quote( const void *str, int n, int wide )
{
    const char *narrow = str;
    const WCHAR *wchars = str;
    char *buf, *out;
    int i, count;

    if (!str) return "(null)";
    if (!((ULONG_PTR)str >> 16))
        return wine_dbg_sprintf( "#%04x", (unsigned int)(ULONG_PTR)str );
    if (n < 0)
    {
        n = 0;
        if (wide)
            while (wchars[n]) n++;
        else
            while (narrow[n]) n++;
    }
    count = n < WINETEST_DBGSTR_CHARS ? n : WINETEST_DBGSTR_CHARS;

    buf = winetest_ring_reserve( (size_t)count * 6 + 8 );
    out = buf;
    if (wide) *out++ = 'L';
    *out++ = '"';
    for (i = 0; i < count; i++)
    {
        unsigned int c = wide ? (unsigned int)wchars[i] : (unsigned char)narrow[i];

        switch (c)
        {
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '"':  *out++ = '\\'; *out++ = '"'; break;
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        default:
            if (c >= 0x20 && c < 0x7f)
                *out++ = (char)c;
            else if (wide)
                out += sprintf( out, "\\x%04x", c );
            else
                out += sprintf( out, "\\x%02x", c );
            break;
        }
    }
    *out++ = '"';
    if (count < n)
    {
        memcpy( out, "...", 3 );
        out += 3;
    }
    *out++ = 0;
    winetest_ring_release( buf, (size_t)(out - buf) );
    return buf;
}

const char *wine_dbgstr_an( const char *str, int n )
{
    return winetest_quote( str, n, 0 );
}

const char *wine_dbgstr_wn( const WCHAR *str, int n )
{
    return winetest_quote( str, n, 1 );
}

const char *wine_dbgstr_guid( const GUID *guid )
{
    if (!guid) return "(null)";
    if (!((ULONG_PTR)guid >> 16))
        return wine_dbg_sprintf( "<guid-0x%04x>", (unsigned int)(ULONG_PTR)guid );
    return wine_dbg_sprintf( "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
                             (unsigned long)guid->Data1, guid->Data2, guid->Data3,
                             guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3],
                             guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7] );
}

const char *wine_dbgstr_point( const POINT *point )
{
    if (!point) return "(null)";
    return wine_dbg_sprintf( "(%ld,%ld)", (long)point->x, (long)point->y );
}

const char *wine_dbgstr_size( const SIZE *size )
{
    if (!size) return "(null)";
    return wine_dbg_sprintf( "(%ld,%ld)", (long)size->cx, (long)size->cy );
}

const char *wine_dbgstr_rect( const RECT *rect )
{
    if (!rect) return "(null)";
    return wine_dbg_sprintf( "(%ld,%ld)-(%ld,%ld)", (long)rect->left, (long)rect->top,
                             (long)rect->right, (long)rect->bottom );
}

const char *wine_dbgstr_longlong( ULONGLONG value )
{
    unsigned long high = (unsigned long)(value >> 32);
    unsigned long low = (unsigned long)(value & 0xffffffff);

    if (high) return wine_dbg_sprintf( "%lx%08lx", high, low );
    return wine_dbg_sprintf( "%lx", low );
}

#endif /* __WINE_WINE_DEBUG_H */


/* Running the tests. */

static const struct test *winetest_find( const char *name )
{
    const struct test *test;
    const char *p;
    size_t len;

    /* accept "dir/sock.c" as well as "sock" */
    for (p = name; *p; p++)
        if (*p == '/' || *p == '\\') name = p + 1;
    len = strlen( name );
    if (len > 2 && !strcmp( name + len - 2, ".c" )) len -= 2;

    for (test = winetest_testlist; test->name; test++)
        if (strlen( test->name ) == len && !strncmp( test->name, name, len )) return test;
    return NULL;
}

static void winetest_list(void)
{
    const struct test *test;

    winetest_print( "Valid test names:\n" );
    for (test = winetest_testlist; test->name; test++)
        winetest_print( "    %s\n", test->name );
}

static void winetest_reset(void)
{
    struct winetest_thread_state *state = winetest_state();
    unsigned int i;

    winetest_successes = 0;
    winetest_failures = 0;
    winetest_flaky_failures = 0;
    winetest_todo_successes = 0;
    winetest_todo_failures = 0;
    winetest_skipped = 0;
    winetest_muted_todos = 0;
    winetest_muted_skips = 0;
    winetest_muted_traces = 0;
    for (i = 0; i < WINETEST_LINE_SLOTS; i++) winetest_line_counts[i] = 0;

    state->file = NULL;
    state->line = 0;
    state->todo_stack = 0;
    state->flaky_stack = 0;
    state->todo_entered = 0;
    state->flaky_entered = 0;
    state->context_depth = 0;
}

/* Runs one test and returns its exit status. */
static int winetest_run( const struct test *test )
{
    LONG status;

    winetest_reset();
    winetest_current = test;
    test->func();

    if (winetest_debug)
    {
        struct winetest_text text;
        LONG failed = winetest_failures + winetest_todo_failures;
        LONG total = winetest_successes + winetest_failures + winetest_flaky_failures +
                     winetest_todo_successes + winetest_todo_failures;

        winetest_text_init( &text );
        if (winetest_muted_todos || winetest_muted_skips || winetest_muted_traces)
        {
            winetest_text_add( &text, "%04lx:%s:", GetCurrentProcessId(), test->name );
            winetest_add_elapsed( &text );
            winetest_text_add( &text, " Silenced %ld todos, %ld skips and %ld traces.\n",
                               (long)winetest_muted_todos, (long)winetest_muted_skips,
                               (long)winetest_muted_traces );
        }
        winetest_text_add( &text, "%04lx:%s:", GetCurrentProcessId(), test->name );
        winetest_add_elapsed( &text );
        winetest_text_add( &text, " %ld tests executed (%ld marked as todo, %ld as flaky, %ld %s), %ld skipped.\n",
                           (long)total, (long)winetest_todo_successes, (long)winetest_flaky_failures,
                           (long)failed, failed == 1 ? "failure" : "failures", (long)winetest_skipped );
        winetest_text_write( &text );
    }

    status = winetest_failures + winetest_todo_failures;
    if (winetest_report_flaky) status += winetest_flaky_failures;
    if (status > 255) status = 255;
    return (int)status;
}

static LONG WINAPI winetest_crash_filter( EXCEPTION_POINTERS *info )
{
    struct winetest_thread_state *state = winetest_state();

    if (state->file)
        winetest_print( "%s:%d: this is the last test seen before the exception\n",
                        state->file, state->line );
    winetest_print( "%04lx:%s: unhandled exception %08lx at %p\n", GetCurrentProcessId(),
                    winetest_current ? winetest_current->name : "?",
                    info->ExceptionRecord->ExceptionCode, info->ExceptionRecord->ExceptionAddress );
    return EXCEPTION_EXECUTE_HANDLER;
}

static int winetest_env_int( const char *name, int *value )
{
    char buf[32];
    DWORD len = GetEnvironmentVariableA( name, buf, sizeof(buf) );

    if (!len || len >= sizeof(buf)) return 0;
    *value = atoi( buf );
    return 1;
}

static int winetest_running_on_wine(void)
{
    HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );

    return ntdll && GetProcAddress( ntdll, "wine_get_version" ) != NULL;
}

/* The program that tests start as their children is the one they find in
 * argv[0].  tests/run-tests names another one in PORTRES_TEST_CHILD for its
 * mixed-width runs (the build of the other width: a 32-bit and a 64-bit
 * process of one prefix), so that the test sources need not know. */
static void winetest_set_child_program( char **argv )
{
    static char program[MAX_PATH];
    DWORD len = GetEnvironmentVariableA( "PORTRES_TEST_CHILD", program, sizeof(program) );

    if (len && len < sizeof(program)) argv[0] = program;
}

int main( int argc, char **argv )
{
    static char platform[32];
    const struct test *test;
    DWORD len;
    int status = 0;

    setvbuf( stdout, NULL, _IONBF, 0 );
    InitializeCriticalSection( &winetest_output_lock );
    winetest_output_lock_ready = 1;

    winetest_argc = argc;
    winetest_argv = argv;
    winetest_set_child_program( argv );

    len = GetEnvironmentVariableA( "WINETEST_PLATFORM", platform, sizeof(platform) );
    if (len && len < sizeof(platform))
        winetest_platform = platform;
    else if (winetest_running_on_wine())
        winetest_platform = "wine";
    winetest_platform_is_wine = !strcmp( winetest_platform, "wine" );

    winetest_env_int( "WINETEST_DEBUG", &winetest_debug );
    winetest_env_int( "WINETEST_INTERACTIVE", &winetest_interactive );
    winetest_env_int( "WINETEST_REPORT_SUCCESS", &winetest_report_success );
    winetest_env_int( "WINETEST_REPORT_FLAKY", &winetest_report_flaky );
    winetest_env_int( "WINETEST_MUTE_THRESHOLD", &winetest_mute_threshold );
    winetest_env_int( "WINETEST_TIME", &winetest_time );
    winetest_start_ticks = GetTickCount();
    winetest_last_ticks = (LONG)winetest_start_ticks;

    SetUnhandledExceptionFilter( winetest_crash_filter );
    if (!winetest_interactive) SetErrorMode( SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX );

    if (argc < 2 || !argv[1])
    {
        for (test = winetest_testlist; test->name; test++)
            status += winetest_run( test );
    }
    else if (!strcmp( argv[1], "--list" ))
    {
        winetest_list();
    }
    else if ((test = winetest_find( argv[1] )))
    {
        status = winetest_run( test );
    }
    else
    {
        winetest_print( "Fatal: test '%s' does not exist.\n", argv[1] );
        winetest_list();
        status = 1;
    }

    fflush( stdout );
    return status > 255 ? 255 : status;
}

#endif /* STANDALONE */

#endif /* __WINE_WINE_TEST_H */
