/*
 * The persistent store: administered reservations and dynamic ranges of a
 * prefix, kept as a text file in the prefix
 *
 * The file is replaced atomically: the new state goes to a temporary file
 * that is synced, renamed over the old one, and the directory synced, so a
 * crash at any moment leaves either the old or the new file.  Format:
 *
 *   # comments
 *   portres-store 1
 *   dynamicport tcp|udp START COUNT
 *   reservation tcp|udp START COUNT TOKEN
 *   end
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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define STORE_FORMAT 1

static int parse_protocol( const char *name )
{
    if (!strcmp( name, "tcp" )) return ENGINE_TCP;
    if (!strcmp( name, "udp" )) return ENGINE_UDP;
    return -1;
}

/* Load the store into the engine.  0 when it was whole or there is none;
 * 1 when it is damaged (the lines that could be read are loaded) and -1
 * when it cannot be read at all, with error saying what is wrong.  A file
 * that does not start as a store of our format is not read at all. */
/* the state of a store being read */
struct store_reader
{
    int          line_no;
    int          header;      /* the header line was read */
    int          end;         /* and the end line */
    unsigned int bad;         /* lines skipped */
    unsigned int first_bad;
};

/* one entry line: 0 when taken, -1 when bad */
static int load_entry( struct engine *engine, const char *line )
{
    char proto[8], extra[2];
    unsigned int start, count;
    unsigned long long token;
    int protocol;

    if (sscanf( line, "dynamicport %7s %u %u %1s", proto, &start, &count, extra ) == 3)
    {
        if ((protocol = parse_protocol( proto )) < 0) return -1;
        return engine_set_dynamic_range( engine, protocol, start, count ) ? -1 : 0;
    }
    if (sscanf( line, "reservation %7s %u %u %llx %1s", proto, &start, &count, &token, extra ) == 4)
    {
        if ((protocol = parse_protocol( proto )) < 0 || !token) return -1;
        if (start > 65535 || count > 65535) return -1;
        return engine_persistent_add( engine, protocol, start, count, token ) ? -1 : 0;
    }
    return -1;
}

/* one line of the store: 0 when taken or ignored, -1 when bad, 1 when the
 * file is not a store of our format */
static int load_line( struct engine *engine, struct store_reader *reader, const char *line )
{
    unsigned int format;
    char extra[2];

    if (line[0] == '#' || line[strspn( line, " \t\r\n" )] == 0) return 0;
    if (reader->end) return -1;
    if (!reader->header)
    {
        if (sscanf( line, "portres-store %u %1s", &format, extra ) != 1 || format != STORE_FORMAT) return 1;
        reader->header = 1;
        return 0;
    }
    if (!strncmp( line, "end", 3 ) && line[3 + strspn( line + 3, " \t\r\n" )] == 0)
    {
        reader->end = 1;
        return 0;
    }
    return load_entry( engine, line );
}

/* read a line whole into line; -1 for a bad one (too long, or the last one
 * cut short, unless it is the end line), 0 at the end of the file */
static int read_line( FILE *file, struct store_reader *reader, char *line, size_t size )
{
    if (!fgets( line, size, file )) return 0;
    reader->line_no++;
    if (strchr( line, '\n' )) return 1;
    if (!feof( file ))
    {
        /* too long for any entry: skip the rest of it */
        while (fgets( line, size, file ) && !strchr( line, '\n' ));
        return -1;
    }
    return reader->header && !strcmp( line, "end" ) ? 1 : -1;
}

/* what went wrong with a store read to its end, 0 when nothing did */
static int load_error( FILE *file, const char *path, const struct store_reader *reader, char *error, size_t size )
{
    if (ferror( file ))
        snprintf( error, size, "cannot read %s after line %d", path, reader->line_no );
    else if (reader->bad)
        snprintf( error, size, "%s:%u: invalid or conflicting entry (%u such lines skipped)%s", path,
                  reader->first_bad, reader->bad, reader->end ? "" : ", and no 'end' line" );
    else if (!reader->end)
        snprintf( error, size, "%s is incomplete (no 'end' line)", path );
    else return 0;
    return 1;
}

int store_load( const char *path, struct engine *engine, char *error, size_t size )
{
    struct store_reader reader = { 0 };
    char line[256];
    FILE *file;
    int ret;

    if (!(file = fopen( path, "re" )))
    {
        if (errno == ENOENT) return 0;
        snprintf( error, size, "cannot read %s: %s", path, strerror( errno ) );
        return -1;
    }
    while ((ret = read_line( file, &reader, line, sizeof(line) )))
    {
        if (ret == 1 && (ret = load_line( engine, &reader, line )) == 1)
        {
            snprintf( error, size, "%s:%d: not a store of format %u; nothing of it is loaded", path,
                      reader.line_no, STORE_FORMAT );
            fclose( file );
            return 1;
        }
        if (ret == -1 && !reader.bad++) reader.first_bad = reader.line_no;
    }
    ret = load_error( file, path, &reader, error, size );
    fclose( file );
    return ret;
}

