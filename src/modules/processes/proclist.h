/* proclist.h — the processes collection's list and items: the query's
 * grammar, the filters, the sort, the tree order, and an item as JSON.
 *
 * Pure parts (query parsing, filter, sort, tree) work on a proc_list and are
 * unit-tested; proclist_item_json() is the one place an item's fields are
 * named.  Per listing, a proclist_ctx carries what every item needs (the
 * boot time and clock tick, whether the caller is an admin) and a small
 * cache of user names.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "module.h"
#include "modules/processes/procread.h"

#define PROCLIST_LIMIT_MAX 100000u
#define PROCLIST_NAME_MAX  64u
#define PROCLIST_USERS_MAX 64u /* cached uid → name pairs per listing */

typedef enum {
        PROCLIST_SORT_PID,
        PROCLIST_SORT_CPU,
        PROCLIST_SORT_MEM,
        PROCLIST_SORT_START,
        PROCLIST_SORT_NAME,
} proclist_sort_t;

struct proclist_query {
        proclist_sort_t sort;
        size_t limit; /* 0: all */
        bool has_uid;
        uid_t uid;
        char unit[PROCREAD_UNIT_MAX];     /* "" none */
        char name[PROCLIST_NAME_MAX + 1]; /* "" none: a substring of command */
        bool tree, detail, threads;
};

/* The query object of a list (strings, flags "1"/"0"): -EINVAL with err
 * (400 naming the field) for a bad value.  user may be a name or a uid. */
int proclist_query_parse(json_t *query, struct proclist_query *ret, struct module_error *err);
const char *const *proclist_sort_choices(void);

/* Whether it passes the query's filters (user, unit, name). */
bool proclist_match(const struct proclist_query *q, const struct proc_item *it);
/* Sorts l in place by q->sort (ties by pid). */
void proclist_sort(struct proc_list *l, proclist_sort_t sort);
/* The depth-first order of l (already sorted: siblings keep that order) by
 * ppid; a process whose parent is not in l is a root where it stands.
 * *ret is an array of l->n indices; each item's depth is set. */
int proclist_tree(struct proc_list *l, size_t **ret);

struct proclist_user {
        uid_t uid;
        char name[64];
};
struct proclist_ctx {
        bool admin;
        uint64_t btime;
        long clk_tck;
        double uptime; /* seconds since boot, now */
        struct proclist_user users[PROCLIST_USERS_MAX];
        size_t n_users;
};
int proclist_ctx_init(struct proclist_ctx *c, bool admin);
/* The cpu_percent of an item with no fresh sample: its lifetime average. */
double proclist_lifetime_cpu(const struct proclist_ctx *c, const struct proc_item *it);
/* An item as the API shows it (cmdline for admins only). */
json_t *proclist_item_json(struct proclist_ctx *c, const struct proc_item *it);
/* A string of a process (comm, an argument) as JSON text: bytes that are not
 * UTF-8 become '?', control characters ' '. */
json_t *proclist_text(const char *s, size_t n);
/* "2026-12-04T16:00:00Z" for start_ticks. */
void proclist_start_time(const struct proclist_ctx *c, uint64_t start_ticks, char buf[32]);
