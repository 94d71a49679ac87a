/* config.c - see config.h. */
#include "config.h"
#include "common/name.h"

#include "common/buf.h"
#include "common/crypto.h"
#include "common/kv.h"
#include "common/log.h"
#include "durable.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static void set_defaults(rg_agent_config *c)
{
    memset(c, 0, sizeof *c);
    c->backoff_max_ms = 300000;
    c->timeout_ms = 30000;
    c->max_artifact = 256LL << 20;
    c->min_rate = 1024;
    c->trial_deadline_ms = 600000;
    c->settle_ms = 5000;
    c->max_starts = 3;
    c->clock_skew_ms = 300000;
    c->deltas = true;
}

static int set_str(char **slot, const char *v, int line, rg_err *err)
{
    char *d = strdup(v);
    if (!d)
        return rg_err_set(err, RG_ENOMEM, "line %d: out of memory", line);
    free(*slot);
    *slot = d;
    return 0;
}

/* Seconds (decimal allowed) in [min_s, max_s] into *ms. */
static int set_seconds(int64_t *ms, const char *key, const char *v,
                       double min_s, double max_s, int line, rg_err *err)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < min_s ||
        d > max_s)
        return rg_err_field(err, RG_EINVAL, key,
                            "line %d: '%s' must be seconds in [%g, %g]", line,
                            key, min_s, max_s);
    *ms = (int64_t)(d * 1000.0 + 0.5);
    return 0;
}

static int set_int(int64_t *out, const char *key, const char *v, int64_t min,
                   int64_t max, int line, rg_err *err)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return rg_err_field(err, RG_EINVAL, key,
                            "line %d: '%s' must be an integer in [%lld, %lld]",
                            line, key, (long long)min, (long long)max);
    *out = n;
    return 0;
}

/* Splits v at commas into items (trimmed, empty ones skipped), replacing
 * the *n there: at most max items of at most len bytes each. */
static int set_list(char **items, size_t *n, size_t max, size_t len,
                    const char *key, char *v, int line, rg_err *err)
{
    for (size_t i = 0; i < *n; i++)
        free(items[i]);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(v, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        t = rg_kv_trim(t);
        if (*t == '\0')
            continue;
        if (*n == max || strlen(t) > len)
            return rg_err_field(err, RG_EINVAL, key,
                                "line %d: at most %zu %s of %zu bytes", line,
                                max, key, len);
        items[*n] = NULL;
        if (set_str(&items[*n], t, line, err) != 0)
            return RG_ENOMEM;
        (*n)++;
    }
    return 0;
}

/* A `true` or `false` value. */
static int set_bool(bool *out, const char *k, const char *v, int line,
                    rg_err *err)
{
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return rg_err_field(err, RG_EINVAL, k,
                            "line %d: '%s' must be true or false", line, k);
    *out = strcmp(v, "true") == 0;
    return 0;
}

/* mirrors: http(s) base URLs, kept without trailing slashes. */
static int set_mirrors(rg_agent_config *c, char *v, int line, rg_err *err)
{
    int rc = set_list(c->mirrors, &c->nmirrors, RG_AGENT_MAX_MIRRORS, 512,
                      "mirrors", v, line, err);
    for (size_t i = 0; i < c->nmirrors && rc == 0; i++) {
        char *m = c->mirrors[i];
        size_t n = strlen(m);
        while (n > 0 && m[n - 1] == '/')
            m[--n] = '\0';
        if (strncmp(m, "http://", 7) != 0 && strncmp(m, "https://", 8) != 0)
            rc = rg_err_field(err, RG_EINVAL, "mirrors",
                              "line %d: mirror '%s' is not an http(s) URL",
                              line, m);
    }
    return rc;
}

