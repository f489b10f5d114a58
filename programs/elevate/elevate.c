/*
 * elevate.exe: run a program elevated, as "Run as administrator" does, or
 * with the limited token of an elevated administrator
 *
 *   elevate [/limited] PROGRAM [ARGS...]
 *
 * Wine 8.0 starts every program with the elevated token of an
 * administrator, Wine 10.0 with its limited one (as Windows' UAC does);
 * the other token of the pair is the linked token.  elevate starts PROGRAM
 * with the kind of token asked for, in the same console and with the same
 * standard handles, waits for it and exits with its exit code.  Where the
 * linked token cannot start a process (on Windows, a limited process only
 * gets an identification token), an elevation falls back to
 * ShellExecuteEx's "runas" verb, which asks the user.
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <windef.h>
#include <winbase.h>
#include <winuser.h>
#include <shellapi.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define EXIT_USAGE   2
#define EXIT_FAILED  125

static void usage( void )
{
    fwprintf( stderr, L"usage: elevate [/limited] PROGRAM [ARGS...]\n"
              L"  runs PROGRAM elevated (with /limited: not elevated), waits for it and\n"
              L"  exits with its exit code\n" );
}

static void error( const WCHAR *what, DWORD err )
{
    WCHAR text[512];

    if (!FormatMessageW( FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0,
                         text, ARRAY_SIZE(text), NULL ))
        _snwprintf( text, ARRAY_SIZE(text), L"error %lu\n", err );
    fwprintf( stderr, L"elevate: %ls: %ls", what, text );
}

/* appends one argument quoted as CommandLineToArgvW reads it back */
static WCHAR *append_arg( WCHAR *dst, const WCHAR *arg )
{
    unsigned int backslashes = 0, i;
    BOOL quote = !*arg || wcspbrk( arg, L" \t\"" );

    if (quote) *dst++ = '"';
    for (; *arg; arg++)
    {
        if (*arg == '\\')
        {
            backslashes++;
            continue;
        }
        /* backslashes before a quote are doubled, and the quote escaped */
        for (i = 0; i < (*arg == '"' ? 2 * backslashes + 1 : backslashes); i++) *dst++ = '\\';
        backslashes = 0;
        *dst++ = *arg;
    }
    /* backslashes before the closing quote are doubled */
    for (i = 0; i < (quote ? 2 * backslashes : backslashes); i++) *dst++ = '\\';
    if (quote) *dst++ = '"';
    return dst;
}

static WCHAR *join_args( int argc, WCHAR **argv )
{
    size_t size = 1;
    WCHAR *line, *p;
    int i;

    for (i = 0; i < argc; i++) size += 2 * wcslen( argv[i] ) + 3;
    if (!(p = line = malloc( size * sizeof(WCHAR) ))) return NULL;
    for (i = 0; i < argc; i++)
    {
        if (i) *p++ = ' ';
        p = append_arg( p, argv[i] );
    }
    *p = 0;
    return line;
}

/* the linked token as a primary token, when the process's token is not
 * already of the kind wanted; *same is set when it is */
static HANDLE other_token( BOOL elevated, BOOL *same )
{
    TOKEN_ELEVATION_TYPE type;
    TOKEN_LINKED_TOKEN linked;
    HANDLE token, primary = NULL;
    DWORD size;

    *same = FALSE;
    if (!OpenProcessToken( GetCurrentProcess(), TOKEN_QUERY, &token )) return NULL;
    if (!GetTokenInformation( token, TokenElevationType, &type, sizeof(type), &size ))
    {
        CloseHandle( token );
        return NULL;
    }
    if (type == (elevated ? TokenElevationTypeFull : TokenElevationTypeLimited))
    {
        *same = TRUE;
        CloseHandle( token );
        return NULL;
    }
    if (type == TokenElevationTypeDefault)
    {
        /* no split token: no UAC, or not an administrator */
        CloseHandle( token );
        SetLastError( elevated ? ERROR_ACCESS_DENIED : ERROR_NO_SUCH_LOGON_SESSION );
        return NULL;
    }
    if (GetTokenInformation( token, TokenLinkedToken, &linked, sizeof(linked), &size ))
    {
        if (!DuplicateTokenEx( linked.LinkedToken, MAXIMUM_ALLOWED, NULL, SecurityImpersonation,
                               TokenPrimary, &primary ))
            primary = NULL;
        CloseHandle( linked.LinkedToken );
    }
    CloseHandle( token );
    return primary;
}

/* ShellExecuteEx's "runas": the user is asked; the program gets a console
 * of its own */
static HANDLE run_as_administrator( const WCHAR *program, const WCHAR *params )
{
    SHELLEXECUTEINFOW info;

    memset( &info, 0, sizeof(info) );
    info.cbSize = sizeof(info);
    info.fMask = SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC | SEE_MASK_NO_CONSOLE;
    info.lpVerb = L"runas";
    info.lpFile = program;
    info.lpParameters = params;
    info.nShow = SW_SHOWNORMAL;
    if (!ShellExecuteExW( &info )) return NULL;
    return info.hProcess;
}

/* the program of the command line (argv[0] and its arguments), started
 * with the token, or as this process when same; NULL on failure */
static HANDLE start_program( HANDLE token, BOOL same, BOOL elevated, WCHAR *line, int argc, WCHAR *argv[] )
{
    PROCESS_INFORMATION pi;
    STARTUPINFOW si;
    HANDLE process = NULL;
    WCHAR *params;
    BOOL ret;

    memset( &si, 0, sizeof(si) );
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle( STD_INPUT_HANDLE );
    si.hStdOutput = GetStdHandle( STD_OUTPUT_HANDLE );
    si.hStdError = GetStdHandle( STD_ERROR_HANDLE );
    if (same) ret = CreateProcessW( NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi );
    else ret = token && CreateProcessAsUserW( token, NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi );
    if (ret)
    {
        CloseHandle( pi.hThread );
        return pi.hProcess;
    }
    if (!elevated || same) return NULL;
    if ((params = join_args( argc - 1, argv + 1 ))) process = run_as_administrator( argv[0], params );
    free( params );
    return process;
}

int __cdecl wmain( int argc, WCHAR *argv[] )
{
    BOOL elevated = TRUE, same;
    HANDLE token, process;
    WCHAR *line;
    DWORD code;
    int first = 1;

    if (argc > 1 && (!wcsicmp( argv[1], L"/limited" ) || !wcsicmp( argv[1], L"--limited" )))
    {
        elevated = FALSE;
        first++;
    }
    if (first >= argc || !wcscmp( argv[first], L"/?" ) || !wcscmp( argv[first], L"--help" ))
    {
        usage();
        return first >= argc ? EXIT_USAGE : 0;
    }
    if (!(line = join_args( argc - first, argv + first ))) return EXIT_FAILED;

    token = other_token( elevated, &same );
    if (!token && !same && !elevated)
    {
        error( L"no limited token to run with", GetLastError() );
        free( line );
        return EXIT_FAILED;
    }
    if ((process = start_program( token, same, elevated, line, argc - first, argv + first )))
    {
        WaitForSingleObject( process, INFINITE );
        if (!GetExitCodeProcess( process, &code )) code = EXIT_FAILED;
        CloseHandle( process );
    }
    else
    {
        error( argv[first], GetLastError() );
        code = EXIT_FAILED;
    }
    if (token) CloseHandle( token );
    free( line );
    return (int)code;
}
