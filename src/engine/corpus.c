/* corpus.c - see corpus.h. */
#include "corpus.h"

#include "common/buf.h"
#include "engine/event.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VAL_MAX (RG_ENGINE_LINE_MAX + 2) /* a literal plus one byte, NUL */

typedef struct gen {
    const rg_channel *ch;
    rg_corpus *out;
    rg_err *err;
    size_t inst;           /* current instance */
    const rg_template *t;  /* its template */
    char (*base)[VAL_MAX]; /* a matching value per field */
} gen;

static void default_value(rg_ftype t, char *v)
{
    static const char *const plain[] = {
        [RG_FT_STRING] = "x",
        [RG_FT_INT] = "0",
        [RG_FT_IP] = "192.0.2.1",
        [RG_FT_PATH] = "/x",
        [RG_FT_SHA256] = ("00000000000000000000000000000000"
                          "00000000000000000000000000000000"),
    };
    snprintf(v, VAL_MAX, "%s", plain[t]);
}

static void format_ip(const rg_ip *ip, char *v)
{
    inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->b, v, VAL_MAX);
}

/* Writes a value that satisfies c into v. */
static void match_value(const rg_crit *c, rg_ftype t, char *v)
{
    size_t n = 0;
    switch (c->kind) {
    case RG_CRIT_ANY:
        default_value(t, v);
        break;
    case RG_CRIT_EQ:
        snprintf(v, VAL_MAX, "%s", c->text);
        break;
    case RG_CRIT_PREFIX:
        snprintf(v, VAL_MAX, "%s", c->text);
        n = strlen(v);
        while (t == RG_FT_SHA256 && n < 64)
            v[n++] = '0';
        v[n] = '\0';
        break;
    case RG_CRIT_GLOB:
        for (const char *p = c->text; *p; p++)
            if (*p != '*')
                v[n++] = *p == '?' ? 'a' : *p;
        v[n] = '\0';
        break;
    case RG_CRIT_RANGE:
        snprintf(v, VAL_MAX, "%lld", (long long)c->lo);
        break;
    case RG_CRIT_CIDR:
        format_ip(&c->addr, v);
        break;
    }
}

/* Turns an rg_buf status into a filled error (0 stays 0). */
static int buf_status(gen *g, int rc)
{
    if (rc == RG_ETOOBIG)
        return rg_err_set(g->err, rc,
                          "instance '%s': generated event longer "
                          "than %d bytes",
                          g->ch->instances[g->inst].name,
                          RG_ENGINE_EVENT_LINE_MAX);
    if (rc != 0)
        return rg_err_set(g->err, rc, "out of memory");
    return 0;
}

static int push(gen *g, char *line, rg_expect e)
{
    rg_corpus *c = g->out;
    rg_probe *p = realloc(c->items, (c->n + 1) * sizeof *p);
    if (!p) {
        free(line);
        return rg_err_set(g->err, RG_ENOMEM, "out of memory");
    }
    c->items = p;
    c->items[c->n++] =
        (rg_probe){.line = line, .instance = g->inst, .expect = e};
    return 0;
}

static int push_text(gen *g, rg_buf *b, rg_expect e)
{
    char *line = rg_buf_detach(b);
    if (!line)
        return rg_err_set(g->err, RG_ENOMEM, "out of memory");
    return push(g, line, e);
}

/* Emits the base event with field i replaced by v (i == SIZE_MAX: the
 * base itself) when v does for criterion i what want says; otherwise
 * emits nothing. */
static int emit(gen *g, size_t i, const char *v, rg_expect want)
{
    int rc = 0;
    const rg_instance *in = &g->ch->instances[g->inst];
    if (i != SIZE_MAX) {
        bool m = rg_crit_match(&in->crits[i], g->t->fields[i].type, v);
        if (m != (want == RG_EXPECT_MATCH))
            return 0;
    }
    rg_buf b;
    rg_buf_init(&b, RG_ENGINE_EVENT_LINE_MAX);
    rc = rg_buf_adds(&b, g->t->name);
    for (size_t j = 0; rc == 0 && j < g->t->nfields; j++)
        rc = rg_buf_printf(&b, "\t%s", j == i ? v : g->base[j]);
    rc = buf_status(g, rc);
    if (rc == 0)
        rc = push_text(g, &b, want);
    rg_buf_release(&b);
    return rc;
}

