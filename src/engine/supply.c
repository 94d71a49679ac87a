/* supply.c - see supply.h. */
#include "supply.h"

#include "engine/event.h"
#include "engine/sensor.h"

#include <stdlib.h>
#include <string.h>

void rg_supply_init(rg_supply *s)
{
    s->items = NULL;
    s->n = 0;
}

void rg_supply_release(rg_supply *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].type);
    free(s->items);
    rg_supply_init(s);
}

int rg_supply_observe(rg_supply *s, const char *line, rg_err *err)
{
    int rc = 0;
    rg_event ev = {0};
    char *type = NULL;
    if (rg_event_skip(line))
        return 0;
    if ((rc = rg_event_parse(line, strlen(line), &ev, err)) != 0)
        return rc;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].nfields == ev.nfields &&
            strcmp(s->items[i].type, ev.type) == 0)
            goto cleanup;
    if (s->n == RG_ENGINE_SUPPLY_MAX) {
        rc = rg_err_set(err, RG_ETOOBIG, "more than %d event shapes",
                        RG_ENGINE_SUPPLY_MAX);
        goto cleanup;
    }
    rg_supply_item *items = realloc(s->items, (s->n + 1) * sizeof *items);
    type = strdup(ev.type);
    if (items)
        s->items = items;
    if (!items || !type) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    s->items[s->n].type = type;
    s->items[s->n].nfields = ev.nfields;
    s->n++;
    type = NULL;
cleanup:
    free(type);
    rg_event_release(&ev);
    return rc;
}

int rg_supply_observe_file(rg_supply *s, FILE *in, rg_err *err)
{
    int rc = 0;
    long lineno = 0;
    rg_buf line;
    rg_err lerr;
    rg_buf_init(&line, RG_ENGINE_EVENT_LINE_MAX);
    rg_err_clear(&lerr);
    for (;;) {
        lineno++;
        rc = rg_event_read_line(in, &line, &lerr);
        if (rc <= 0)
            break;
        if ((rc = rg_supply_observe(s, line.data, &lerr)) != 0)
            break;
    }
    if (rc != 0)
        rg_err_set(err, rc, "event line %ld: %s", lineno, lerr.msg);
    rg_buf_release(&line);
    return rc;
}

int rg_supply_observe_sensor(rg_supply *s, rg_err *err)
{
    size_t n = 0;
    const char *const *events = rg_sensor_events(&n);
    for (size_t i = 0; i < n; i++) {
        int rc = rg_supply_observe(s, events[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
