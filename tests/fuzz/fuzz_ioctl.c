/*
 * libFuzzer target: the argument checks of the reservation ioctls of the
 * proxy ws2_32.dll (dlls/ws2_32/ioctlargs.c), built natively
 *
 * The input chooses the ioctl, which pointers are NULL, the buffer sizes and
 * contents, whether the buffers are aligned, and what the server answers.
 * Buffers are heap blocks of exactly the size the call states, so that
 * AddressSanitizer sees any access beyond them.  The result must be the one
 * the conformance tests (dlls/ws2_32/tests/reservation.c) expect, a call
 * that passes the checks must be safe to serve, and the buffers must be read
 * and written in Windows' layout, nothing past the instance written.
 *
 * PORTRES_FUZZ_WRITE_SEEDS=DIR writes a seed corpus into DIR and exits.
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

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioctlargs.h"

/* the first byte of the input */
#define FLAG_NO_IN          0x04
#define FLAG_NO_OUT         0x08
#define FLAG_NO_RET_SIZE    0x10
#define FLAG_OVERLAPPED     0x20
#define FLAG_IN_UNALIGNED   0x40
#define FLAG_OUT_UNALIGNED  0x80

#define HEADER_SIZE    9     /* flags, in size, out size */
#define MAX_BUFFER     64    /* largest buffer given */

/* Windows' layouts, as the natively compiled structures have them on x86-64 */
struct win_range
{
    uint16_t StartPort;      /* network order */
    uint16_t NumberOfPorts;
};

struct win_instance
{
    uint16_t StartPort;      /* network order */
    uint16_t NumberOfPorts;
    uint32_t pad;
    uint64_t Token;
};

static const uint32_t codes[3] =
{
    IOCTL_ACQUIRE_PORT_RESERVATION, IOCTL_RELEASE_PORT_RESERVATION, IOCTL_ASSOCIATE_PORT_RESERVATION
};

int LLVMFuzzerInitialize( int *argc, char ***argv );
int LLVMFuzzerTestOneInput( const unsigned char *data, size_t size );

#define fail(...) do { fprintf( stderr, "fuzz_ioctl: " __VA_ARGS__ ); fputc( '\n', stderr ); abort(); } while (0)

/* the rules of the conformance tests, restated: the error, and whether
 * *lpcbBytesReturned is set to 0 with it */
static int expected_error( const struct ioctl_args *args, int *clear )
{
    int acquire = args->code == IOCTL_ACQUIRE_PORT_RESERVATION;

    *clear = 0;
    if (acquire && args->out_size < sizeof(struct win_instance))
    {
        *clear = 1;   /* test_acquire_invalid: "got size" must be 0 */
        return IOCTL_WSAEINVAL;
    }
    if (args->in_size < (acquire ? sizeof(struct win_range) : sizeof(uint64_t))) return IOCTL_WSAEINVAL;
    if (!args->in) return IOCTL_WSAEFAULT;
    if (acquire && !args->out) return IOCTL_WSAEFAULT;
    if (!args->has_ret_size && !args->has_overlapped) return IOCTL_WSAEFAULT;
    return 0;
}

