/* kv.c - see kv.h. */
#include "kv.h"

#include "common/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rg_kv_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Splits one trimmed, non-empty, non-comment line s into l. */
static int split(char *s, rg_kv_line *l, rg_err *err)
{
    if (*s == '[') {
        size_t n = strlen(s);
        if (n < 2 || s[n - 1] != ']')
            return rg_err_set(err, RG_EINVAL, "%s: unterminated section",
                              l->where);
        s[n - 1] = '\0';
        l->section = rg_kv_trim(s + 1);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return rg_err_set(err, RG_EINVAL, "%s: expected 'key = value'",
                          l->where);
    *eq = '\0';
    l->key = rg_kv_trim(s);
    l->value = rg_kv_trim(eq + 1);
    return 0;
}

int rg_kv_parse(const char *text, size_t len, const char *name, rg_kv_fn fn,
                void *ctx, rg_err *err)
{
    char *copy = malloc(len + 1), where[1100];
    int rc = 0, line = 0;
    if (!copy)
        return rg_err_set(err, RG_ENOMEM, "config: out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (char *p = copy, *next; p && rc == 0; p = next) {
        char *eol = memchr(p, '\n', (size_t)(copy + len - p));
        next = eol ? eol + 1 : NULL;
        if (eol)
            *eol = '\0';
        if (!eol && p == copy + len)
            break; /* the text ended with a newline */
        line++;
        char *s = rg_kv_trim(p);
        if (*s == '\0' || *s == '#')
            continue;
        if (name)
            snprintf(where, sizeof where, "%.1024s:%d", name, line);
        else
            snprintf(where, sizeof where, "line %d", line);
        rg_kv_line l = {.where = where, .line = line};
        rc = split(s, &l, err);
        if (rc == 0)
            rc = fn(ctx, &l, err);
    }
    free(copy);
    return rc;
}

bool rg_kv_reload_note(const char *key, const char *before, const char *after,
                       bool live, const char *from)
{
    if (strcmp(before, after) == 0)
        return false;
    const char *o = from ? " (" : "", *f = from ? from : "",
               *c = from ? ")" : "";
    if (!live) {
        rg_warn("reload: %s changed to '%s'%s%s%s but takes a restart: still "
                "'%s'",
                key, after, o, f, c, before);
        return false;
    }
    rg_info("reload: %s: '%s' -> '%s'%s%s%s", key, before, after, o, f, c);
    return true;
}
