/*
 * What every proxy DLL shares: finding Wine's builtin of the same name and
 * filling the trampolines of the exports the proxy forwards
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

#ifndef __PORTRES_PROXY_H
#define __PORTRES_PROXY_H

/* from the generated NAME_thunks.c */
extern const unsigned int proxy_count;
extern void *proxy_slots[];
extern const char * const proxy_names[];
extern void * const proxy_missing_stubs[];

/* load Wine's builtin DLL of this name, never the proxy itself; NULL on failure */
extern HMODULE proxy_load_builtin( HINSTANCE self, const WCHAR *name );
/* point every trampoline at the builtin's function */
extern void proxy_resolve( HMODULE builtin );
/* after the last GetProcAddress on the builtin: make the loader's cache forget it */
extern void proxy_forget_builtin( void );
/* a function the proxy forwards and the builtin lacks */
extern void proxy_missing( const char *name );

#endif /* __PORTRES_PROXY_H */
