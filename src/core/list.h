/* SPDX-License-Identifier: Apache-2.0 */
/* An intrusive doubly linked list, oldest first (internal): a server's connections in a state.
 * CCZ_LIST_TYPE(name, T) declares the list type `name` of T (before T is complete);
 * CCZ_LIST_FUNCS(name, T), once T is, defines name_push (at the tail) and name_remove, which
 * keep T's fields `list` (the list it is on), `prev` and `next`. */
#ifndef CCZ_SRC_CORE_LIST_H
#define CCZ_SRC_CORE_LIST_H

#define CCZ_LIST_TYPE(name, T)                                                                     \
    typedef struct {                                                                               \
        T *head, *tail;                                                                            \
    } name

#define CCZ_LIST_FUNCS(name, T)                                                                    \
    static inline void name##_push(name *l, T *x)                                                  \
    {                                                                                              \
        x->list = l;                                                                               \
        x->prev = l->tail;                                                                         \
        x->next = NULL;                                                                            \
        if (l->tail)                                                                               \
            l->tail->next = x;                                                                     \
        else                                                                                       \
            l->head = x;                                                                           \
        l->tail = x;                                                                               \
    }                                                                                              \
    static inline void name##_remove(T *x)                                                         \
    {                                                                                              \
        name *l = x->list;                                                                         \
        if (x->prev)                                                                               \
            x->prev->next = x->next;                                                               \
        else                                                                                       \
            l->head = x->next;                                                                     \
        if (x->next)                                                                               \
            x->next->prev = x->prev;                                                               \
        else                                                                                       \
            l->tail = x->prev;                                                                     \
        x->prev = x->next = NULL;                                                                  \
    }

#endif
