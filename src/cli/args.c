/* args.c - see args.h. */
#include "args.h"

#include <stdio.h>
#include <string.h>

void rg_cli_args_init(rg_cli_args *a)
{
    memset(a, 0, sizeof *a);
}

/* Finds name[0..len) in the specs; returns the spec string or NULL. */
static const char *find_spec(const char *const *const *specs, size_t n_specs,
                             const char *name, size_t len)
{
    for (size_t i = 0; i < n_specs; i++) {
        for (const char *const *s = specs[i]; s && *s; s++) {
            size_t slen = strcspn(*s, ":=");
            if (slen == len && memcmp(*s, name, len) == 0)
                return *s;
        }
    }
    return NULL;
}

/* Appends every occurrence (rg_cli_args_get answers the last one,
 * rg_cli_args_all all of them). */
static int set_opt(rg_cli_args *a, const char *name, size_t len,
                   const char *value, rg_err *err)
{
    if (a->n_opts == RG_CLI_ARGS_MAX)
        return rg_err_set(err, RG_EINVAL, "too many options");
    a->opt_name[a->n_opts] = name;
    a->opt_name_len[a->n_opts] = len;
    a->opt_value[a->n_opts] = value;
    a->n_opts++;
    return 0;
}

static int add_pos(rg_cli_args *a, const char *arg, rg_err *err)
{
    if (a->n_pos == RG_CLI_ARGS_MAX)
        return rg_err_set(err, RG_EINVAL, "too many arguments");
    a->pos[a->n_pos++] = arg;
    return 0;
}

int rg_cli_args_parse(rg_cli_args *a, const char *const *const *specs,
                      size_t n_specs, int argc, char **argv, rg_err *err)
{
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (add_pos(a, arg, err))
                return RG_EINVAL;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (arg[1] != '-') {
            /* There are no short options; say so rather than guess. */
            return rg_err_field(
                err, RG_EINVAL, arg + 1,
                "unknown option '%s' (options are long: --name)", arg);
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        char field[64];
        snprintf(field, sizeof field, "%.*s", (int)len, name);
        const char *spec = len ? find_spec(specs, n_specs, name, len) : NULL;
        if (!spec)
            return rg_err_field(err, RG_EINVAL, field, "unknown option '--%s'",
                                field);
        bool takes_value = strchr(spec, ':') != NULL;
        if (spec[len] == '=' && !a->as_typed) { /* kept under its option */
            name = spec + len + 1;
            len = strcspn(name, ":");
        }
        const char *value;
        if (!takes_value) {
            if (eq)
                return rg_err_field(err, RG_EINVAL, field,
                                    "option '--%s' takes no value", field);
            value = "";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return rg_err_field(err, RG_EINVAL, field,
                                "option '--%s' needs a value", field);
        }
        if (set_opt(a, name, len, value, err))
            return RG_EINVAL;
    }
    return 0;
}

const char *rg_cli_args_get(const rg_cli_args *a, const char *name)
{
    size_t len = strlen(name);
    const char *last = NULL;
    for (size_t i = 0; i < a->n_opts; i++) {
        if (a->opt_name_len[i] == len && memcmp(a->opt_name[i], name, len) == 0)
            last = a->opt_value[i];
    }
    return last;
}

size_t rg_cli_args_all(const rg_cli_args *a, const char *name, const char **out,
                       size_t max)
{
    size_t len = strlen(name), n = 0;
    for (size_t i = 0; i < a->n_opts; i++) {
        if (a->opt_name_len[i] == len &&
            memcmp(a->opt_name[i], name, len) == 0 && n < max)
            out[n++] = a->opt_value[i];
    }
    return n;
}

bool rg_cli_args_has(const rg_cli_args *a, const char *name)
{
    return rg_cli_args_get(a, name) != NULL;
}