/* Emits the events that drive criterion i at and just past its edges. */
static int drive(gen *g, size_t i)
{
    const rg_crit *c = &g->ch->instances[g->inst].crits[i];
    rg_ftype t = g->t->fields[i].type;
    char v[VAL_MAX];
    int rc = 0;
    rg_ip ip;
    match_value(c, t, v);
    switch (c->kind) {
    case RG_CRIT_ANY:
        break;
    case RG_CRIT_EQ:
        if (t == RG_FT_INT) {
            snprintf(v, sizeof v, "%lld",
                     (long long)(c->lo == INT64_MAX ? c->lo - 1 : c->lo + 1));
        } else if (t == RG_FT_IP) {
            ip = c->addr;
            ip.b[rg_ip_bits(&ip) / 8 - 1] ^= 1;
            format_ip(&ip, v);
        } else if (t == RG_FT_SHA256) {
            v[0] = v[0] == '0' ? '1' : '0';
        } else {
            snprintf(v, sizeof v, "%s_", c->text);
        }
        rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        break;
    case RG_CRIT_PREFIX:
        v[0] = v[0] == 'a' ? 'b' : 'a';
        rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        break;
    case RG_CRIT_GLOB:
        /* Change the first literal byte; else try a few fixed strings:
         * emit keeps only values the glob really rejects. */
        for (size_t k = 0, n = 0; c->text[k]; k++) {
            if (c->text[k] == '*')
                continue;
            if (c->text[k] != '?') {
                v[n] = v[n] == 'a' ? 'b' : 'a';
                break;
            }
            n++;
        }
        if (rg_crit_match(c, t, v))
            v[0] = '\0';
        if (rg_crit_match(c, t, v))
            snprintf(v, sizeof v, "#");
        rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        break;
    case RG_CRIT_RANGE:
        snprintf(v, sizeof v, "%lld", (long long)c->hi);
        if (c->hi != c->lo)
            rc = emit(g, i, v, RG_EXPECT_MATCH);
        if (rc == 0 && c->lo > INT64_MIN) {
            snprintf(v, sizeof v, "%lld", (long long)(c->lo - 1));
            rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        }
        if (rc == 0 && c->hi < INT64_MAX) {
            snprintf(v, sizeof v, "%lld", (long long)(c->hi + 1));
            rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        }
        if (rc == 0 && c->lo == INT64_MIN && c->hi == INT64_MAX)
            rc = emit(g, i, "not-an-int", RG_EXPECT_NOMATCH);
        break;
    case RG_CRIT_CIDR:
        ip = c->addr;
        for (unsigned k = c->bits; k < rg_ip_bits(&ip); k++)
            ip.b[k / 8] |= (uint8_t)(0x80u >> (k % 8));
        format_ip(&ip, v);
        if (c->bits < rg_ip_bits(&ip))
            rc = emit(g, i, v, RG_EXPECT_MATCH);
        ip = c->addr;
        if (c->bits > 0) {
            ip.b[(c->bits - 1) / 8] ^= (uint8_t)(0x80u >> ((c->bits - 1) % 8));
            format_ip(&ip, v);
        } else {
            snprintf(v, sizeof v, "%s", ip.family == 4 ? "::1" : "192.0.2.1");
        }
        if (rc == 0)
            rc = emit(g, i, v, RG_EXPECT_NOMATCH);
        break;
    }
    return rc;
}

/* Appends copies of probes [from, to) cut to k fields, skipping comments
 * and lines equal to one already cut. */
