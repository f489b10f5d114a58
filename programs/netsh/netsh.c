/*
 * netsh.exe: the excludedportrange and dynamicportrange commands of netsh's
 * "interface ipv4" and "interface ipv6" contexts, with Windows' syntax and
 * output, on the port reservations of the Wine prefix (through the bridge,
 * as the proxy DLLs reach the reservation server).  Every other netsh
 * command is refused with a message saying so.
 *
 *   netsh interface ipv4|ipv6 show excludedportrange [protocol=]tcp|udp [[store=]active|persistent]
 *   netsh interface ipv4|ipv6 add|delete excludedportrange [protocol=]tcp|udp [startport=]N
 *                                 [numberofports=]N [[store=]active|persistent]
 *   netsh interface ipv4|ipv6 show dynamicportrange [protocol=]tcp|udp
 *   netsh interface ipv4|ipv6 set dynamicportrange [protocol=]tcp|udp [startport=]N
 *                                 [numberofports=]N [[store=]active|persistent]
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
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <ntstatus.h>
#define WIN32_NO_STATUS
#include <windows.h>
#include <winternl.h>

#include "portres/protocol.h"
#include "portres/bridge.h"
#include "portres/pebridge.h"

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))

/* entries of one page of the list request: PORTRES_LIST_PAGE of portres/client.h,
 * which is the Unix client library's header */
#define LIST_PAGE (PORTRES_MAX_REPLY_DATA / sizeof(struct portres_entry))
/* the most reservations a protocol can have: one per port */
#define MAX_ENTRIES 65536

/***********************************************************************
 *           output
 *
 * Everything goes to standard output, as Windows' netsh writes its errors
 * there too: to a console as it is, to a file or a pipe in the console's
 * code page with Windows line ends.
 */

static void write_output( const WCHAR *str, int len )
{
    HANDLE handle = GetStdHandle( STD_OUTPUT_HANDLE );
    WCHAR wide[2048];
    char bytes[8192];
    DWORD mode, written;
    UINT codepage;
    int i, pos, size;

    if (handle == INVALID_HANDLE_VALUE || !handle) return;
    if (GetConsoleMode( handle, &mode ))
    {
        WriteConsoleW( handle, str, len, &written, NULL );
        return;
    }
    if (!(codepage = GetConsoleOutputCP())) codepage = GetOEMCP();
    while (len > 0)
    {
        for (i = pos = 0; i < len && pos < (int)ARRAY_SIZE(wide) - 2; i++)
        {
            if (str[i] == '\n') wide[pos++] = '\r';
            wide[pos++] = str[i];
        }
        size = WideCharToMultiByte( codepage, 0, wide, pos, bytes, sizeof(bytes), NULL, NULL );
        if (size > 0) WriteFile( handle, bytes, size, &written, NULL );
        str += i;
        len -= i;
    }
}

static void print( const WCHAR *format, ... )
{
    WCHAR buffer[2048];
    va_list args;
    int len;

    va_start( args, format );
    len = _vsnwprintf( buffer, ARRAY_SIZE(buffer) - 1, format, args );
    va_end( args );
    if (len < 0) len = ARRAY_SIZE(buffer) - 1;  /* cut short */
    buffer[len] = 0;
    write_output( buffer, len );
}

/* the system's own message of a Win32 error, as netsh prints it */
static void print_error( DWORD error )
{
    WCHAR *message = NULL;
    DWORD len;

    len = FormatMessageW( FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS |
                          FORMAT_MESSAGE_ALLOCATE_BUFFER, NULL, error, 0, (WCHAR *)&message, 0, NULL );
    if (!len || !message)
    {
        print( L"Error %lu.\n\n", error );
        return;
    }
    while (len && (message[len - 1] == '\r' || message[len - 1] == '\n' || message[len - 1] == ' ')) len--;
    message[len] = 0;
    print( L"%ls\n\n", message );
    LocalFree( message );
}

/* a bridge call failed: say why, with Windows' message when iphlpapi has
 * an error code for it; returns netsh's exit status */
