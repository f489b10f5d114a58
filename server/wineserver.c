/*
 * Whether a Wine socket still exists, as the prefix's wineserver knows it
 *
 * The wineserver keeps a descriptor of the kernel socket of every socket
 * object of its prefix for as long as the object lives, whatever ends it:
 * the last closesocket or CloseHandle of any duplicate in any process, a
 * CRT _close, the end of the processes that held it.  A Wine socket is
 * named by the inode of its kernel socket, the same for every duplicate,
 * and lives exactly as long as an entry of /proc/WINESERVER/fd names it.
 * The wineserver is the process that holds the lock of Wine's server
 * directory of the prefix, server-DEV-INO (as the reservation server's own
 * directory is named) in /tmp/.wine-UID upstream; Debian's Wine puts it in
 * /run/user/UID/wine when that exists, else in a directory of TMPDIR whose
 * name the prefix's file "wineserver" holds.
 *
 * The descriptor where a socket was last seen is remembered, so that a
 * check is one readlink (3 to 4 us here); a miss reads the whole table
 * (6 us a descriptor), at most once per round of requests
 * (wineserver_new_round).  The wineserver found is watched by its pidfd:
 * when it exits, every socket of the prefix has ended, and the server need
 * not wait for its next sweep to know.
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


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server.h"
#include "hash.h"
#include "portres/client.h"

struct seen
{
    struct hash_entry entry;    /* keyed by inode */
    int               fd;       /* the wineserver's descriptor of it */
};

#define NB_CANDIDATES 3
static char lock_paths[NB_CANDIDATES][PORTRES_PATH_MAX + 64];
static int wineserver_pid;               /* 0 when none runs */
static int fd_dir = -1;                  /* /proc/WINESERVER/fd, kept open */
static int pidfd = -1;                   /* the wineserver's, once found */
static int pidfd_pid;                    /* the pid it is of */
static struct hash_table seen;           /* inode -> descriptor, as of the last scan */
static unsigned int scan_round, scanned_round = ~0u;

void wineserver_init( const char *prefix )
{
    const char *tmpdir = getenv( "TMPDIR" );
    char path[PORTRES_PATH_MAX + 64], name[256], key[64];
    unsigned int uid = getuid();
    struct stat st;
    FILE *file;

    hash_init( &seen );
    if (stat( prefix, &st ) == -1) return;
    snprintf( key, sizeof(key), "server-%llx-%llx/lock", (unsigned long long)st.st_dev,
              (unsigned long long)st.st_ino );
    snprintf( lock_paths[0], sizeof(lock_paths[0]), "/tmp/.wine-%u/%s", uid, key );
    snprintf( lock_paths[1], sizeof(lock_paths[1]), "/run/user/%u/wine/%s", uid, key );
    snprintf( path, sizeof(path), "%s/wineserver", prefix );
    if ((file = fopen( path, "r" )))
    {
        if (fgets( name, sizeof(name), file ) && name[0] && !strchr( name, '/' ))
        {
            name[strcspn( name, "\n" )] = 0;
            snprintf( lock_paths[2], sizeof(lock_paths[2]), "%s/%s/%s", tmpdir && *tmpdir ? tmpdir : "/tmp",
                      name, key );
        }
        fclose( file );
    }
}

void wineserver_new_round( void )
{
    scan_round++;
}

/* the pid of the prefix's wineserver, 0 when none runs, -1 when it cannot be told */
static int find_wineserver( void )
{
    int i, pid, ret = 0;

    for (i = 0; i < NB_CANDIDATES; i++)
    {
        if (!lock_paths[i][0]) continue;
        if ((pid = portres_lock_holder( lock_paths[i] )) > 0) return pid;
        if (pid < 0) ret = -1;
    }
    return ret;
}

/* the inode of the socket a descriptor of the wineserver names, 0 for anything else */
static unsigned long long socket_at( int dir_fd, const char *name )
{
    char target[64];
    unsigned long long inode;
    ssize_t len = readlinkat( dir_fd, name, target, sizeof(target) - 1 );

    if (len <= 0) return 0;
    target[len] = 0;
    return sscanf( target, "socket:[%llu]", &inode ) == 1 ? inode : 0;
}

static void forget_all( void )
{
    struct hash_entry *entry, *next;
    unsigned int pos = 0;

    while ((entry = hash_next_bucket( &seen, &pos )))
    {
        for (; entry; entry = next)
        {
            next = entry->next;
            hash_remove( &seen, entry );
            free( HASH_ENTRY( entry, struct seen, entry ) );
        }
    }
}

/* the wineserver found by the last scan, waited on; -1 for none */
int wineserver_pidfd( void )
{
    if (wineserver_pid > 0 && pidfd_pid != wineserver_pid)
    {
        if (pidfd != -1) close( pidfd );
        pidfd = syscall( SYS_pidfd_open, wineserver_pid, 0 );
        pidfd_pid = wineserver_pid;
    }
    return pidfd;
}

/* the wineserver's pidfd said it exited: its sockets are looked at again */
void wineserver_exited( void )
{
    if (pidfd != -1) close( pidfd );
    pidfd = -1;
    pidfd_pid = 0;
    wineserver_pid = 0;
}

/* read the wineserver's descriptors anew; -1 when they cannot be read */
static int scan( void )
{
    char path[64];
    struct dirent *de;
    struct seen *rec;
    unsigned long long inode;
    DIR *dir;

    forget_all();
    scanned_round = scan_round;
    if (fd_dir != -1) close( fd_dir );
    fd_dir = -1;
    if ((wineserver_pid = find_wineserver()) <= 0) return wineserver_pid;
    snprintf( path, sizeof(path), "/proc/%d/fd", wineserver_pid );
    if ((fd_dir = open( path, O_RDONLY | O_DIRECTORY | O_CLOEXEC )) == -1) return -1;
    if (!(dir = opendir( path ))) return -1;
    while ((de = readdir( dir )))
    {
        if (!(inode = socket_at( dirfd( dir ), de->d_name )) || hash_find( &seen, inode )) continue;
        if (!(rec = malloc( sizeof(*rec) ))) break;
        rec->entry.key = inode;
        rec->fd = atoi( de->d_name );
        hash_insert( &seen, &rec->entry );
    }
    closedir( dir );
    return de ? -1 : 0;
}

int wineserver_socket_alive( unsigned long long inode )
{
    struct hash_entry *entry = hash_find( &seen, inode );
    char name[16];

    if (entry && fd_dir != -1)
    {
        /* where it was: one readlink (3 to 4 us) */
        snprintf( name, sizeof(name), "%d", HASH_ENTRY( entry, struct seen, entry )->fd );
        if (socket_at( fd_dir, name ) == inode) return 1;
    }
    if (scanned_round == scan_round) return entry ? 0 : (wineserver_pid < 0 ? -1 : 0);
    if (scan() == -1) return -1;
    return hash_find( &seen, inode ) != NULL;
}
