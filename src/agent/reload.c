/* reload.c - see reload.h. */
#include "reload.h"

#include "common/kv.h"
#include "common/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF(field) offsetof(rg_agent_config, field)
#define VALUE_MAX 2100 /* mirrors: 4 of 512 bytes with commas */

typedef enum kind { K_STR, K_MS, K_I64, K_INT, K_BOOL, K_TAGS, K_MIRRORS } kind;

/* The global settings as the file spells them (config.h). */
static const struct setting {
    const char *key;
    kind k;
    size_t off;
    bool live;
} settings[] = {
    {"server", K_STR, CONF(server), false},
    {"ca_file", K_STR, CONF(ca_file), false},
    {"trust_root", K_STR, CONF(root), false},
    {"trust_root_sha256", K_STR, CONF(root_sha256), false},
    {"insecure", K_BOOL, CONF(insecure), false},
    {"enrollment_key", K_STR, CONF(enrollment_key), false},
    {"state_dir", K_STR, CONF(state_dir), false},
    {"endpoint_id", K_STR, CONF(endpoint_id), false},
    {"os", K_STR, CONF(os), false},
    {"os_version", K_STR, CONF(os_version), false},
    {"arch", K_STR, CONF(arch), false},
    {"tags", K_TAGS, CONF(tags), false},
    {"mirrors", K_MIRRORS, CONF(mirrors), false},
    {"flags_environment", K_STR, CONF(flags_env), false},
    {"timeout", K_MS, CONF(timeout_ms), false},
    {"max_artifact", K_I64, CONF(max_artifact), false},
    {"min_rate", K_I64, CONF(min_rate), false},
    {"log_level", K_STR, CONF(log_level), true},
    {"interval", K_MS, CONF(interval_ms), true},
    {"backoff_max", K_MS, CONF(backoff_max_ms), true},
    {"trial_deadline", K_MS, CONF(trial_deadline_ms), true},
    {"settle", K_MS, CONF(settle_ms), true},
    {"max_starts", K_INT, CONF(max_starts), true},
    {"clock_skew", K_MS, CONF(clock_skew_ms), true},
    {"deltas", K_BOOL, CONF(deltas), true},
};

/* The n items joined by commas into out (cap bytes). */
static void join(char *const *items, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0, len = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "",
                                items[i]);
}

/* Setting s of c as text into out. */
static void format(const rg_agent_config *c, const struct setting *s, char *out,
                   size_t n)
{
    const char *p = (const char *)c + s->off;
    switch (s->k) {
    case K_STR:
        snprintf(out, n, "%s", *(char *const *)p ? *(char *const *)p : "");
        break;
    case K_MS:
        snprintf(out, n, "%.10g", (double)*(const int64_t *)p / 1000.0);
        break;
    case K_I64:
        snprintf(out, n, "%lld", (long long)*(const int64_t *)p);
        break;
    case K_INT:
        snprintf(out, n, "%d", *(const int *)p);
        break;
    case K_BOOL:
        snprintf(out, n, "%s", *(const bool *)p ? "true" : "false");
        break;
    case K_TAGS:
        join(c->tags, c->ntags, out, n);
        break;
    case K_MIRRORS:
        join(c->mirrors, c->nmirrors, out, n);
        break;
    }
}

/* Moves live setting s from next into cur (strings are swapped: next
 * frees the old one). */
static void take(rg_agent_config *cur, rg_agent_config *next,
                 const struct setting *s)
{
    char *a = (char *)cur + s->off, *b = (char *)next + s->off;
    if (s->k == K_STR) {
        char *t = *(char **)a;
        *(char **)a = *(char **)b;
        *(char **)b = t;
    } else if (s->k == K_INT) {
        *(int *)a = *(int *)b;
    } else if (s->k == K_BOOL) {
        *(bool *)a = *(bool *)b;
    } else {
        *(int64_t *)a = *(int64_t *)b;
    }
}

