/*
 * Messages between the server and its keeper: writing and reading them
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

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keeper.h"

void keeper_writer_init( struct keeper_writer *writer, int fd )
{
    writer->fd = fd;
    writer->wake_fd = -1;
    keeper_writer_reset( writer );
}

void keeper_writer_reset( struct keeper_writer *writer )
{
    writer->nb_ops = writer->nb_fds = 0;
    writer->len = sizeof(struct keeper_message);
}

/* the reader is told to read */
void keeper_wake( int wake_fd )
{
    static const char byte;

    /* a full pipe has a wake-up waiting already */
    while (write( wake_fd, &byte, 1 ) == -1 && errno == EINTR);
}

/* send a message; a reader that reads only when woken is woken when there
 * is no room for it */
static ssize_t send_message( const struct keeper_writer *writer, const struct msghdr *msg )
{
    ssize_t ret;

    if (writer->wake_fd != -1)
    {
        while ((ret = sendmsg( writer->fd, msg, MSG_NOSIGNAL | MSG_DONTWAIT )) == -1 && errno == EINTR);
        if (ret != -1 || errno != EAGAIN) return ret;
        keeper_wake( writer->wake_fd );
    }
    while ((ret = sendmsg( writer->fd, msg, MSG_NOSIGNAL )) == -1 && errno == EINTR);
    return ret;
}

int keeper_flush( struct keeper_writer *writer, unsigned int flags )
{
    struct keeper_message *header = (struct keeper_message *)writer->buf;
    union
    {
        struct cmsghdr header;
        char           buf[CMSG_SPACE( sizeof(int) * KEEPER_MAX_FDS )];
    } control;
    struct iovec iov = { writer->buf, writer->len };
    struct msghdr msg;
    ssize_t ret;

    header->flags = flags;
    header->nb_ops = writer->nb_ops;
    memset( &msg, 0, sizeof(msg) );
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (writer->nb_fds)
    {
        struct cmsghdr *cmsg;

        memset( &control, 0, sizeof(control) );
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE( sizeof(int) * writer->nb_fds );
        cmsg = CMSG_FIRSTHDR( &msg );
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN( sizeof(int) * writer->nb_fds );
        memcpy( CMSG_DATA( cmsg ), writer->fds, sizeof(int) * writer->nb_fds );
    }
    ret = send_message( writer, &msg );
    keeper_writer_reset( writer );
    return ret == -1 ? -1 : 0;
}

int keeper_write_op( struct keeper_writer *writer, unsigned int op, unsigned int kind, uint64_t key,
                     const void *data, size_t size, int fd )
{
    struct keeper_op header;

    if (size > KEEPER_MAX_DATA) size = KEEPER_MAX_DATA;
    if ((writer->len + sizeof(header) + size > sizeof(writer->buf) ||
         (fd != -1 && writer->nb_fds == KEEPER_MAX_FDS)) && keeper_flush( writer, 0 ) == -1)
        return -1;
    header.op = op;
    header.kind = kind;
    header.size = size;
    header.has_fd = fd != -1;
    header.key = key;
    memcpy( writer->buf + writer->len, &header, sizeof(header) );
    if (size) memcpy( writer->buf + writer->len + sizeof(header), data, size );
    writer->len += sizeof(header) + size;
    if (fd != -1) writer->fds[writer->nb_fds++] = fd;
    writer->nb_ops++;
    return 0;
}

/* the descriptors a message brought; *count of them */
static int *received_fds( struct msghdr *msg, unsigned int *count )
{
    struct cmsghdr *cmsg;

    *count = 0;
    for (cmsg = CMSG_FIRSTHDR( msg ); cmsg; cmsg = CMSG_NXTHDR( msg, cmsg ))
    {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        *count = (cmsg->cmsg_len - CMSG_LEN( 0 )) / sizeof(int);
        return (int *)CMSG_DATA( cmsg );
    }
    return NULL;
}

int keeper_read( int fd, int recv_flags, keeper_op_func func, void *ctx )
{
    static unsigned char buf[KEEPER_MAX_MESSAGE];
    union
    {
        struct cmsghdr header;
        char           buf[CMSG_SPACE( sizeof(int) * KEEPER_MAX_FDS )];
    } control;
    struct iovec iov = { buf, sizeof(buf) };
    struct keeper_message header;
    struct msghdr msg;
    unsigned int i, nb_fds, next_fd = 0;
    size_t pos = sizeof(header);
    int *fds, ret = -1;
    ssize_t len;

    memset( &msg, 0, sizeof(msg) );
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    while ((len = recvmsg( fd, &msg, MSG_CMSG_CLOEXEC | recv_flags )) == -1 && errno == EINTR);
    if (len == -1 && errno == EAGAIN && (recv_flags & MSG_DONTWAIT)) return KEEPER_NONE;
    if (len <= 0) return -1;
    fds = received_fds( &msg, &nb_fds );
    if ((size_t)len < sizeof(header) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) goto done;
    memcpy( &header, buf, sizeof(header) );
    for (i = 0; i < header.nb_ops; i++)
    {
        struct keeper_op op;

        if (len - pos < sizeof(op)) goto done;
        memcpy( &op, buf + pos, sizeof(op) );
        pos += sizeof(op);
        if (op.size > KEEPER_MAX_DATA || len - pos < op.size || (op.has_fd && next_fd == nb_fds)) goto done;
        func( ctx, &op, buf + pos, op.has_fd ? fds[next_fd++] : -1 );
        pos += op.size;
    }
    ret = header.flags;
done:
    /* what no operation took goes */
    while (next_fd < nb_fds) close( fds[next_fd++] );
    return ret;
}
