/* view.c - see view.h. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rg_cli_jstr(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

int64_t rg_cli_jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

double rg_cli_jnum(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

void rg_cli_jtext(const json_t *v, char *out, size_t n)
{
    if (n == 0)
        return;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        snprintf(out, n, "%s", json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(out, n, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(out, n, "true");
        break;
    case JSON_FALSE:
        snprintf(out, n, "false");
        break;
    case JSON_NULL:
        snprintf(out, n, "-");
        break;
    default: {
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(out, n, "%s", s ? s : "-");
        free(s);
    }
    }
}

void rg_cli_jjoin(const json_t *o, const char *key, const char *sep, char *out,
                  size_t n)
{
    if (n == 0)
        return;
    out[0] = '\0';
    const json_t *arr = json_object_get(o, key);
    if (!json_is_array(arr))
        return;
    size_t used = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        char text[256];
        rg_cli_jtext(v, text, sizeof text);
        int w = snprintf(out + used, n - used, "%s%s", i ? sep : "", text);
        if (w < 0 || (size_t)w >= n - used)
            break; /* truncated; out stays NUL-terminated */
        used += (size_t)w;
    }
}
