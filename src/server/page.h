/*
 * page.h - pagination of the admin API's list routes (docs/api.md,
 * "Lists and pages").
 *
 * A list request takes ?limit=N (1..RG_PAGE_MAX, default RG_PAGE_DEFAULT)
 * and ?after=K, the "next_after" of the previous page; the answer is
 * {"<items>": [...], "next_after": K | null}, null on the last page. K is
 * the key of the page's last item: its id (lists ordered by id, oldest or
 * newest first) or its name (channels, ordered by name).
 *
 * A handler parses the request with rg_page_parse, then, from the store
 * list's callback, calls rg_page_step for each item in list order and
 * returns what it says to stop the scan once the page is full.
 */
#ifndef RG_PAGE_H
#define RG_PAGE_H

#include "server/server.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RG_PAGE_DEFAULT 100 /* items per page when ?limit is not given */
#define RG_PAGE_MAX 1000    /* the largest ?limit */
#define RG_PAGE_FULL 2      /* rg_page_step: stop, the page is full */

typedef enum rg_page_order {
    RG_PAGE_ID_ASC,  /* by id, oldest first: after=K lists ids above K */
    RG_PAGE_ID_DESC, /* by id, newest first: after=K lists ids below K */
    RG_PAGE_NAME,    /* by name (bytes): after=K lists names above K */
} rg_page_order;

typedef struct rg_page {
    rg_page_order order;
    int64_t limit;                    /* items per page */
    int64_t after_id;                 /* cursor, 0: first page */
    char after_name[RG_NAME_MAX + 1]; /* cursor, "": first page */
    size_t n;                         /* items taken */
    bool more;                        /* an item follows the page */
    int64_t last_id;                  /* key of the last item taken */
    char last_name[RG_NAME_MAX + 1];
    json_t *items; /* owned: the page's items */
} rg_page;

/* Parses ?limit and ?after of req into *p (and creates p->items).
 * Returns 0, or fills resp with a 400 (field "limit" or "after") or a 500
 * and returns an rg_code. */
int rg_page_parse(const rg_req *req, rg_page_order order, rg_page *p,
                  rg_resp *resp);

/* For the next item of the list, in list order (key id, or name for
 * RG_PAGE_NAME): 1 to take it (it becomes the page's last), 0 to skip it
 * (at or before the cursor), RG_PAGE_FULL when the page is full (the item
 * only shows that more follow). A store callback returns RG_PAGE_FULL as
 * is: the store stops and returns it. */
int rg_page_step(rg_page *p, int64_t id, const char *name);

/* Appends v (a new reference, consumed; NULL is out of memory) to the
 * page's items. Returns 0, or -1 for a store callback to stop with. */
int rg_page_push(rg_page *p, json_t *v);

/* Answers the list: with rc 0 or RG_PAGE_FULL (the store list's return)
 * {key: items, "next_after": ...} with 200, else the error in err (an
 * unset err is out of memory). Releases p->items either way. */
void rg_page_reply(rg_page *p, rg_resp *resp, const char *key, int rc,
                   const rg_err *err);

/* The "next_after" of the answer: the last item's key when more follow,
 * else null (new reference). */
json_t *rg_page_next(const rg_page *p);

#endif