static int report_status( NTSTATUS status )
{
    struct bridge_error_message_params error;
    WCHAR message[ARRAY_SIZE(error.message)];

    switch (status)
    {
    case STATUS_NOT_SUPPORTED:
        print( L"The port reservations of this Wine prefix are not available: portres' bridge (portres.dll "
               L"and portres.so) cannot be loaded. Install it with 'sudo make install' and 'portres install', "
               L"or run netsh with portres-wine.\n\n" );
        break;
    case STATUS_CONNECTION_REFUSED:
    case STATUS_CONNECTION_RESET:
        if (!bridge_call( bridge_error_message, &error ) &&
            MultiByteToWideChar( CP_UTF8, 0, error.message, -1, message, ARRAY_SIZE(message) ))
            print( L"The port reservation server cannot be reached: %ls\n\n", message );
        else
            print( L"The port reservation server cannot be reached.\n\n" );
        break;
    default:
        print_error( bridge_status_to_error( status ) );
        break;
    }
    return 1;
}

/***********************************************************************
 *           the commands
 */

enum tag_id
{
    TAG_PROTOCOL,
    TAG_STARTPORT,
    TAG_NUMBEROFPORTS,
    TAG_STORE,
    TAG_COUNT
};

/* a parameter's tag and the shortest abbreviation of it that is accepted,
 * as netsh accepts abbreviated tags (start=, num=) */
static const struct
{
    const WCHAR *name;
    size_t       min_len;
} tags[TAG_COUNT] =
{
    { L"protocol", 1 },
    { L"startport", 3 },
    { L"numberofports", 1 },
    { L"store", 3 },
};

/* the parameters of a command, checked */
struct params
{
    unsigned int   protocol;        /* PORTRES_PROTO_* */
    const WCHAR   *protocol_name;   /* as netsh prints it */
    unsigned short start;
    unsigned short count;
    BOOL           active;          /* store=active */
};

typedef int (*command_func)( const struct params *params );

struct command
{
    const WCHAR  *verb;
    size_t        verb_min_len;
    const WCHAR  *object;
    size_t        object_min_len;
    enum tag_id   tags[TAG_COUNT];   /* in the order values without a tag take them */
    unsigned int  nb_tags;
    unsigned int  nb_required;       /* the first ones are required */
    BOOL          active;            /* store=active unless told otherwise */
    command_func  func;
    const WCHAR  *summary;
    const WCHAR  *usage;
};

static int show_excluded( const struct params *params )
{
    struct bridge_request_params call;
    struct list_request *req;
    struct portres_entry *entries;
    unsigned int nb_entries = 0, first_port = 0, next_port, i;
    NTSTATUS status = STATUS_SUCCESS;

    /* the whole list first, so that a failure prints no half table */
    if (!(entries = HeapAlloc( GetProcessHeap(), 0, (MAX_ENTRIES + LIST_PAGE) * sizeof(*entries) )))
        return report_status( STATUS_NO_MEMORY );
    for (;;)
    {
        req = BRIDGE_REQUEST( &call, list );
        req->protocol = params->protocol;
        req->first_port = first_port;
        call.data = (ULONG_PTR)(entries + nb_entries);
        call.data_size = LIST_PAGE * sizeof(*entries);
        if ((status = bridge_call( bridge_request, &call ))) break;
        nb_entries += call.data_size / sizeof(*entries);
        /* the next page starts past this one; anything else would loop */
        next_port = call.reply.list_reply.next_port;
        if (!next_port || next_port <= first_port || nb_entries > MAX_ENTRIES) break;
        first_port = next_port;
    }
    if (status)
    {
        HeapFree( GetProcessHeap(), 0, entries );
        return report_status( status );
    }

    print( L"\nProtocol %ls Port Exclusion Ranges\n\n", params->protocol_name );
    print( L"Start Port    End Port\n" );
    print( L"----------    --------\n" );
    for (i = 0; i < nb_entries; i++)
    {
        BOOL administered = entries[i].kind == PORTRES_KIND_PERSISTENT;

        /* the persistent store holds the administered exclusions only */
        if (!params->active && !administered) continue;
        print( L"%10u  %10u%ls\n", entries[i].start, entries[i].start + entries[i].count - 1,
               administered ? L"     *" : L"" );
    }
    print( L"\n* - Administered port exclusions.\n\n" );
    HeapFree( GetProcessHeap(), 0, entries );
    return 0;
}