static size_t globals(rg_agent_config *cur, rg_agent_config *next)
{
    char a[VALUE_MAX], b[VALUE_MAX];
    size_t n = 0;
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++) {
        const struct setting *s = &settings[i];
        format(cur, s, a, sizeof a);
        format(next, s, b, sizeof b);
        if (rg_kv_reload_note(s->key, a, b, s->live, NULL)) {
            take(cur, next, s);
            n++;
        }
    }
    if (cur->log_level)
        rg_log_set_level((rg_log_level)rg_log_level_parse(cur->log_level));
    return n;
}

/* The hooks of channel a (in effect) against b (loaded); the live ones
 * that changed are swapped into a. Returns how many. */
static size_t hooks(rg_agent_channel_conf *a, rg_agent_channel_conf *b)
{
    static const struct {
        const char *key;
        size_t off;
    } h[] = {{"validate", offsetof(rg_agent_channel_conf, validate)},
             {"activate", offsetof(rg_agent_channel_conf, activate)},
             {"probe", offsetof(rg_agent_channel_conf, probe)},
             {"notify", offsetof(rg_agent_channel_conf, notify)},
             {"consumer", offsetof(rg_agent_channel_conf, consumer)}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof h / sizeof *h; i++) {
        char **x = (char **)((char *)a + h[i].off);
        char **y = (char **)((char *)b + h[i].off);
        char key[128];
        snprintf(key, sizeof key, "[channel %s] %s", a->name, h[i].key);
        if (rg_kv_reload_note(key, *x ? *x : "", *y ? *y : "",
                              strcmp(h[i].key, "consumer") != 0, NULL)) {
            char *t = *x;
            *x = *y;
            *y = t;
            n++;
        }
    }
    return n;
}

/* The channel sections: hooks of those in both, new ones appended to cur
 * (when add), removed ones logged. Returns the changes applied; *added
 * the sections appended. */
static size_t channels(rg_agent_config *cur, rg_agent_config *next, bool add,
                       size_t *added)
{
    size_t n = 0;
    for (size_t i = 0; i < cur->nchannels; i++) {
        rg_agent_channel_conf *a = &cur->channels[i];
        rg_agent_channel_conf *b =
            (rg_agent_channel_conf *)rg_agent_config_channel(next, a->name);
        if (b)
            n += hooks(a, b);
        else
            rg_warn("reload: [channel %s] removed but takes a restart: "
                    "still installed",
                    a->name);
    }
    for (size_t i = 0; i < next->nchannels; i++) {
        rg_agent_channel_conf *b = &next->channels[i];
        if (rg_agent_config_channel(cur, b->name))
            continue;
        if (!add || cur->nchannels == RG_AGENT_MAX_CHANNELS) {
            rg_warn("reload: [channel %s] added but takes a restart%s", b->name,
                    add ? " (too many channels)" : "");
            continue;
        }
        rg_info("reload: [channel %s] added", b->name);
        cur->channels[cur->nchannels++] = *b;
        memset(b, 0, sizeof *b); /* cur owns its strings now */
        (*added)++;
        n++;
    }
    return n;
}

int rg_agent_reload(rg_agent_config *cur, const char *path, bool insecure,
                    bool add_channels, size_t *added, rg_err *err)
{
    rg_agent_config *next = calloc(1, sizeof *next);
    *added = 0;
    if (!next)
        return rg_err_set(err, RG_ENOMEM, "reload: out of memory");
    int rc = rg_agent_config_load(path, next, err);
    if (rc != 0) {
        rg_error("reload refused, nothing changed: %s", err->msg);
        free(next);
        return rc;
    }
    next->insecure = next->insecure || insecure;
    size_t n = globals(cur, next) + channels(cur, next, add_channels, added);
    rg_info("reload: %zu setting%s applied", n, n == 1 ? "" : "s");
    rg_agent_config_release(next);
    free(next);
    return 0;
}
