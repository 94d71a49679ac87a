/* options.c - see options.h. */
#include "options.h"

#include "common/buf.h"
#include "common/file.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/redact.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum kind {
    K_UINT,   /* unsigned in [min, max], a 4- or 8-byte field */
    K_PATH,   /* a non-empty string */
    K_URL,    /* a non-empty string shown without its password */
    K_LISTEN, /* HOST:PORT */
    K_DIR,    /* an existing directory, kept as its absolute path */
    K_LEVEL,  /* a log level name, kept as its number */
} kind;

typedef struct option {
    const char *name;
    kind kind;
    size_t off, size;
    unsigned long long min, max;
    bool live;
    const char *expect; /* what a K_UINT value is, for messages */
} option;

#define F(field)                                                               \
    offsetof(rg_server_config, field), sizeof(((rg_server_config *)0)->field)
#define MILLION 1000000ull

static const option options[] = {
    {"data", K_PATH, F(data_dir), 0, 0, false, NULL},
    {"store", K_URL, F(store), 0, 0, false, NULL},
    {"listen", K_LISTEN, F(listen), 0, 0, false, NULL},
    {"node-id", K_PATH, F(node_id), 0, 0, false, NULL},
    {"artifact-max", K_UINT, F(artifact_max), 1, 1ull << 40, true, "bytes"},
    {"signed-url-window", K_UINT, F(signed_url_window_s), 0, 7 * 86400, false,
     "seconds"},
    {"threads", K_UINT, F(threads), 1, 256, false, "threads"},
    {"interval", K_UINT, F(checkin_interval_s), 1, 86400, true, "seconds"},
    {"tick-ms", K_UINT, F(tick_ms), 1, 3600000, false, "milliseconds"},
    {"activation-cap", K_UINT, F(activation_cap_s), 1, 86400, true, "seconds"},
    {"flush-ms", K_UINT, F(flush_ms), 1, 3600000, false, "milliseconds"},
    {"max-connections", K_UINT, F(max_connections), 1, MILLION, false,
     "connections"},
    {"timeout", K_UINT, F(conn_timeout_s), 1, 86400, false, "seconds"},
    {"max-per-address", K_UINT, F(max_per_address), 0, MILLION, false,
     "connections"},
    {"header-timeout", K_UINT, F(header_timeout_s), 1, 3600, false, "seconds"},
    {"min-body-rate", K_UINT, F(min_body_rate), 1, 1ull << 40, false,
     "bytes/s"},
    {"tls-cert", K_PATH, F(tls_cert), 0, 0, false, NULL},
    {"tls-key", K_PATH, F(tls_key), 0, 0, false, NULL},
    {"engine-dir", K_DIR, F(engine_dir), 0, 0, true, NULL},
    {"web-dir", K_DIR, F(web_dir), 0, 0, false, NULL},
    {"stream-per-token", K_UINT, F(stream_per_token), 1, 1024, false,
     "a count"},
    {"stream-per-address", K_UINT, F(stream_per_address), 1, 1024, false,
     "a count"},
    {"enroll-burst", K_UINT, F(enroll_burst), 0, MILLION, true, "a count"},
    {"enroll-per-min", K_UINT, F(enroll_per_min), 1, MILLION, true, "a count"},
    {"auth-fail-burst", K_UINT, F(auth_fail_burst), 0, MILLION, true,
     "a count"},
    {"auth-fail-per-min", K_UINT, F(auth_fail_per_min), 1, MILLION, true,
     "a count"},
    {"auth-audit-per-min", K_UINT, F(auth_audit_per_min), 1, MILLION, true,
     "a count"},
    {"event-burst", K_UINT, F(event_burst), 0, MILLION, true, "a count"},
    {"events-per-min", K_UINT, F(events_per_min), 1, MILLION, true, "a count"},
    {"event-retention", K_UINT, F(event_retention_s), 0, UINT32_MAX, true,
     "seconds"},
    {"rate-table", K_UINT, F(rate_table), 8, 1u << 24, false, "a count"},
    {"log-level", K_LEVEL, F(log_level), 0, 0, true, NULL},
    {"access-log", K_PATH, F(access_log), 0, 0, true, NULL},
};

#define N_OPTIONS (sizeof options / sizeof options[0])
_Static_assert(N_OPTIONS <= RG_OPTIONS_MAX, "raise RG_OPTIONS_MAX");

size_t rg_options_count(void)
{
    return N_OPTIONS;
}

const char *rg_options_name(size_t i)
{
    return options[i].name;
}

bool rg_options_live(size_t i)
{
    return options[i].live;
}

static size_t find(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static int parse_uint(const option *o, const char *s, unsigned long long *out)
{
    char *end = NULL;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < o->min || v > o->max)
        return -1;
    *out = v;
    return 0;
}

