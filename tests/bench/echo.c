/*
 * The floor of the benchmarks: a trivial echo server over AF_UNIX and its client
 *
 * The server is what any single-threaded server of many clients has to do
 * per request, and nothing more: poll, read a frame, write it back.  The
 * client writes a frame and reads the answer, as libs/portres does for a
 * request.  What the reservation server costs beyond this is its own work.
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"
#include "echo.h"

#define ECHO_MAX_CLIENTS 256

static int make_address( const char *path, struct sockaddr_un *addr )
{
    memset( addr, 0, sizeof(*addr) );
    addr->sun_family = AF_UNIX;
    if (strlen( path ) >= sizeof(addr->sun_path)) bench_fatal( "socket path %s is too long\n", path );
    strcpy( addr->sun_path, path );
    return sizeof(*addr);
}

static void serve( int listen_fd )
{
    struct pollfd fds[ECHO_MAX_CLIENTS + 1];
    unsigned int i, count = 1;
    char buf[4096];

    fds[0].fd = listen_fd;
    fds[0].events = POLLIN;
    for (;;)
    {
        if (poll( fds, count, -1 ) == -1)
        {
            if (errno == EINTR) continue;
            _exit( 1 );
        }
        for (i = count; i-- > 1;)
        {
            ssize_t ret;

            if (!fds[i].revents) continue;
            ret = recv( fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT );
            if (ret > 0 && send( fds[i].fd, buf, ret, MSG_NOSIGNAL ) == ret) continue;
            if (ret < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            close( fds[i].fd );
            fds[i] = fds[--count];
        }
        if (fds[0].revents & POLLIN)
        {
            int fd = accept4( listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC );

            if (fd == -1) continue;
            if (count == ECHO_MAX_CLIENTS + 1)
            {
                close( fd );
                continue;
            }
            fds[count].fd = fd;
            fds[count].events = POLLIN;
            count++;
        }
    }
}

pid_t echo_start( const char *path )
{
    struct sockaddr_un addr;
    int len = make_address( path, &addr ), fd;
    pid_t pid;

    unlink( path );
    if ((fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 )) == -1 ||
        bind( fd, (struct sockaddr *)&addr, len ) == -1 || listen( fd, 512 ) == -1)
        bench_fatal( "echo server on %s: %s\n", path, strerror( errno ) );
    switch ((pid = fork()))
    {
    case -1:
        bench_fatal( "fork: %s\n", strerror( errno ) );
    case 0:
        serve( fd );
        _exit( 0 );
    }
    close( fd );  /* the child listens; connections queue from now on */
    return pid;
}

void echo_stop( pid_t pid )
{
    kill( pid, SIGKILL );
    waitpid( pid, NULL, 0 );
}

int echo_connect( const char *path )
{
    struct sockaddr_un addr;
    int len = make_address( path, &addr ), fd;

    if ((fd = socket( AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 )) == -1 ||
        connect( fd, (struct sockaddr *)&addr, len ) == -1)
        bench_fatal( "cannot connect to the echo server: %s\n", strerror( errno ) );
    return fd;
}

static void write_all( int fd, const char *buf, size_t size )
{
    while (size)
    {
        ssize_t ret = write( fd, buf, size );

        if (ret < 0 && errno == EINTR) continue;
        if (ret <= 0) bench_fatal( "echo: write: %s\n", strerror( errno ) );
        buf += ret;
        size -= ret;
    }
}

static void read_all( int fd, char *buf, size_t size )
{
    while (size)
    {
        ssize_t ret = read( fd, buf, size );

        if (ret < 0 && errno == EINTR) continue;
        if (ret <= 0) bench_fatal( "echo: read: %s\n", ret ? strerror( errno ) : "end of file" );
        buf += ret;
        size -= ret;
    }
}

void echo_round_trip( int fd )
{
    char frame[ECHO_FRAME_SIZE];

    memset( frame, 0x5a, sizeof(frame) );
    write_all( fd, frame, sizeof(frame) );
    read_all( fd, frame, sizeof(frame) );
}
