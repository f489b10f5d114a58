/*
 * Requests of the reservation server: one request frame of a client in,
 * one reply out, with no I/O
 *
 * The frame is checked (variable data, request code, init first), handed to
 * its handler through the generated table, and the reply frame and its data
 * are built.  connection.c feeds it frames read from connections; the fuzzer
 * of tests/fuzz feeds it frames from its input.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WANT_REQUEST_HANDLERS
#include "server.h"
#include "request_handlers.h"

struct client *current;
const union generic_request *current_request;
int debug_level;

static unsigned int reply_status;
static void *reply_data;
static size_t reply_data_size;

void set_error( unsigned int status )
{
    reply_status = status;
}

void *set_reply_data_size( size_t size )
{
    if (size > PORTRES_MAX_REPLY_DATA || !(reply_data = malloc( size )))
    {
        set_error( STATUS_NO_MEMORY );
        return NULL;
    }
    reply_data_size = size;
    return reply_data;
}

static void trace_status( unsigned int code, unsigned int status )
{
    fprintf( stderr, "%04x: %s() = %#x {", current->pid, req_names[code], status );
}

int dispatch_request( struct client *client, const union generic_request *req, union generic_reply *reply,
                      void **data )
{
    unsigned int code = req->request_header.req;

    memset( reply, 0, sizeof(*reply) );
    *data = NULL;
    if (req->request_header.data_size > PORTRES_MAX_REQUEST_DATA)
    {
        if (debug_level) fprintf( stderr, "%04x: oversized request (%u bytes of data)\n", client->pid,
                                  req->request_header.data_size );
        return -1;
    }

    current = client;
    current_request = req;
    reply_status = STATUS_SUCCESS;
    reply_data = NULL;
    reply_data_size = 0;

    if (code >= REQ_NB_REQUESTS)
    {
        if (debug_level) fprintf( stderr, "%04x: unknown request %u\n", client->pid, code );
        reply_status = STATUS_NOT_IMPLEMENTED;
    }
    else if (!client->initialized && code != REQ_init)
    {
        if (debug_level) fprintf( stderr, "%04x: %s before init\n", client->pid, req_names[code] );
        reply_status = STATUS_INVALID_PARAMETER;
        client->closing = 1;
    }
    else
    {
        if (debug_level)
        {
            fprintf( stderr, "%04x: %s(", client->pid, req_names[code] );
            request_dumpers[code]( req );
            fprintf( stderr, " )\n" );
        }
        req_handlers[code]( req, reply );
        if (debug_level)
        {
            trace_status( code, reply_status );
            if (!reply_status) reply_dumpers[code]( reply );
            fprintf( stderr, " }\n" );
        }
    }
    reply->reply_header.status = reply_status;
    reply->reply_header.data_size = reply_data_size;
    *data = reply_data;
    reply_data = NULL;
    current = NULL;
    current_request = NULL;
    return 0;
}