/* Move a store that could not be loaded out of the way, to
 * PATH.bad-YYYYMMDD-HHMMSS (with -N added when that exists), so that the
 * next save does not overwrite what was in it.  -1 with errno on failure. */
int store_set_aside( const char *path, char *aside, size_t size )
{
    char stamp[32];
    struct tm tm;
    time_t now = time( NULL );
    int i;

    strftime( stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r( &now, &tm ) );
    for (i = 0; i < 100; i++)
    {
        if (i) snprintf( aside, size, "%s.bad-%s-%d", path, stamp, i );
        else snprintf( aside, size, "%s.bad-%s", path, stamp );
        if (!renameat2( AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE )) return 0;
        if (errno == EINVAL || errno == ENOSYS)   /* a file system without RENAME_NOREPLACE */
        {
            if (!access( aside, F_OK )) continue;
            if (!rename( path, aside )) return 0;
        }
        if (errno != EEXIST) return -1;
    }
    errno = EEXIST;
    return -1;
}

struct save_context
{
    FILE *file;
    int   protocol;
};

static int save_reservation( void *ctx, const struct engine_info *info )
{
    struct save_context *save = ctx;

    if (info->kind == PORTRES_KIND_PERSISTENT)
        fprintf( save->file, "reservation %s %u %u %016llx\n", engine_protocol_name( save->protocol ),
                 info->start, info->count, (unsigned long long)info->token );
    return 0;
}

static unsigned int errno_to_status( int err )
{
    switch (err)
    {
    case ENOSPC:
    case EDQUOT: return STATUS_DISK_FULL;
    case EROFS:  return STATUS_MEDIA_WRITE_PROTECTED;
    case EACCES:
    case EPERM:  return STATUS_ACCESS_DENIED;
    case ENOMEM: return STATUS_NO_MEMORY;
    default:     return STATUS_UNEXPECTED_IO_ERROR;
    }
}

unsigned int store_save( const char *path, struct engine *engine )
{
    struct save_context save;
    char tmp[4096], dir[4096], *slash;
    unsigned short start, count;
    int fd, dir_fd, err = 0;

    if (snprintf( tmp, sizeof(tmp), "%s.tmp", path ) >= (int)sizeof(tmp)) return STATUS_INVALID_PARAMETER;
    if ((fd = open( tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600 )) == -1) return errno_to_status( errno );
    if (!(save.file = fdopen( fd, "w" )))
    {
        err = errno;
        close( fd );
        unlink( tmp );
        return errno_to_status( err );
    }
    fprintf( save.file, "# Port reservations of this Wine prefix, kept by portres-server.\n" );
    fprintf( save.file, "# Change them with 'portres add|delete', not here while a server runs.\n" );
    fprintf( save.file, "portres-store %u\n", STORE_FORMAT );
    for (save.protocol = 0; save.protocol < ENGINE_NB_PROTOCOLS; save.protocol++)
    {
        engine_get_dynamic_range( engine, save.protocol, &start, &count );
        fprintf( save.file, "dynamicport %s %u %u\n", engine_protocol_name( save.protocol ), start, count );
    }
    for (save.protocol = 0; save.protocol < ENGINE_NB_PROTOCOLS; save.protocol++)
        engine_enum( engine, NULL, save.protocol, 0, save_reservation, &save );
    fprintf( save.file, "end\n" );

    errno = 0;  /* ferror() sets none: a stale value must not be reported */
    if (fflush( save.file ) == EOF || ferror( save.file ) || fsync( fd ) == -1) err = errno ? errno : EIO;
    if (fclose( save.file ) == EOF && !err) err = errno;
    if (!err && rename( tmp, path ) == -1) err = errno;
    if (err)
    {
        unlink( tmp );
        return errno_to_status( err );
    }

    /* Make the rename itself durable.  The change has taken effect whatever
     * happens here, so a failure cannot undo it; it is said, since a power
     * cut could then bring the previous store back. */
    snprintf( dir, sizeof(dir), "%s", path );
    if ((slash = strrchr( dir, '/' ))) *slash = 0;
    if ((dir_fd = open( slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC )) == -1 || fsync( dir_fd ) == -1)
        fprintf( stderr, "portres-server: cannot sync the directory of %s: %s\n", path, strerror( errno ) );
    if (dir_fd != -1) close( dir_fd );
    return STATUS_SUCCESS;
}