static int set_global(rg_agent_config *c, const char *k, char *v, int line,
                      rg_err *err)
{
    int64_t n = 0;
    int rc = 0;
    if (strcmp(k, "server") == 0) {
        size_t len = strlen(v);
        while (len > 0 && v[len - 1] == '/')
            v[--len] = '\0';
        return set_str(&c->server, v, line, err);
    }
    if (strcmp(k, "enrollment_key") == 0)
        return set_str(&c->enrollment_key, v, line, err);
    if (strcmp(k, "ca_file") == 0)
        return set_str(&c->ca_file, v, line, err);
    /* root and root_sha256: the old spellings, kept for one release. */
    if (strcmp(k, "trust_root") == 0 || strcmp(k, "root") == 0)
        return set_str(&c->root, v, line, err);
    if (strcmp(k, "trust_root_sha256") == 0 || strcmp(k, "root_sha256") == 0) {
        if (!rg_sha256_hex_valid(v))
            return rg_err_field(err, RG_EINVAL, k,
                                "line %d: '%s' must be 64 lower-case hex "
                                "digits",
                                line, k);
        return set_str(&c->root_sha256, v, line, err);
    }
    if (strcmp(k, "insecure") == 0)
        return set_bool(&c->insecure, k, v, line, err);
    if (strcmp(k, "deltas") == 0)
        return set_bool(&c->deltas, k, v, line, err);
    if (strcmp(k, "clock_skew") == 0)
        return set_seconds(&c->clock_skew_ms, k, v, 0, 86400, line, err);
    if (strcmp(k, "state_dir") == 0)
        return set_str(&c->state_dir, v, line, err);
    if (strcmp(k, "endpoint_id") == 0)
        return set_str(&c->endpoint_id, v, line, err);
    if (strcmp(k, "os") == 0)
        return set_str(&c->os, v, line, err);
    if (strcmp(k, "os_version") == 0)
        return set_str(&c->os_version, v, line, err);
    if (strcmp(k, "arch") == 0)
        return set_str(&c->arch, v, line, err);
    if (strcmp(k, "log_level") == 0) {
        if (rg_log_level_parse(v) < 0)
            return rg_err_field(err, RG_EINVAL, k,
                                "line %d: 'log_level' must be debug, info, "
                                "warn or error",
                                line);
        return set_str(&c->log_level, v, line, err);
    }
    if (strcmp(k, "flags_environment") == 0) {
        if (!rg_channel_name_valid(v))
            return rg_err_set(err, RG_EINVAL,
                              "line %d: flags_environment must be %s", line,
                              RG_CHANNEL_NAME_RULE);
        return set_str(&c->flags_env, v, line, err);
    }
    if (strcmp(k, "tags") == 0)
        return set_list(c->tags, &c->ntags, RG_AGENT_MAX_TAGS, 64, "tags", v,
                        line, err);
    if (strcmp(k, "mirrors") == 0)
        return set_mirrors(c, v, line, err);
    if (strcmp(k, "interval") == 0)
        return set_seconds(&c->interval_ms, k, v, 0.01, 86400, line, err);
    if (strcmp(k, "backoff_max") == 0)
        return set_seconds(&c->backoff_max_ms, k, v, 0.01, 86400, line, err);
    if (strcmp(k, "timeout") == 0)
        return set_seconds(&c->timeout_ms, k, v, 0.1, 3600, line, err);
    if (strcmp(k, "trial_deadline") == 0)
        return set_seconds(&c->trial_deadline_ms, k, v, 0.1, 86400 * 7, line,
                           err);
    if (strcmp(k, "settle") == 0)
        return set_seconds(&c->settle_ms, k, v, 0, 3600, line, err);
    if (strcmp(k, "min_rate") == 0)
        return set_int(&c->min_rate, k, v, 1, 1LL << 30, line, err);
    if (strcmp(k, "max_artifact") == 0)
        return set_int(&c->max_artifact, k, v, 1, 1LL << 40, line, err);
    if (strcmp(k, "max_starts") == 0) {
        rc = set_int(&n, k, v, 1, RG_AGENT_MAX_STARTS_LIMIT, line, err);
        if (rc == 0)
            c->max_starts = (int)n;
        return rc;
    }
    return rg_err_field(err, RG_EINVAL, k, "line %d: unknown key '%s'", line,
                        k);
}

static int set_hook(rg_agent_channel_conf *ch, const char *k, const char *v,
                    int line, rg_err *err)
{
    char **slot = strcmp(k, "validate") == 0   ? &ch->validate
                  : strcmp(k, "activate") == 0 ? &ch->activate
                  : strcmp(k, "probe") == 0    ? &ch->probe
                  : strcmp(k, "notify") == 0   ? &ch->notify
                  : strcmp(k, "consumer") == 0 ? &ch->consumer
                                               : NULL;
    if (!slot)
        return rg_err_field(err, RG_EINVAL, k,
                            "line %d: unknown channel key '%s'", line, k);
    return set_str(slot, v, line, err);
}

/* Opens the [channel NAME] section whose text (between the brackets) is s. */
static int open_section(rg_agent_config *c, const char *s, int line,
                        rg_err *err)
{
    if (strncmp(s, "channel", 7) != 0 || !isspace((unsigned char)s[7]))
        return rg_err_set(err, RG_EINVAL,
                          "line %d: sections are [channel NAME]", line);
    const char *name = s + 8;
    while (isspace((unsigned char)*name))
        name++;
    if (!rg_channel_name_valid(name))
        return rg_err_set(
            err, RG_EINVAL,
            "line %d: channel '%s': name must be " RG_CHANNEL_NAME_RULE, line,
            name);
    if (rg_agent_config_channel(c, name))
        return rg_err_set(err, RG_EINVAL, "line %d: channel '%s' twice", line,
                          name);
    if (c->nchannels == RG_AGENT_MAX_CHANNELS)
        return rg_err_set(err, RG_EINVAL, "line %d: more than %d channels",
                          line, RG_AGENT_MAX_CHANNELS);
    rg_agent_channel_conf *ch = &c->channels[c->nchannels];
    memset(ch, 0, sizeof *ch);
    if (set_str(&ch->name, name, line, err) != 0)
        return RG_ENOMEM;
    c->nchannels++;
    return 0;
}

