/*
 * portres: the administration command of a prefix's port reservations
 *
 *   portres show tcp|udp
 *   portres add|delete|lookup tcp|udp START COUNT
 *   portres dynamicport tcp|udp [START COUNT]
 *   portres checkstate
 *   portres install|uninstall|check   (the prefix's proxies, by portres-install)
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portres/client.h"

static void usage( FILE *out )
{
    fprintf( out,
             "Usage: portres COMMAND [ARGS]\n"
             "Manage the port reservations of the Wine prefix $WINEPREFIX (default ~/.wine).\n\n"
             "Commands:\n"
             "  show tcp|udp                    list the reserved port ranges\n"
             "  add tcp|udp START COUNT         reserve ports START..START+COUNT-1 persistently\n"
             "                                  and print the reservation's token\n"
             "  delete tcp|udp START COUNT      delete that persistent reservation\n"
             "  lookup tcp|udp START COUNT      print the token of that persistent reservation\n"
             "  dynamicport tcp|udp [START NUM] show or set the dynamic port range\n"
             "  checkstate                      count what the reservation server holds and check\n"
             "                                  its internal consistency (a debugging aid)\n"
             "  install [--no-system]           put the proxy DLLs into the prefix, and the bridge\n"
             "                                  into Wine's own DLL directory when it can be written\n"
             "                                  there (as root); --no-system leaves Wine's directory\n"
             "                                  alone (portres-wine reaches the bridge without it)\n"
             "  uninstall                       restore Wine's own DLLs in the prefix\n"
             "  check                           tell whether the prefix is installed and intact\n"
             "                                  and a plain wine reaches the bridge\n"
             "  (install, uninstall and check also take --quiet)\n"
             "  help                            show this help\n" );
}

static int error( const char *format, ... ) __attribute__((format(printf, 1, 2)));

static int error( const char *format, ... )
{
    va_list args;

    fputs( "portres: ", stderr );
    va_start( args, format );
    vfprintf( stderr, format, args );
    va_end( args );
    fputc( '\n', stderr );
    return 1;
}

/* a request failed: say why */
static int request_error( unsigned int status, const char *what )
{
    if (status == STATUS_CONNECTION_REFUSED || status == STATUS_CONNECTION_RESET)
        return error( "%s", portres_error_message() );
    return error( "%s: %s", what, portres_status_name( status ) );
}

static int parse_protocol( const char *arg, unsigned int *protocol )
{
    if (!strcmp( arg, "tcp" )) *protocol = PORTRES_PROTO_TCP;
    else if (!strcmp( arg, "udp" )) *protocol = PORTRES_PROTO_UDP;
    else
    {
        error( "unknown protocol '%s': use tcp or udp", arg );
        return -1;
    }
    return 0;
}

static int parse_number( const char *arg, const char *name, unsigned long max, unsigned long *value )
{
    char *end;

    /* digits only: strtoul would skip blanks and take a sign, so that
     * " -18446744073709486081" came out as 65535 */
    if (!*arg || strspn( arg, "0123456789" ) != strlen( arg ))
    {
        error( "%s '%s' is not a number", name, arg );
        return -1;
    }
    errno = 0;
    *value = strtoul( arg, &end, 10 );
    if (*end || errno)
    {
        error( "%s '%s' is not a number", name, arg );
        return -1;
    }
    if (*value < 1 || *value > max)
    {
        error( "%s %s is out of range (1 to %lu)", name, arg, max );
        return -1;
    }
    return 0;
}

/* PROTOCOL START COUNT */
static int parse_range( char **args, unsigned int *protocol, unsigned short *start, unsigned short *count )
{
    unsigned long first, number;

    if (parse_protocol( args[0], protocol ) == -1) return -1;
    if (parse_number( args[1], "start port", 65535, &first ) == -1) return -1;
    if (parse_number( args[2], "count", 65535, &number ) == -1) return -1;
    if (first + number - 1 > 65535)
    {
        error( "ports %lu to %lu go past 65535", first, first + number - 1 );
        return -1;
    }
    *start = first;
    *count = number;
    return 0;
}

static int show_entry( void *ctx, const struct portres_entry *entry )
{
    printf( "%10u  %10u", entry->start, entry->start + entry->count - 1 );
    if (entry->kind == PORTRES_KIND_PERSISTENT) printf( "     *\n" );
    else printf( "       (pid %u)\n", entry->owner_pid );
    return 0;
}

static int do_show( unsigned int protocol, const char *name )
{
    unsigned int status;

    printf( "\nProtocol %s Port Exclusion Ranges\n\n", name );
    printf( "Start Port    End Port\n" );
    printf( "----------    --------\n" );
    if ((status = portres_list( protocol, show_entry, NULL ))) return request_error( status, "show" );
    printf( "\n* - Administered port exclusions.\n\n" );
    return 0;
}

