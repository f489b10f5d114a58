/*
 * Paths of a prefix's reservation server: the prefix, the private server
 * directory in /tmp, the store, and the server program
 *
 * As the wineserver's, the server directory is keyed by the device and inode
 * of the prefix, owned by the user and closed to everyone else, and so are
 * /tmp/.portres-UID above it and the socket in it; one that is not (owned by
 * another user, open to others, a symbolic link) is refused rather than used.
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
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portres/client.h"

#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif

/* mkdir -p, with the given mode for the directories it creates */
static int make_dirs( const char *path, mode_t mode )
{
    char tmp[PORTRES_PATH_MAX];
    char *p;

    if (snprintf( tmp, sizeof(tmp), "%s", path ) >= (int)sizeof(tmp)) return -1;
    for (p = tmp + 1; *p; p++)
    {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir( tmp, mode ) == -1 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir( tmp, mode ) == -1 && errno != EEXIST) return -1;
    return 0;
}

int portres_prefix_dir( char *buf, size_t size, int create )
{
    const char *prefix = getenv( "WINEPREFIX" );
    char cwd[PORTRES_PATH_MAX];
    struct stat st;
    int len;

    if (prefix && *prefix)
    {
        if (prefix[0] == '/') len = snprintf( buf, size, "%s", prefix );
        else if (getcwd( cwd, sizeof(cwd) )) len = snprintf( buf, size, "%s/%s", cwd, prefix );
        else
        {
            portres_set_error( "cannot resolve WINEPREFIX '%s': %s", prefix, strerror( errno ) );
            return -1;
        }
    }
    else
    {
        const char *home = getenv( "HOME" );
        struct passwd *pwd;

        if ((!home || !*home) && (pwd = getpwuid( getuid() ))) home = pwd->pw_dir;
        if (!home || !*home)
        {
            portres_set_error( "neither WINEPREFIX nor HOME is set" );
            return -1;
        }
        len = snprintf( buf, size, "%s/.wine", home );
    }
    if (len < 0 || (size_t)len >= size)
    {
        portres_set_error( "the prefix path is too long" );
        return -1;
    }
    while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;

    if (stat( buf, &st ) == -1)
    {
        if (errno != ENOENT || !create || make_dirs( buf, 0777 ) == -1 || stat( buf, &st ) == -1)
        {
            portres_set_error( "cannot use the prefix %s: %s", buf, strerror( errno ) );
            return -1;
        }
    }
    if (!S_ISDIR( st.st_mode ))
    {
        portres_set_error( "the prefix %s is not a directory", buf );
        return -1;
    }
    if (st.st_uid != getuid())
    {
        portres_set_error( "the prefix %s is not owned by you", buf );
        return -1;
    }
    return 0;
}

/* what is in the server directory, and the directory itself, is ours alone */
static int check_private( const char *path, const struct stat *st )
{
    if (st->st_uid != getuid())
    {
        portres_set_error( "%s is not owned by you", path );
        errno = EACCES;
        return -1;
    }
    if (st->st_mode & 077)
    {
        portres_set_error( "%s has insecure permissions (mode %03o): it must not be accessible by other users",
                           path, (unsigned int)(st->st_mode & 0777) );
        errno = EACCES;
        return -1;
    }
    return 0;
}

int portres_check_socket( const char *path )
{
    struct stat st;

    if (lstat( path, &st ) == -1)
    {
        if (errno == ENOENT) return 0;  /* no server yet */
        portres_set_error( "cannot use %s: %s", path, strerror( errno ) );
        return -1;
    }
    if (!S_ISSOCK( st.st_mode ))
    {
        portres_set_error( "%s is not a socket", path );
        errno = ENOTSOCK;
        return -1;
    }
    return check_private( path, &st );
}

/* create a private directory, or check that an existing one is private:
 * a directory itself (no symbolic link), owned by us, closed to the others */
static int private_dir( const char *path, int create )
{
    struct stat st;

    if (create && mkdir( path, 0700 ) == -1 && errno != EEXIST)
    {
        portres_set_error( "cannot create %s: %s", path, strerror( errno ) );
        return -1;
    }
    if (lstat( path, &st ) == -1)
    {
        portres_set_error( "cannot use %s: %s", path, strerror( errno ) );
        return -1;
    }
    if (S_ISLNK( st.st_mode ))
    {
        portres_set_error( "%s is a symbolic link, not a directory of yours", path );
        errno = ELOOP;
        return -1;
    }
    if (!S_ISDIR( st.st_mode ))
    {
        portres_set_error( "%s is not a directory", path );
        errno = ENOTDIR;
        return -1;
    }
    return check_private( path, &st );
}

int portres_server_dir( const char *prefix, char *buf, size_t size, int create )
{
    struct stat st;
    int len;

    if (stat( prefix, &st ) == -1)
    {
        portres_set_error( "cannot use the prefix %s: %s", prefix, strerror( errno ) );
        return -1;
    }
    len = snprintf( buf, size, "/tmp/.portres-%u", (unsigned int)getuid() );
    if (len < 0 || (size_t)len >= size || private_dir( buf, create ) == -1) return -1;
    len = snprintf( buf, size, "/tmp/.portres-%u/server-%llx-%llx", (unsigned int)getuid(),
                    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino );
    if (len < 0 || (size_t)len >= size || private_dir( buf, create ) == -1) return -1;
    return 0;
}

int portres_store_path( const char *prefix, char *buf, size_t size )
{
    int len = snprintf( buf, size, "%s/portres-reservations.txt", prefix );
    return (len < 0 || (size_t)len >= size) ? -1 : 0;
}

static int is_executable( const char *path )
{
    struct stat st;
    return stat( path, &st ) == 0 && S_ISREG( st.st_mode ) && access( path, X_OK ) == 0;
}

/* The server program: $PORTRES_SERVER, else beside the module holding this
 * code (an installed bin directory), else in the server directory of the
 * build tree the module was built in, else the installed one. */
int portres_server_path( char *buf, size_t size )
{
    static const char * const candidates[] =
    {
        "portres-server", "server/portres-server", "../server/portres-server", "../../server/portres-server"
    };
    const char *env = getenv( "PORTRES_SERVER" );
    char module[PORTRES_PATH_MAX], *slash;
    Dl_info info;
    unsigned int i;

    if (env && *env)
    {
        snprintf( buf, size, "%s", env );
        return 0;
    }
    module[0] = 0;
    if (dladdr( (void *)portres_server_path, &info ) && info.dli_fname && strchr( info.dli_fname, '/' ))
    {
        if (!realpath( info.dli_fname, module )) module[0] = 0;
    }
    if (!module[0])
    {
        ssize_t len = readlink( "/proc/self/exe", module, sizeof(module) - 1 );
        module[len > 0 ? len : 0] = 0;
    }
    if ((slash = strrchr( module, '/' )))
    {
        *slash = 0;
        for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        {
            if (snprintf( buf, size, "%s/%s", module, candidates[i] ) >= (int)size) continue;
            if (is_executable( buf )) return 0;
        }
    }
    snprintf( buf, size, "%s/portres-server", BINDIR );
    return 0;
}

int portres_lock_holder( const char *path )
{
    struct flock fl;
    int fd, ret;

    if ((fd = open( path, O_RDONLY | O_CLOEXEC )) == -1) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    memset( &fl, 0, sizeof(fl) );
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    ret = fcntl( fd, F_GETLK, &fl );
    close( fd );
    if (ret == -1) return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}
