/*
 * Fragment of server/registry.c: values of keys under HKEY_LOCAL_MACHINE, for the server's own tables
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

/* the key at path (ASCII) under \Registry\Machine, or NULL; created with
 * its parents when create is set */
static struct key *get_machine_key( const char *path, int create )
{
    static const char machine[] = "Machine\\";
    struct unicode_str name;
    struct key *key;
    char *full;
    WCHAR *str;

    if (!(full = malloc( sizeof(machine) + strlen( path ) ))) return NULL;
    strcpy( full, machine );
    strcat( full, path );
    str = ascii_to_unicode_str( full, &name );
    free( full );
    if (!str) return NULL;
    if (create) key = create_key_recursive( root_key, &name, current_time );
    else key = open_key( root_key, &name, KEY_WOW64_64KEY, OBJ_CASE_INSENSITIVE );
    free( str );
    return key;
}

/* call func for each value of a machine key, if the key exists; the error
 * of the current request is left as it was */
void enum_machine_values( const char *path, void (*func)( void *ctx, const WCHAR *name, data_size_t namelen,
                                                          int type, const void *data, data_size_t len ),
                          void *ctx )
{
    unsigned int error = get_error();
    struct key *key;
    int i;

    if ((key = get_machine_key( path, 0 )))
    {
        for (i = 0; i <= key->last_value; i++)
            func( ctx, key->values[i].name, key->values[i].namelen, key->values[i].type,
                  key->values[i].data, key->values[i].len );
        release_object( key );
    }
    set_error( error );
}

/* set a value of a machine key, creating the key when it is missing;
 * returns the status, leaving the error of the current request as it was */
unsigned int set_machine_value( const char *path, const char *name, int type, const void *data,
                                data_size_t len )
{
    unsigned int error = get_error(), status;
    struct unicode_str value_name;
    struct key *key;
    WCHAR *str;

    clear_error();
    if ((str = ascii_to_unicode_str( name, &value_name )))
    {
        if ((key = get_machine_key( path, 1 )))
        {
            clear_error();  /* STATUS_OBJECT_NAME_EXISTS when the key was there */
            set_value( key, &value_name, type, data, len );
            release_object( key );
        }
        free( str );
    }
    status = get_error();
    set_error( error );
    return status;
}

/* delete a value of a machine key; a value that is missing is not an error */
unsigned int delete_machine_value( const char *path, const char *name )
{
    unsigned int error = get_error(), status;
    struct unicode_str value_name;
    struct key *key;
    WCHAR *str;

    clear_error();
    if ((str = ascii_to_unicode_str( name, &value_name )))
    {
        if ((key = get_machine_key( path, 0 )))
        {
            delete_value( key, &value_name );
            release_object( key );
        }
        free( str );
    }
    status = get_error();
    if (status == STATUS_OBJECT_NAME_NOT_FOUND) status = STATUS_SUCCESS;
    set_error( error );
    return status;
}
