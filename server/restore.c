/*
 * What an earlier server left: a new server takes it back from the keeper
 *
 * The sessions of clients that live wait for them again (session.c), and
 * the reservations (with the descriptors that hold their ports) and the
 * associations are taken back into the engine; the keeper is told to drop
 * the rest.  It keeps what it had, so that no descriptor is sent twice.
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

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "server.h"
#include "keeper.h"

/* the sessions of clients that live wait for them */
static void restore_sessions( struct keeper_state *kept )
{
    unsigned int i;

    for (i = 0; i < kept->nb_sessions; i++)
    {
        const struct keeper_session *data = &kept->sessions[i];

        if (host_process_alive( data->pid, kept->pidfds[i], data->start_time ) &&
            restore_session( data, kept->pidfds[i] ) != -1)
            continue;
        if (kept->pidfds[i] != -1) close( kept->pidfds[i] );
        journal_drop( KEEPER_SESSION, data->session );
    }
}

static void restore_association( const struct engine_record *record, struct engine_client *client )
{
    unsigned int status;

    if (!(status = engine_restore_association( engine, client, record ))) return;
    if (debug_level)
        fprintf( stderr, "portres-server: association of socket %#llx not taken back (%#x)\n",
                 (unsigned long long)record->socket, status );
    journal_drop( KEEPER_ASSOCIATION, record->id );
}

/* a reservation takes its holds; those of one not taken back stay with the leftovers */
static void restore_reservation( struct keeper_state *kept, const struct engine_record *record,
                                 struct engine_client *client )
{
    int *holds, *holders = NULL;
    unsigned int j, status;

    if (record->protocol < ENGINE_NB_PROTOCOLS && record->count && record->start + record->count <= 65536 &&
        (holders = malloc( record->count * sizeof(*holders) )))
    {
        holds = kept->holds[record->protocol] + record->start;
        for (j = 0; j < record->count; j++)
        {
            holders[j] = holds[j];
            holds[j] = -1;
        }
        if (!(status = engine_restore_reservation( engine, client, record, holders ))) return;
        if (debug_level)
            fprintf( stderr, "portres-server: reservation %u+%u not taken back (%#x)\n", record->start,
                     record->count, status );
        for (j = 0; j < record->count; j++) holds[j] = holders[j];
        free( holders );
    }
    journal_drop( KEEPER_RESERVATION, record->id );
}

static void restore_records( struct keeper_state *kept )
{
    unsigned int i, pass;
    uint64_t last_id = 0;

    for (i = 0; i < kept->nb_records; i++)
        if (kept->records[i].type == ENGINE_RECORD_ASSOCIATION && kept->records[i].id > last_id)
            last_id = kept->records[i].id;
    engine_restore_ids( engine, last_id );

    /* reservations first: an association names one */
    for (pass = ENGINE_RECORD_RESERVATION; pass <= ENGINE_RECORD_ASSOCIATION; pass++)
    {
        for (i = 0; i < kept->nb_records; i++)
        {
            const struct engine_record *record = &kept->records[i];
            struct engine_client *client = record->client ? find_session( record->client ) : NULL;

            if (record->type != pass) continue;
            if (pass == ENGINE_RECORD_ASSOCIATION) restore_association( record, client );
            else restore_reservation( kept, record, client );
        }
    }
}

/* the holds no reservation took go */
static void drop_leftover_holds( struct keeper_state *kept )
{
    unsigned int protocol, port;

    for (protocol = 0; protocol < ENGINE_NB_PROTOCOLS; protocol++)
    {
        for (port = 0; port < 65536; port++)
        {
            if (kept->holds[protocol][port] == -1) continue;
            close( kept->holds[protocol][port] );
            kept->holds[protocol][port] = -1;
            journal_drop( KEEPER_HOLD, keeper_hold_key( protocol, port ) );
        }
    }
}

/* the journal, and what a keeper kept if one did; -1 on error */
int restore_open( const char *dir )
{
    struct keeper_state kept;
    int ret;

    if ((ret = journal_open( dir, journal_all_sessions, &kept )) == 1)
    {
        restore_sessions( &kept );
        restore_records( &kept );
        drop_leftover_holds( &kept );
        /* what the store tells of persistent changes in flight */
        journal_sessions();
    }
    free_kept( &kept );
    if (ret == 1) journal_commit();
    return ret == -1 ? -1 : 0;
}