/* add or delete an administered exclusion: the requests' fields are alike */
static int change_excluded( BOOL add, const struct params *params )
{
    struct bridge_request_params call;
    struct persistent_delete_request *req;
    NTSTATUS status;

    C_ASSERT( offsetof(struct persistent_create_request, elevated) ==
              offsetof(struct persistent_delete_request, elevated) );
    if (add) req = (struct persistent_delete_request *)BRIDGE_REQUEST( &call, persistent_create );
    else req = BRIDGE_REQUEST( &call, persistent_delete );
    req->protocol = params->protocol;
    req->start = params->start;
    req->count = params->count;
    req->elevated = bridge_process_elevated();
    /* Windows keeps an exclusion of the active store until the next boot;
     * the reservation server has no such store, and quietly making it
     * persistent would outlive what the caller asked for */
    if (params->active)
    {
        print( L"store=active is not available: this prefix keeps administered port exclusions in the\n"
               L"persistent store only.  Use store=persistent (the default).\n\n" );
        return 1;
    }
    if ((status = bridge_call( bridge_request, &call ))) return report_status( status );
    print( L"Ok.\n\n" );
    return 0;
}

static int add_excluded( const struct params *params )
{
    return change_excluded( TRUE, params );
}

static int delete_excluded( const struct params *params )
{
    return change_excluded( FALSE, params );
}

static int show_dynamic( const struct params *params )
{
    struct bridge_request_params call;
    const struct get_dynamic_range_reply *reply = &call.reply.get_dynamic_range_reply;
    NTSTATUS status;

    BRIDGE_REQUEST( &call, get_dynamic_range )->protocol = params->protocol;
    if ((status = bridge_call( bridge_request, &call ))) return report_status( status );
    print( L"\nProtocol %ls Dynamic Port Range\n", params->protocol_name );
    print( L"---------------------------------\n" );
    print( L"Start Port      : %u\n", reply->start );
    print( L"Number of Ports : %u\n\n", reply->count );
    return 0;
}

static int set_dynamic( const struct params *params )
{
    struct bridge_request_params call;
    struct set_dynamic_range_request *req = BRIDGE_REQUEST( &call, set_dynamic_range );
    NTSTATUS status;

    /* the server keeps one dynamic range per protocol, in the prefix: the
     * active store is the persistent one */
    req->protocol = params->protocol;
    req->start = params->start;
    req->count = params->count;
    req->elevated = bridge_process_elevated();
    if ((status = bridge_call( bridge_request, &call ))) return report_status( status );
    print( L"Ok.\n\n" );
    return 0;
}

#define STORE_HELP \
    L"       store        - One of these values:\n" \
    L"                      active: the exclusion lasts until the reservation\n" \
    L"                              server of the prefix ends (Windows: until\n" \
    L"                              the next boot).\n" \
    L"                      persistent: the exclusion is kept in the prefix.\n" \
    L"                              This is the default.\n"