static int cut(gen *g, size_t from, size_t to, size_t k)
{
    int rc = 0;
    rg_buf b;
    size_t first = g->out->n;
    rg_buf_init(&b, RG_ENGINE_EVENT_LINE_MAX);
    rc = buf_status(g, rg_buf_printf(&b,
                                     "# instance '%s' cut to %zu of %zu "
                                     "fields: the sensor sends %s events "
                                     "with %zu",
                                     g->ch->instances[g->inst].name, k,
                                     g->t->nfields, g->t->name, k));
    if (rc == 0)
        rc = push_text(g, &b, RG_EXPECT_NONE);
    for (size_t p = from; rc == 0 && p < to; p++) {
        const char *line = g->out->items[p].line, *end = line;
        if (*line == '#')
            continue;
        for (size_t tabs = 0; *end && !(*end == '\t' && tabs++ == k); end++)
            ;
        size_t len = (size_t)(end - line);
        bool seen = false;
        for (size_t q = first + 1; q < g->out->n && !seen; q++)
            seen = strlen(g->out->items[q].line) == len &&
                   memcmp(g->out->items[q].line, line, len) == 0;
        if (seen)
            continue;
        rg_buf_reset(&b);
        if ((rc = buf_status(g, rg_buf_add(&b, line, len))) == 0)
            rc = push_text(g, &b, RG_EXPECT_NONE);
    }
    rg_buf_release(&b);
    return rc;
}

static int cover_instance(gen *g, const rg_supply *sup)
{
    const rg_instance *in = &g->ch->instances[g->inst];
    size_t from = g->out->n;
    int rc = 0;
    rg_buf b;
    rg_buf_init(&b, RG_ENGINE_EVENT_LINE_MAX);
    rc = buf_status(g, rg_buf_printf(&b,
                                     "# instance '%s' (template '%s', "
                                     "line %d)",
                                     in->name, g->t->name, in->line));
    if (rc == 0)
        rc = push_text(g, &b, RG_EXPECT_NONE);
    rg_buf_release(&b);
    for (size_t j = 0; j < g->t->nfields; j++)
        match_value(&in->crits[j], g->t->fields[j].type, g->base[j]);
    for (size_t j = 0; rc == 0 && j < g->t->nfields; j++)
        if (!rg_crit_match(&in->crits[j], g->t->fields[j].type, g->base[j]))
            rc = rg_err_set(g->err, RG_EINTERNAL,
                            "instance '%s': generated "
                            "value '%s' does not match field '%s'",
                            in->name, g->base[j], g->t->fields[j].name);
    if (rc == 0)
        rc = emit(g, SIZE_MAX, NULL, RG_EXPECT_MATCH);
    for (size_t j = 0; rc == 0 && j < g->t->nfields; j++)
        rc = drive(g, j);
    size_t to = g->out->n;
    for (size_t s = 0; rc == 0 && sup && s < sup->n; s++)
        if (sup->items[s].nfields < g->t->nfields &&
            strcmp(sup->items[s].type, g->t->name) == 0)
            rc = cut(g, from, to, sup->items[s].nfields);
    return rc;
}

int rg_corpus_build(const rg_channel *ch, const rg_supply *sup, rg_corpus *out,
                    rg_err *err)
{
    int rc = 0;
    rg_err dummy;
    gen g = {.ch = ch, .out = out, .err = err ? err : &dummy};
    out->items = NULL;
    out->n = 0;
    g.base = malloc(RG_ENGINE_FIELDS_MAX * sizeof *g.base);
    if (!g.base) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (g.inst = 0; rc == 0 && g.inst < ch->ninstances; g.inst++) {
        g.t = &ch->templates[ch->instances[g.inst].tmpl];
        rc = cover_instance(&g, sup);
    }
cleanup:
    free(g.base);
    if (rc != 0)
        rg_corpus_release(out);
    return rc;
}

void rg_corpus_release(rg_corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i].line);
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

void rg_corpus_write(const rg_corpus *c, FILE *out)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, "%s\n", c->items[i].line);
}