static uint32_t get_le32( const unsigned char *p )
{
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* a heap block of exactly size bytes, starting one byte into its
 * allocation when unaligned; NULL for an empty buffer */
static unsigned char *alloc_buffer( uint32_t size, int unaligned, unsigned char **block )
{
    *block = NULL;
    if (!size) return NULL;
    if (!(*block = malloc( size + unaligned ))) fail( "out of memory" );
    return *block + unaligned;
}

int LLVMFuzzerTestOneInput( const unsigned char *data, size_t size )
{
    unsigned char header[HEADER_SIZE] = { 0 }, *in_block, *out_block, *in, *out;
    unsigned int flags;
    struct ioctl_args args;
    struct ioctl_request req;
    uint32_t in_size, out_size, i;
    int error, expect, clear, expect_clear;

    memcpy( header, data, size < HEADER_SIZE ? size : HEADER_SIZE );
    data += size < HEADER_SIZE ? size : HEADER_SIZE;
    size -= size < HEADER_SIZE ? size : HEADER_SIZE;
    flags = header[0];
    in_size = get_le32( header + 1 );
    out_size = get_le32( header + 5 );

    /* a given buffer has the size stated; a missing one any size */
    if (!(flags & FLAG_NO_IN)) in_size %= MAX_BUFFER + 1;
    if (!(flags & FLAG_NO_OUT)) out_size %= MAX_BUFFER + 1;
    in = alloc_buffer( (flags & FLAG_NO_IN) ? 0 : in_size, !!(flags & FLAG_IN_UNALIGNED), &in_block );
    out = alloc_buffer( (flags & FLAG_NO_OUT) ? 0 : out_size, !!(flags & FLAG_OUT_UNALIGNED), &out_block );
    if (in)
    {
        for (i = 0; i < in_size; i++) in[i] = i < size ? data[i] : 0;
        data += in_size < size ? in_size : size;
        size -= in_size < size ? in_size : size;
    }
    if (out) memset( out, 0xcc, out_size );

    args.code           = codes[(flags & 3) % 3];
    args.in             = in;
    args.in_size        = in_size;
    args.out            = out;
    args.out_size       = out_size;
    args.has_ret_size   = !(flags & FLAG_NO_RET_SIZE);
    args.has_overlapped = !!(flags & FLAG_OVERLAPPED);

    clear = -1;
    error = ioctl_args_check( &args, &clear );
    expect = expected_error( &args, &expect_clear );
    if (error != expect)
        fail( "code %#x in %p/%u out %p/%u ret %d overlapped %d: error %d, expected %d", args.code, in, in_size,
              out, out_size, args.has_ret_size, args.has_overlapped, error, expect );
    if (error && clear != expect_clear) fail( "error %d: bytes returned %s", error, clear ? "cleared" : "kept" );

    if (!error)
    {
        unsigned char answer[10] = { 0 };   /* the server's start and token */
        struct win_instance instance;
        struct win_range range;
        uint64_t token;
        uint32_t bytes;

        ioctl_args_read( &args, &req );
        if (args.code == IOCTL_ACQUIRE_PORT_RESERVATION)
        {
            memcpy( &range, in, sizeof(range) );
            if (req.start != ntohs( range.StartPort ) || req.count != range.NumberOfPorts || req.token)
                fail( "acquire of %u+%u read as %u+%u", ntohs( range.StartPort ), range.NumberOfPorts,
                      req.start, req.count );

            memcpy( answer, data, size < sizeof(answer) ? size : sizeof(answer) );
            memcpy( &token, answer + 2, sizeof(token) );
            bytes = ioctl_args_write_instance( &args, answer[0] | (answer[1] << 8), req.count, token );
            if (bytes != sizeof(instance)) fail( "%u bytes returned", bytes );
            memcpy( &instance, out, sizeof(instance) );
            if (ntohs( instance.StartPort ) != (answer[0] | (answer[1] << 8)) ||
                instance.NumberOfPorts != req.count || instance.pad || instance.Token != token)
                fail( "instance %u+%u pad %u token %#llx written wrong", ntohs( instance.StartPort ),
                      instance.NumberOfPorts, instance.pad, (unsigned long long)instance.Token );
            for (i = sizeof(instance); i < out_size; i++)
                if (out[i] != 0xcc) fail( "byte %u after the instance was changed", i );
        }
        else
        {
            memcpy( &token, in, sizeof(token) );
            if (req.token != token || req.start || req.count)
                fail( "token %#llx read as %#llx", (unsigned long long)token, (unsigned long long)req.token );
        }
    }
    else if (out)
    {
        for (i = 0; i < out_size; i++)
            if (out[i] != 0xcc) fail( "error %d, yet byte %u of the output was changed", error, i );
    }

    free( in_block );
    free( out_block );
    return 0;
}

/***********************************************************************
 *           seeds
 */

static void write_seed( const char *dir, const char *name, unsigned int flags, uint32_t in_size,
                        uint32_t out_size, const void *in, size_t len )
{
    unsigned char header[HEADER_SIZE];
    char path[4096];
    FILE *file;
    int ok;

    header[0] = flags;
    memcpy( header + 1, &in_size, 4 );
    memcpy( header + 5, &out_size, 4 );
    snprintf( path, sizeof(path), "%s/%s", dir, name );
    if (!(file = fopen( path, "wb" )))
    {
        perror( path );
        exit( 1 );
    }
    fwrite( header, 1, sizeof(header), file );
    fwrite( in, 1, len, file );
    ok = !ferror( file );
    if (fclose( file ) || !ok)
    {
        perror( path );
        exit( 1 );
    }
}

static void write_seeds( const char *dir )
{
    /* a range of 4 ports at 5000, then the server's start and token */
    static const unsigned char acquire[] = { 0x13, 0x88, 4, 0, 0x88, 0x13, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const unsigned char token[] = { 0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0 };

    write_seed( dir, "acquire", 0, 4, 16, acquire, sizeof(acquire) );
    write_seed( dir, "acquire-overlapped", FLAG_NO_RET_SIZE | FLAG_OVERLAPPED | FLAG_IN_UNALIGNED |
                FLAG_OUT_UNALIGNED, 4, 32, acquire, sizeof(acquire) );
    write_seed( dir, "acquire-short-out", 0, 4, 15, acquire, sizeof(acquire) );
    write_seed( dir, "acquire-no-in", FLAG_NO_IN, 4, 16, acquire + 4, sizeof(acquire) - 4 );
    write_seed( dir, "release", 1, 8, 0, token, sizeof(token) );
    write_seed( dir, "release-short-in", 1, 7, 0, token, sizeof(token) );
    write_seed( dir, "associate", 2 | FLAG_IN_UNALIGNED, 8, 0, token, sizeof(token) );
    write_seed( dir, "associate-no-ret", 2 | FLAG_NO_RET_SIZE, 8, 0, token, sizeof(token) );
}

int LLVMFuzzerInitialize( int *argc, char ***argv )
{
    const char *dir = getenv( "PORTRES_FUZZ_WRITE_SEEDS" );

    if (dir)
    {
        write_seeds( dir );
        exit( 0 );
    }
    return 0;
}
