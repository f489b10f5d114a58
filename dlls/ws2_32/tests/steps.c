/*
 * The step files of the project's own Windows test programs (steps.h)
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

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>

#include "steps.h"

BOOL step_tell( const char *dir, const char *name, const char *line )
{
    char path[MAX_PATH + 16], tmp[MAX_PATH + 16];
    FILE *file;

    snprintf( path, sizeof(path), "%s\\%s", dir, name );
    snprintf( tmp, sizeof(tmp), "%s.tmp", path );
    if (!(file = fopen( tmp, "w" ))) return FALSE;
    fprintf( file, "%s\n", line );
    if (fclose( file )) return FALSE;
    return MoveFileA( tmp, path );
}

BOOL step_wait( const char *dir, const char *name, char *buf, int size )
{
    char path[MAX_PATH + 16];
    FILE *file;
    int i;

    snprintf( path, sizeof(path), "%s\\%s", dir, name );
    buf[0] = 0;
    for (i = 0; i < 30000 && GetFileAttributesA( path ) == INVALID_FILE_ATTRIBUTES; i++) Sleep( 10 );
    if (!(file = fopen( path, "r" ))) return FALSE;
    if (!fgets( buf, size, file )) buf[0] = 0;
    fclose( file );
    buf[strcspn( buf, "\r\n" )] = 0;
    return TRUE;
}