/* rg_kv_fn: ctx is the config being parsed; settings after a section
 * line belong to its channel. */
static int on_line(void *ctx, const rg_kv_line *l, rg_err *err)
{
    rg_agent_config *c = ctx;
    if (l->section)
        return open_section(c, l->section, l->line, err);
    char *v = strdup(l->value); /* set_global edits it (tags, server) */
    if (!v)
        return rg_err_set(err, RG_ENOMEM, "line %d: out of memory", l->line);
    int rc = c->nchannels ? set_hook(&c->channels[c->nchannels - 1], l->key, v,
                                     l->line, err)
                          : set_global(c, l->key, v, l->line, err);
    free(v);
    return rc;
}

int rg_agent_config_parse(const char *text, rg_agent_config *c, rg_err *err)
{
    set_defaults(c);
    int rc = rg_kv_parse(text, strlen(text), NULL, on_line, c, err);
    if (rc != 0)
        rg_agent_config_release(c);
    return rc;
}

/* Reads KEY=value (value optionally quoted) from an os-release buffer. */
static char *os_release_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *l = text; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, klen) != 0 || l[klen] != '=')
            continue;
        const char *v = l + klen + 1;
        size_t n = strcspn(v, "\n");
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        return strndup(v, n);
    }
    return NULL;
}

int rg_agent_config_detect_os(rg_agent_config *c, const char *os_release_path,
                              rg_err *err)
{
    int rc = 0;
    rg_buf b;
    rg_buf_init(&b, 64 * 1024);
    rc = rg_file_read(os_release_path, &b, NULL);
    const char *text = (rc == 0 && b.data) ? b.data : "";
    rc = 0;
    if (!c->os) {
        c->os = os_release_value(text, "ID");
        if (!c->os)
            c->os = strdup("linux");
    }
    if (!c->os_version) {
        c->os_version = os_release_value(text, "VERSION_ID");
        if (!c->os_version)
            c->os_version = strdup("unknown");
    }
    if (!c->os || !c->os_version)
        rc = rg_err_set(err, RG_ENOMEM, "config: out of memory");
    rg_buf_release(&b);
    return rc;
}

static int detect(rg_agent_config *c, rg_err *err)
{
    if (!c->endpoint_id) {
        rg_buf b;
        rg_buf_init(&b, 4096);
        int rc = rg_file_read("/etc/machine-id", &b, err);
        if (rc == 0 && b.data) {
            char *id = rg_kv_trim(b.data);
            if (*id)
                c->endpoint_id = strdup(id);
        }
        rg_buf_release(&b);
        if (!c->endpoint_id)
            return rg_err_field(
                err, RG_EINVAL, "endpoint_id",
                "config: no endpoint_id and no /etc/machine-id");
    }
    if (!c->arch) {
        struct utsname u;
        c->arch = strdup(uname(&u) == 0 ? u.machine : "unknown");
        if (!c->arch)
            return rg_err_set(err, RG_ENOMEM, "config: out of memory");
    }
    return rg_agent_config_detect_os(c, "/etc/os-release", err);
}

int rg_agent_config_load(const char *path, rg_agent_config *c, rg_err *err)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    int rc = rg_file_read(path, &b, err);
    if (rc != 0) {
        set_defaults(c);
        goto cleanup;
    }
    rc = rg_agent_config_parse(b.data ? b.data : "", c, err);
    if (rc != 0)
        goto cleanup;
    if (!c->server || !c->state_dir) {
        rc = rg_err_field(err, RG_EINVAL, c->server ? "state_dir" : "server",
                          "config '%s': '%s' is required", path,
                          c->server ? "state_dir" : "server");
        goto cleanup;
    }
    rc = detect(c, err);
cleanup:
    if (rc != 0)
        rg_agent_config_release(c);
    rg_buf_release(&b);
    return rc;
}

const rg_agent_channel_conf *rg_agent_config_channel(const rg_agent_config *c,
                                                     const char *name)
{
    for (size_t i = 0; i < c->nchannels; i++)
        if (strcmp(c->channels[i].name, name) == 0)
            return &c->channels[i];
    return NULL;
}

void rg_agent_config_release(rg_agent_config *c)
{
    free(c->server);
    free(c->ca_file);
    free(c->root);
    free(c->root_sha256);
    free(c->enrollment_key);
    free(c->state_dir);
    free(c->endpoint_id);
    free(c->os);
    free(c->os_version);
    free(c->arch);
    free(c->log_level);
    free(c->flags_env);
    for (size_t i = 0; i < c->ntags; i++)
        free(c->tags[i]);
    for (size_t i = 0; i < c->nmirrors; i++)
        free(c->mirrors[i]);
    for (size_t i = 0; i < c->nchannels; i++) {
        rg_agent_channel_conf *ch = &c->channels[i];
        free(ch->name);
        free(ch->validate);
        free(ch->activate);
        free(ch->probe);
        free(ch->notify);
        free(ch->consumer);
    }
    set_defaults(c);
}