static const struct command commands[] =
{
    {
        L"show", 2, L"excludedportrange", 4,
        { TAG_PROTOCOL, TAG_STORE }, 2, 1, TRUE, show_excluded,
        L"show excludedportrange   - Shows the ports excluded from automatic assignment.",
        L"Usage: show excludedportrange [protocol=]tcp|udp [[store=]active|persistent]\n\n"
        L"Parameters:\n\n"
        L"       Tag            Value\n"
        L"       protocol     - The protocol whose exclusions to show: tcp or udp.\n"
        L"       store        - active: every port exclusion in effect (the default).\n"
        L"                      persistent: the administered exclusions only.\n\n"
        L"Remarks: Shows the ranges of ports that automatic port assignment skips.\n"
        L"         Administered exclusions, the ones made with add excludedportrange,\n"
        L"         are marked with *; the others are runtime reservations of programs.\n\n"
        L"Example:\n\n"
        L"       show excludedportrange protocol=tcp\n\n"
    },
    {
        L"add", 1, L"excludedportrange", 4,
        { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE }, 4, 3, FALSE, add_excluded,
        L"add excludedportrange    - Excludes a range of ports from automatic assignment.",
        L"Usage: add excludedportrange [protocol=]tcp|udp [startport=]<integer>\n"
        L"             [numberofports=]<integer> [[store=]active|persistent]\n\n"
        L"Parameters:\n\n"
        L"       Tag            Value\n"
        L"       protocol     - The protocol of the ports: tcp or udp.\n"
        L"       startport    - The first port of the range.\n"
        L"       numberofports - How many ports the range holds.\n"
        STORE_HELP L"\n"
        L"Remarks: Excludes a range of ports from automatic port assignment.  The\n"
        L"         range must not overlap another exclusion or a reservation.\n\n"
        L"Example:\n\n"
        L"       add excludedportrange protocol=tcp startport=47000 numberofports=8\n\n"
    },
    {
        L"delete", 2, L"excludedportrange", 4,
        { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE }, 4, 3, FALSE, delete_excluded,
        L"delete excludedportrange - Deletes an administered port exclusion.",
        L"Usage: delete excludedportrange [protocol=]tcp|udp [startport=]<integer>\n"
        L"             [numberofports=]<integer> [[store=]active|persistent]\n\n"
        L"Parameters:\n\n"
        L"       Tag            Value\n"
        L"       protocol     - The protocol of the ports: tcp or udp.\n"
        L"       startport    - The first port of the range.\n"
        L"       numberofports - How many ports the range holds.\n"
        STORE_HELP L"\n"
        L"Remarks: Deletes an administered port exclusion.  The start port and the\n"
        L"         number of ports must be the ones it was added with.\n\n"
        L"Example:\n\n"
        L"       delete excludedportrange protocol=tcp startport=47000 numberofports=8\n\n"
    },
    {
        L"show", 2, L"dynamicportrange", 3,
        { TAG_PROTOCOL, TAG_STORE }, 2, 1, TRUE, show_dynamic,
        L"show dynamicportrange    - Shows the dynamic port range.",
        L"Usage: show dynamicportrange [protocol=]tcp|udp [[store=]active|persistent]\n\n"
        L"Parameters:\n\n"
        L"       Tag            Value\n"
        L"       protocol     - The protocol whose range to show: tcp or udp.\n"
        L"       store        - active or persistent: the prefix has one range per\n"
        L"                      protocol, kept in the prefix; both show it.\n\n"
        L"Remarks: Shows the range of ports that automatic port assignment and\n"
        L"         wildcard reservations use.\n\n"
        L"Example:\n\n"
        L"       show dynamicportrange tcp\n\n"
    },
    {
        L"set", 2, L"dynamicportrange", 3,
        { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE }, 4, 3, FALSE, set_dynamic,
        L"set dynamicportrange     - Sets the dynamic port range.",
        L"Usage: set dynamicportrange [protocol=]tcp|udp [startport=]<integer>\n"
        L"             [numberofports=]<integer> [[store=]active|persistent]\n\n"
        L"Parameters:\n\n"
        L"       Tag            Value\n"
        L"       protocol     - The protocol of the range: tcp or udp.\n"
        L"       startport    - The first port of the range, 1025 or above.\n"
        L"       numberofports - How many ports the range holds, 255 or more;\n"
        L"                      the range must end at 65535 or below.\n"
        L"       store        - active or persistent: the prefix keeps one range\n"
        L"                      per protocol, in the prefix, for both.\n\n"
        L"Remarks: Sets the range of ports that automatic port assignment and\n"
        L"         wildcard reservations use.  IPv4 and IPv6 share it.\n\n"
        L"Example:\n\n"
        L"       set dynamicportrange protocol=tcp startport=50000 numberofports=10000\n\n"
    },
};

static void usage( void )
{
    unsigned int i;

    print( L"\nUsage: netsh interface ipv4|ipv6 COMMAND [PARAMETERS]\n\n"
           L"This netsh is portres' and implements only these commands of Windows' netsh,\n"
           L"on the port reservations of the Wine prefix:\n\n" );
    for (i = 0; i < ARRAY_SIZE(commands); i++) print( L"  %ls\n", commands[i].summary );
    print( L"\nKeywords are case-insensitive and may be shortened (int, dynamicport, start=,\n"
           L"num=); values may be given without their tag, in the order of the usage.\n"
           L"'netsh interface ipv4 COMMAND /?' shows the parameters of a command.\n\n"
           L"Example:\n\n"
           L"  netsh interface ipv4 add excludedportrange protocol=tcp startport=47000 numberofports=8\n\n" );
}