static int do_range_command( const char *command, char **args )
{
    unsigned int protocol, status;
    unsigned short start, count;
    portres_token_t token;
    char what[64];

    if (parse_range( args, &protocol, &start, &count ) == -1) return 2;
    snprintf( what, sizeof(what), "%s ports %u-%u", args[0], start, start + count - 1 );

    if (!strcmp( command, "add" ))
    {
        if ((status = portres_persistent_create( protocol, start, count, 1, &token )))
            return request_error( status, what );
        printf( "0x%016llx\n", (unsigned long long)token );
    }
    else if (!strcmp( command, "delete" ))
    {
        if ((status = portres_persistent_delete( protocol, start, count, 1 )))
        {
            if (status == STATUS_NOT_FOUND)
                return error( "%s: no persistent reservation with exactly this start and count", what );
            if (status == STATUS_ACCESS_DENIED)
                return error( "%s: this is a runtime reservation of a program, not a persistent one", what );
            return request_error( status, what );
        }
    }
    else
    {
        if ((status = portres_persistent_lookup( protocol, start, count, &token )))
        {
            if (status == STATUS_NOT_FOUND)
                return error( "%s: no persistent reservation with exactly this start and count", what );
            return request_error( status, what );
        }
        printf( "0x%016llx\n", (unsigned long long)token );
    }
    return 0;
}

static int do_dynamicport( char **args, int nb_args )
{
    unsigned int protocol, status;
    unsigned short start, count;
    unsigned long first, number;

    if (parse_protocol( args[0], &protocol ) == -1) return 2;
    if (nb_args == 1)
    {
        if ((status = portres_get_dynamic_range( protocol, &start, &count )))
            return request_error( status, "dynamicport" );
        printf( "Protocol %s Dynamic Port Range\n", args[0] );
        printf( "---------------------------------\n" );
        printf( "Start Port      : %u\n", start );
        printf( "Number of Ports : %u\n", count );
        return 0;
    }
    if (parse_number( args[1], "start port", 65535, &first ) == -1) return 2;
    if (parse_number( args[2], "number of ports", 65535, &number ) == -1) return 2;
    if (first < 1025 || number < 255 || first + number - 1 > 65535)
        return error( "the dynamic range must start at 1025 or above, hold at least 255 ports "
                      "and end at 65535 or below" ) + 1;
    if ((status = portres_set_dynamic_range( protocol, first, number, 1 )))
        return request_error( status, "dynamicport" );
    return 0;
}

static int do_checkstate( void )
{
    struct check_state_reply state;
    char message[PORTRES_MAX_REPLY_DATA + 1];
    unsigned int status = portres_check_state( &state, message, sizeof(message) );

    if (status && status != STATUS_INTERNAL_ERROR) return request_error( status, "checkstate" );
    printf( "clients       %u\n", state.clients );
    printf( "sockets       %u\n", state.sockets );
    printf( "associations  %u\n", state.associations );
    printf( "tcp           %u runtime, %u persistent\n", state.tcp_runtime, state.tcp_persistent );
    printf( "udp           %u runtime, %u persistent\n", state.udp_runtime, state.udp_persistent );
    if (status) return error( "the server's state is inconsistent: %s", message );
    printf( "state         consistent\n" );
    return 0;
}

/* install, uninstall and check are the work of the portres-install script beside us */
static int run_install_script( char *argv[] )
{
    char path[PATH_MAX + 32], *slash;
    ssize_t len = readlink( "/proc/self/exe", path, PATH_MAX - 1 );

    if (len <= 0 || !(slash = memrchr( path, '/', len ))) return error( "cannot find my own directory" );
    strcpy( slash + 1, "portres-install" );
    argv[0] = path;
    execv( path, argv );
    return error( "cannot run %s: %s", path, strerror( errno ) );
}

int main( int argc, char *argv[] )
{
    const char *command = argc > 1 ? argv[1] : NULL;
    unsigned int protocol;

    if (!command)
    {
        usage( stderr );
        return 2;
    }
    if (!strcmp( command, "help" ) || !strcmp( command, "--help" ) || !strcmp( command, "-h" ))
    {
        usage( stdout );
        return 0;
    }
    if (!strcmp( command, "show" ))
    {
        if (argc != 3) return error( "usage: portres show tcp|udp" ) + 1;
        if (parse_protocol( argv[2], &protocol ) == -1) return 2;
        return do_show( protocol, argv[2] );
    }
    if (!strcmp( command, "add" ) || !strcmp( command, "delete" ) || !strcmp( command, "lookup" ))
    {
        if (argc != 5) return error( "usage: portres %s tcp|udp START COUNT", command ) + 1;
        return do_range_command( command, argv + 2 );
    }
    if (!strcmp( command, "checkstate" ))
    {
        if (argc != 2) return error( "usage: portres checkstate" ) + 1;
        return do_checkstate();
    }
    if (!strcmp( command, "install" ) || !strcmp( command, "uninstall" ) || !strcmp( command, "check" ))
        return run_install_script( argv );
    if (!strcmp( command, "dynamicport" ))
    {
        if (argc != 3 && argc != 5) return error( "usage: portres dynamicport tcp|udp [START NUM]" ) + 1;
        return do_dynamicport( argv + 2, argc - 2 );
    }
    error( "unknown command '%s'", command );
    usage( stderr );
    return 2;
}
