/*
 * Fragment of server/object.h: the declarations of registry-machine.c
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

extern void enum_machine_values( const char *path, void (*func)( void *ctx, const WCHAR *name, data_size_t namelen,
                                                                 int type, const void *data, data_size_t len ),
                                 void *ctx );
extern unsigned int set_machine_value( const char *path, const char *name, int type, const void *data,
                                       data_size_t len );
extern unsigned int delete_machine_value( const char *path, const char *name );