/* the commands of a context, or of one verb (NULL for all) */
static void list_commands( const WCHAR *context, const WCHAR *verb )
{
    unsigned int i;

    print( L"\nThe following commands of netsh %ls are available:\n\n", context );
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        if (!verb || !wcscmp( verb, commands[i].verb ))
            print( L"%ls\n", commands[i].summary );
    print( L"\nType a command followed by /? for its parameters.\n\n" );
}

/***********************************************************************
 *           parsing the command line
 */

/* whether arg is name, or an abbreviation of it at least min_len long */
static BOOL match( const WCHAR *arg, const WCHAR *name, size_t min_len )
{
    size_t len = wcslen( arg );

    return len >= min_len && len <= wcslen( name ) && !_wcsnicmp( arg, name, len );
}

static BOOL is_help( const WCHAR *arg )
{
    return !wcscmp( arg, L"?" ) || !wcscmp( arg, L"/?" ) || !wcscmp( arg, L"-?" ) ||
           !_wcsicmp( arg, L"help" ) || !_wcsicmp( arg, L"/help" ) || !_wcsicmp( arg, L"-help" );
}

/* anything this netsh does not implement */
static int unsupported( int argc, WCHAR *argv[] )
{
    WCHAR line[1024];
    size_t pos = 0;
    int i;

    line[0] = 0;
    for (i = 0; i < argc && pos < ARRAY_SIZE(line) - 1; i++)
    {
        int len = _snwprintf( line + pos, ARRAY_SIZE(line) - 1 - pos, L"%ls%ls", i ? L" " : L"", argv[i] );
        if (len < 0) break;
        pos += len;
    }
    line[min( pos, ARRAY_SIZE(line) - 1 )] = 0;
    print( L"This netsh only implements the excludedportrange and dynamicport commands of "
           L"'interface ipv4|ipv6': '%ls' is not available.\n", line );
    return 1;
}

static int syntax_error( const struct command *command )
{
    print( L"The syntax supplied for this command is not valid. Check help for the correct syntax.\n\n" );
    print( L"%ls", command->usage );
    return 1;
}

static int bad_value( const WCHAR *value, enum tag_id tag )
{
    print( L"'%ls' is not an acceptable value for %ls.\n", value, tags[tag].name );
    print_error( ERROR_INVALID_PARAMETER );
    return 1;
}

/* a port or a number of ports: decimal, 0 to 65535 (the server judges the rest) */
static BOOL parse_number( const WCHAR *value, unsigned short *number )
{
    unsigned long result = 0;
    const WCHAR *p;

    if (!*value || wcslen( value ) > 10) return FALSE;
    for (p = value; *p; p++)
    {
        if (*p < '0' || *p > '9') return FALSE;
        result = result * 10 + (*p - '0');
        if (result > 65535) return FALSE;
    }
    *number = result;
    return TRUE;
}

/* the values of the parameters after the command's words, by the
 * position of their tag in the command: tag=value, or values in the order
 * of the command's tags; returns 0 or netsh's exit status */
static int collect_values( const struct command *command, int argc, WCHAR *argv[], const WCHAR **values )
{
    WCHAR name[32];
    unsigned int i;
    int arg;

    for (arg = 0; arg < argc; arg++)
    {
        const WCHAR *equal = wcschr( argv[arg], '=' );
        size_t len = equal ? equal - argv[arg] : 0;

        /* netsh gives a value without a tag the tag of its position */
        if (!equal)
        {
            if ((unsigned int)arg >= command->nb_tags || values[arg]) return syntax_error( command );
            values[arg] = argv[arg];
            continue;
        }
        if (!len || len >= ARRAY_SIZE(name) || !equal[1]) return syntax_error( command );
        memcpy( name, argv[arg], len * sizeof(WCHAR) );
        name[len] = 0;
        for (i = 0; i < command->nb_tags; i++)
            if (match( name, tags[command->tags[i]].name, tags[command->tags[i]].min_len )) break;
        if (i == command->nb_tags || values[i]) return syntax_error( command );
        values[i] = equal + 1;
    }
    for (i = 0; i < command->nb_required; i++)
    {
        if (values[i]) continue;
        print( L"One or more essential parameters were not entered.\n"
               L"Verify the required parameters, and reenter them.\n\n" );
        print( L"%ls", command->usage );
        return 1;
    }
    return 0;
}

