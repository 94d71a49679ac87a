/* interp.c - see interp.h. */
#include "interp.h"

#include <string.h>

bool rg_engine_unsafe(void)
{
#ifdef ROLLGATE_ENGINE_UNSAFE
    return true;
#else
    return false;
#endif
}

/* The one place an event field is read: *out = field i of ev, after the
 * check that ev carries it (unless the unsafe build removed the check). */
static int field_at(const rg_event *ev, const rg_instance *in,
                    const rg_template *t, size_t i, long lineno,
                    const char **out, rg_err *err)
{
#ifndef ROLLGATE_ENGINE_UNSAFE
    if (i >= ev->nfields)
        return rg_err_set(err, RG_EINVAL,
                          "event line %ld: instance '%s' "
                          "matches on field %zu ('%s') but the event carries "
                          "%zu fields",
                          lineno, in->name, i + 1, t->fields[i].name,
                          ev->nfields);
#else
    (void)in, (void)t, (void)lineno, (void)err;
#endif
    *out = ev->fields[i];
    return 0;
}

/* Sets *match to whether ev satisfies every criterion of in. */
static int eval_instance(const rg_template *t, const rg_instance *in,
                         const rg_event *ev, long lineno, bool *match,
                         rg_err *err)
{
    *match = false;
    for (size_t i = 0; i < t->nfields; i++) {
        const rg_crit *c = &in->crits[i];
        const char *v = NULL;
        if (c->kind == RG_CRIT_ANY)
            continue;
        int rc = field_at(ev, in, t, i, lineno, &v, err);
        if (rc != 0)
            return rc;
        if (!rg_crit_match(c, t->fields[i].type, v))
            return 0;
    }
    *match = true;
    return 0;
}

int rg_interp_event(const rg_channel *ch, const rg_event *ev, long lineno,
                    rg_match_fn on_match, void *ctx, rg_interp_stats *st,
                    rg_err *err)
{
    rg_interp_stats dummy = {0};
    if (!st)
        st = &dummy;
    st->events++;
    long ti = rg_channel_find(ch, ev->type);
    if (ti < 0) {
        st->unknown++;
        return 0;
    }
    const rg_template *t = &ch->templates[ti];
    for (size_t k = 0; k < ch->ninstances; k++) {
        const rg_instance *in = &ch->instances[k];
        bool match = false;
        if (in->tmpl != (size_t)ti)
            continue;
        int rc = eval_instance(t, in, ev, lineno, &match, err);
        if (rc == 0 && match) {
            st->matches++;
            rc = on_match ? on_match(ctx, in) : 0;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct run_ctx {
    FILE *out;
    long lineno;
    const char *type;
} run_ctx;

static int print_match(void *ctx, const rg_instance *in)
{
    run_ctx *r = ctx;
    if (r->out)
        fprintf(r->out, "%ld\t%s\t%s\n", r->lineno, r->type, in->name);
    return 0;
}

int rg_interp_run(const rg_channel *ch, FILE *in, FILE *out,
                  rg_interp_stats *st, rg_err *err)
{
    int rc = 0;
    rg_buf line;
    rg_event ev = {0};
    rg_err lerr;
    run_ctx r = {.out = out};
    rg_buf_init(&line, RG_ENGINE_EVENT_LINE_MAX);
    rg_err_clear(&lerr);
    for (;;) {
        r.lineno++;
        rc = rg_event_read_line(in, &line, &lerr);
        if (rc <= 0)
            break;
        rc = 0;
        if (rg_event_skip(line.data))
            continue;
        if ((rc = rg_event_parse(line.data, line.len, &ev, &lerr)) != 0)
            break;
        r.type = ev.type;
        rc = rg_interp_event(ch, &ev, r.lineno, print_match, &r, st, err);
        rg_event_release(&ev);
        if (rc != 0)
            goto cleanup; /* err already names the event line */
    }
    if (rc != 0)
        rg_err_set(err, rc, "event line %ld: %s", r.lineno, lerr.msg);
cleanup:
    rg_buf_release(&line);
    return rc;
}
