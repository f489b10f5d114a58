/*
 * Intrusive doubly linked lists
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

#ifndef __PORTRES_LIST_H
#define __PORTRES_LIST_H

#include <stddef.h>

struct list
{
    struct list *next;
    struct list *prev;
};

#define LIST_INIT(list) { &(list), &(list) }

static inline void list_init( struct list *list )
{
    list->next = list->prev = list;
}

static inline int list_empty( const struct list *list )
{
    return list->next == list;
}

/* add an element after the given one */
static inline void list_add_after( struct list *elem, struct list *to_add )
{
    to_add->next = elem->next;
    to_add->prev = elem;
    elem->next->prev = to_add;
    elem->next = to_add;
}

static inline void list_add_tail( struct list *list, struct list *elem )
{
    list_add_after( list->prev, elem );
}

static inline void list_remove( struct list *elem )
{
    elem->next->prev = elem->prev;
    elem->prev->next = elem->next;
    elem->next = elem->prev = elem;
}

static inline struct list *list_head( const struct list *list )
{
    return list->next == list ? NULL : list->next;
}

#define LIST_ENTRY(elem, type, field) \
    ((type *)((char *)(elem) - offsetof(type, field)))

/* iterate over a list; the current element may be removed */
#define LIST_FOR_EACH_ENTRY_SAFE(cur, cur2, list, type, field) \
    for ((cur) = LIST_ENTRY((list)->next, type, field), \
         (cur2) = LIST_ENTRY((cur)->field.next, type, field); \
         &(cur)->field != (list); \
         (cur) = (cur2), (cur2) = LIST_ENTRY((cur)->field.next, type, field))

#define LIST_FOR_EACH_ENTRY(cur, list, type, field) \
    for ((cur) = LIST_ENTRY((list)->next, type, field); \
         &(cur)->field != (list); \
         (cur) = LIST_ENTRY((cur)->field.next, type, field))

#endif /* __PORTRES_LIST_H */