/* one value of a tag into the parameters; FALSE when it is not one the tag takes */
static BOOL set_param( enum tag_id tag, const WCHAR *value, struct params *params )
{
    switch (tag)
    {
    case TAG_PROTOCOL:
        if (!_wcsicmp( value, L"tcp" ))
        {
            params->protocol = PORTRES_PROTO_TCP;
            params->protocol_name = L"tcp";
            return TRUE;
        }
        if (!_wcsicmp( value, L"udp" ))
        {
            params->protocol = PORTRES_PROTO_UDP;
            params->protocol_name = L"udp";
            return TRUE;
        }
        return FALSE;
    case TAG_STARTPORT:
        return parse_number( value, &params->start );
    case TAG_NUMBEROFPORTS:
        return parse_number( value, &params->count );
    case TAG_STORE:
        if (!_wcsicmp( value, L"active" )) params->active = TRUE;
        else if (!_wcsicmp( value, L"persistent" )) params->active = FALSE;
        else return FALSE;
        return TRUE;
    default:
        return FALSE;
    }
}

/* the parameters after the command's words; returns 0 or netsh's exit status */
static int parse_params( const struct command *command, int argc, WCHAR *argv[], struct params *params )
{
    const WCHAR *values[TAG_COUNT] = { NULL };
    unsigned int i;
    int ret;

    if ((ret = collect_values( command, argc, argv, values ))) return ret;
    memset( params, 0, sizeof(*params) );
    params->active = command->active;
    for (i = 0; i < command->nb_tags; i++)
        if (values[i] && !set_param( command->tags[i], values[i], params ))
            return bad_value( values[i], command->tags[i] );
    return 0;
}

/* the command of "netsh interface CONTEXT VERB OBJECT ...", in *command;
 * returns -1 when found, else netsh's exit status (help or an error
 * printed) */
static int find_command( int argc, WCHAR *argv[], const struct command **command )
{
    const WCHAR *context;
    unsigned int i;

    /* ip is Windows' older name of the ipv4 context; ipv4 and ipv6 share the
     * reservations, which are per protocol */
    if (!_wcsicmp( argv[2], L"ipv4" ) || !_wcsicmp( argv[2], L"ip" )) context = L"interface ipv4";
    else if (!_wcsicmp( argv[2], L"ipv6" )) context = L"interface ipv6";
    else return unsupported( argc - 1, argv + 1 );

    if (argc < 4 || is_help( argv[3] ))
    {
        list_commands( context, NULL );
        return argc < 4 ? 1 : 0;
    }
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        if (match( argv[3], commands[i].verb, commands[i].verb_min_len )) break;
    if (i == ARRAY_SIZE(commands)) return unsupported( argc - 1, argv + 1 );
    if (argc < 5 || is_help( argv[4] ))
    {
        list_commands( context, commands[i].verb );
        return argc < 5 ? 1 : 0;
    }
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        if (match( argv[3], commands[i].verb, commands[i].verb_min_len ) &&
            match( argv[4], commands[i].object, commands[i].object_min_len )) break;
    if (i == ARRAY_SIZE(commands)) return unsupported( argc - 1, argv + 1 );
    *command = &commands[i];
    return -1;
}

int wmain( int argc, WCHAR *argv[] )
{
    const struct command *command = NULL;
    struct params params;
    int arg, ret;

    if (argc < 2)
    {
        /* Windows' netsh would start its interactive shell */
        usage();
        return 1;
    }
    if (is_help( argv[1] ))
    {
        usage();
        return 0;
    }
    if (!match( argv[1], L"interface", 3 )) return unsupported( argc - 1, argv + 1 );
    if (argc < 3 || is_help( argv[2] ))
    {
        usage();
        return argc < 3 ? 1 : 0;
    }
    if ((ret = find_command( argc, argv, &command )) != -1) return ret;

    for (arg = 5; arg < argc; arg++)
    {
        if (!is_help( argv[arg] )) continue;
        print( L"\n%ls", command->usage );
        return 0;
    }
    if ((ret = parse_params( command, argc - 5, argv + 5, &params ))) return ret;
    return command->func( &params );
}
