/*
 * Debug channels for portres's PE code, written through Wine's ntdll
 *
 * TRACE, WARN, FIXME and ERR behave as in Wine: WINEDEBUG=+portres turns
 * the channel's traces on, and the lines carry Wine's usual header.  Off
 * Wine, ERR and FIXME go to stderr and the rest is dropped.
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

#ifndef __PORTRES_PEDEBUG_H
#define __PORTRES_PEDEBUG_H

/* the layout of Wine's struct __wine_debug_channel */
struct portres_debug_channel
{
    unsigned char flags;
    char          name[15];
};

enum portres_debug_class
{
    PORTRES_DBCL_FIXME,
    PORTRES_DBCL_ERR,
    PORTRES_DBCL_WARN,
    PORTRES_DBCL_TRACE
};

extern struct portres_debug_channel portres_channel;
extern int portres_dbg_enabled( enum portres_debug_class cls );
extern void portres_dbg_log( enum portres_debug_class cls, const char *function, const char *format, ... )
    __attribute__((format(printf, 3, 4)));

#define PORTRES_DBG(cls, ...) \
    do { if (portres_dbg_enabled( cls )) portres_dbg_log( cls, __func__, __VA_ARGS__ ); } while (0)

#define TRACE(...) PORTRES_DBG( PORTRES_DBCL_TRACE, __VA_ARGS__ )
#define WARN(...)  PORTRES_DBG( PORTRES_DBCL_WARN, __VA_ARGS__ )
#define FIXME(...) PORTRES_DBG( PORTRES_DBCL_FIXME, __VA_ARGS__ )
#define ERR(...)   PORTRES_DBG( PORTRES_DBCL_ERR, __VA_ARGS__ )

#endif /* __PORTRES_PEDEBUG_H */
