/* pstate.c - see pstate.h. */
#include "pstate.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rg__fparse_fail(rg__fparse *p, const char *field, const char *fmt, ...)
{
    char where[200], msg[200];
    if (field)
        snprintf(where, sizeof where, "%s%s%s", p->path, p->path[0] ? "." : "",
                 field);
    else
        snprintf(where, sizeof where, "%s", p->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rg_err_field(p->err, RG_EINVAL, where, "%s: %s", where, msg);
}

size_t rg__fparse_push(rg__fparse *p, const char *name, long index)
{
    size_t len = strlen(p->path);
    if (name)
        snprintf(p->path + len, sizeof p->path - len, "%s%s", len ? "." : "",
                 name);
    else
        snprintf(p->path + len, sizeof p->path - len, "[%ld]", index);
    return len;
}

void rg__fparse_pop(rg__fparse *p, size_t len)
{
    p->path[len] = '\0';
}

/* The shortest %g text that reads back as d (JavaScript prints numbers by
 * the same rule). */
static void shortest(double d, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

char *rg__ftext(const json_t *v, bool *oom)
{
    char buf[64];
    const char *s = NULL;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%" PRId64, (int64_t)json_integer_value(v)),
            s = buf;
    else if (json_is_real(v))
        shortest(json_real_value(v), buf, sizeof buf), s = buf;
    else if (json_is_boolean(v))
        s = json_is_true(v) ? "true" : "false";
    if (!s)
        return NULL;
    char *out = strdup(s);
    if (!out && oom)
        *oom = true;
    return out;
}

/* Trims white space at both ends of s in place. */
static void trim(char *s)
{
    size_t len = strlen(s), start = 0;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    while (isspace((unsigned char)s[start]))
        start++;
    memmove(s, s + start, len - start + 1);
}

int rg__fstrings(rg__fparse *p, const json_t *v, const char *field, bool clean,
                 char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return p->mode == RG_FLAGS_STRICT
                   ? rg__fparse_fail(p, field, "must be an array of strings")
                   : 0;
    char **list = calloc(json_array_size(v) + 1, sizeof *list);
    if (!list)
        return rg_err_set(p->err, RG_ENOMEM, "out of memory");
    size_t i, k = 0;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        bool oom = false;
        if (p->mode == RG_FLAGS_STRICT && !json_is_string(item)) {
            for (size_t j = 0; j < k; j++)
                free(list[j]);
            free(list);
            return rg__fparse_fail(p, field, "item %zu is not a string", i);
        }
        if (clean && (json_is_false(item) ||
                      (json_is_string(item) && !json_string_length(item))))
            continue;
        char *s = rg__ftext(item, &oom);
        if (s && clean)
            trim(s);
        if (s)
            list[k++] = s;
    }
    *out = list;
    *n = k;
    return 0;
}