/* Writes v into cfg's field of option o. Returns 0, or -1 with what was
 * expected in why. */
static int set_value(rg_server_config *cfg, const option *o, const char *v,
                     char *why, size_t cap)
{
    char *field = (char *)cfg + o->off;
    unsigned long long n = 0;
    if (o->kind == K_UINT) {
        if (parse_uint(o, v, &n) != 0) {
            snprintf(why, cap, "%s (%llu..%llu)", o->expect, o->min, o->max);
            return -1;
        }
        if (o->size == sizeof(uint64_t)) {
            uint64_t u = n;
            memcpy(field, &u, sizeof u);
        } else {
            uint32_t u = (uint32_t)n;
            memcpy(field, &u, sizeof u);
        }
        return 0;
    }
    if (o->kind == K_LEVEL) {
        int l = rg_log_level_parse(v);
        snprintf(why, cap, "debug, info, warn or error");
        if (l < 0)
            return -1;
        memcpy(field, &l, sizeof l);
        return 0;
    }
    char *dir = o->kind == K_DIR ? realpath(v, NULL) : NULL;
    struct stat st;
    bool ok =
        *v && strlen(v) < o->size && (o->kind != K_LISTEN || strchr(v, ':')) &&
        (o->kind != K_DIR || (dir && stat(dir, &st) == 0 &&
                              S_ISDIR(st.st_mode) && strlen(dir) < o->size));
    if (ok)
        snprintf(field, o->size, "%s", dir ? dir : v);
    free(dir);
    snprintf(why, cap, "%s",
             o->kind == K_LISTEN                  ? "HOST:PORT"
             : o->kind == K_DIR                   ? "an existing directory"
             : o->kind == K_URL                   ? "a URL (postgres://...)"
             : strcmp(o->name, "access-log") == 0 ? "off, stderr or a file"
                                                  : "a file name");
    return ok ? 0 : -1;
}

void rg_options_format(const rg_server_config *cfg, size_t i, char *out,
                       size_t cap)
{
    const option *o = &options[i];
    const char *field = (const char *)cfg + o->off;
    if (o->kind == K_UINT && o->size == sizeof(uint64_t)) {
        uint64_t u;
        memcpy(&u, field, sizeof u);
        snprintf(out, cap, "%llu", (unsigned long long)u);
    } else if (o->kind == K_UINT) {
        uint32_t u;
        memcpy(&u, field, sizeof u);
        snprintf(out, cap, "%u", u);
    } else if (o->kind == K_LEVEL) {
        int l;
        memcpy(&l, field, sizeof l);
        snprintf(out, cap, "%s", rg_log_level_name(l));
    } else if (o->kind == K_URL) {
        rg_url_redact(field, out, cap);
    } else {
        snprintf(out, cap, "%s", field);
    }
}

void rg_options_copy(rg_server_config *dst, const rg_server_config *src,
                     size_t i)
{
    memcpy((char *)dst + options[i].off, (const char *)src + options[i].off,
           options[i].size);
}

/* rg_kv_fn for the config file: ctx is the options being loaded. */
static int on_line(void *ctx, const rg_kv_line *l, rg_err *err)
{
    rg_server_options *o = ctx;
    char name[64], why[96];
    if (l->section)
        return rg_err_set(err, RG_EINVAL,
                          "%s: sections ([%s]) are not used in this file",
                          l->where, l->section);
    if (strchr(l->key, '-'))
        return rg_err_field(err, RG_EINVAL, l->key,
                            "%s: unknown key '%s' (keys are spelt with '_' "
                            "for '-': see rollgated --help)",
                            l->where, l->key);
    snprintf(name, sizeof name, "%s", l->key);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '-';
    size_t i = strlen(l->key) < sizeof name ? find(name) : SIZE_MAX;
    if (i == SIZE_MAX)
        return rg_err_field(err, RG_EINVAL, l->key,
                            "%s: unknown key '%s' (see rollgated --help)",
                            l->where, l->key);
    if (strcmp(o->from[i], "default") != 0)
        return rg_err_field(err, RG_EINVAL, l->key,
                            "%s: '%s' set twice (first at %s)", l->where,
                            l->key, o->from[i]);
    if (set_value(&o->cfg, &options[i], l->value, why, sizeof why) != 0)
        return rg_err_field(err, RG_EINVAL, l->key,
                            "%s: '%s': expected %s, got '%s'", l->where, l->key,
                            why, l->value);
    snprintf(o->from[i], sizeof o->from[i], "%s", l->where);
    return 0;
}

static int read_file(rg_server_options *o, rg_err *err)
{
    rg_buf b;
    rg_err why;
    rg_buf_init(&b, RG_OPTIONS_FILE_MAX);
    int rc = rg_file_read(o->config, &b, &why);
    if (rc == RG_ENOTFOUND)
        rc = rg_err_field(err, RG_EIO, "config",
                          "--config: cannot read '%s': %s", o->config,
                          strerror(ENOENT));
    else if (rc == RG_EIO)
        rc = rg_err_field(err, RG_EIO, "config", "--config: cannot read %s",
                          why.msg);
    else if (rc < 0)
        rc = rg_err_field(err, RG_EINVAL, "config",
                          "--config: '%s' is over %d bytes", o->config,
                          RG_OPTIONS_FILE_MAX);
    else
        rc = rg_kv_parse(b.data ? b.data : "", b.len, o->config, on_line, o,
                         err);
    rg_buf_release(&b);
    return rc;
}

/* Applies one flag f with value v (NULL: none followed). */
static int apply_flag(rg_server_options *o, const char *f, const char *v,
                      rg_err *err)
{
    char why[96];
    size_t i = strncmp(f, "--", 2) == 0 ? find(f + 2) : SIZE_MAX;
    if (i == SIZE_MAX)
        return rg_err_field(err, RG_EINVAL, f,
                            strncmp(f, "--", 2) == 0
                                ? "unknown flag '%s' (see --help)"
                                : "unexpected argument '%s' (see --help)",
                            f);
    if (!v)
        return rg_err_field(err, RG_EINVAL, f, "flag %s needs a value", f);
    if (set_value(&o->cfg, &options[i], v, why, sizeof why) != 0)
        return rg_err_field(err, RG_EINVAL, f, "%s: expected %s, got '%s'", f,
                            why, v);
    snprintf(o->from[i], sizeof o->from[i], "%s", f);
    return 0;
}

/* Finds --config and --print-config in argv; the other flags are applied
 * after the file (apply_flags). */
static int scan_config(rg_server_options *o, rg_err *err)
{
    for (int i = 0; i < o->argc; i++) {
        if (strcmp(o->argv[i], "--print-config") == 0) {
            o->print = true;
        } else if (strcmp(o->argv[i], "--config") == 0) {
            const char *v = i + 1 < o->argc ? o->argv[++i] : "";
            if (!*v || strlen(v) >= sizeof o->config)
                return rg_err_field(err, RG_EINVAL, "config",
                                    "--config: expected a file, got '%s'", v);
            snprintf(o->config, sizeof o->config, "%s", v);
        } else if (strncmp(o->argv[i], "--", 2) == 0) {
            i++; /* every other flag takes a value */
        }
    }
    return 0;
}

static int apply_flags(rg_server_options *o, rg_err *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < o->argc; i++) {
        const char *f = o->argv[i];
        if (strcmp(f, "--print-config") == 0)
            continue;
        if (strcmp(f, "--config") == 0) {
            i++;
            continue;
        }
        const char *v = i + 1 < o->argc ? o->argv[i + 1] : NULL;
        rc = apply_flag(o, f, v, err);
        i++;
    }
    return rc;
}

int rg_options_load(rg_server_options *o, int argc, char **argv, rg_err *err)
{
    int rc;
    memset(o, 0, sizeof *o);
    o->argc = argc;
    o->argv = argv;
    rg_server_config_defaults(&o->cfg);
    for (size_t i = 0; i < N_OPTIONS; i++)
        snprintf(o->from[i], sizeof o->from[i], "default");
    if ((rc = scan_config(o, err)) != 0 ||
        (o->config[0] && (rc = read_file(o, err)) != 0) ||
        (rc = apply_flags(o, err)) != 0)
        return rc;
    if (!o->cfg.tls_cert[0] != !o->cfg.tls_key[0])
        return rg_err_field(err, RG_EINVAL, "tls-cert",
                            "tls-cert and tls-key go together (--tls-cert and "
                            "--tls-key on the command line)");
    return 0;
}

int rg_options_reload(const rg_server_options *cur, rg_server_options *next,
                      rg_err *err)
{
    return rg_options_load(next, cur->argc, cur->argv, err);
}

void rg_options_print(const rg_server_options *o, FILE *f)
{
    char v[PATH_MAX + 32];
    fprintf(f, "# rollgated %s: the effective configuration", RG_VERSION);
    if (o->config[0])
        fprintf(f, " (--config %s)", o->config);
    fprintf(f, "\n# each value: where it came from; live: a SIGHUP applies "
               "a change, restart: only a restart does\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s", options[i].name);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        rg_options_format(&o->cfg, i, v, sizeof v);
        fprintf(f, "# %s, %s\n%s%s = %s\n", o->from[i],
                options[i].live ? "live" : "restart", v[0] ? "" : "# ", key,
                v[0] ? v : "(not set)");
    }
}
