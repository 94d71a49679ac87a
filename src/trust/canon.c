/* canon.c - see canon.h. */
#include "canon.h"

#include "common/crypto.h"
#include "common/jsonw.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int put(const json_t *v, rg_buf *out, int depth, rg_err *err)
{
    int rc = 0;
    if (depth > MAX_DEPTH)
        return rg_err_set(err, RG_EINVAL, "canonical json: nested too deep");
    switch (json_typeof(v)) {
    case JSON_NULL:
        return rg_buf_adds(out, "null");
    case JSON_TRUE:
        return rg_buf_adds(out, "true");
    case JSON_FALSE:
        return rg_buf_adds(out, "false");
    case JSON_INTEGER:
        return rg_buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return rg_err_set(err, RG_EINVAL,
                          "canonical json: real numbers are not allowed");
    case JSON_STRING:
        return rg_jsonw_strn(out, json_string_value(v), json_string_length(v),
                             true);
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        rc = rg_buf_add(out, "[", 1);
        json_array_foreach(v, i, x)
        {
            if (rc == 0 && i > 0)
                rc = rg_buf_add(out, ",", 1);
            if (rc == 0)
                rc = put(x, out, depth + 1, err);
        }
        return rc ? rc : rg_buf_add(out, "]", 1);
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *x;
        if (!keys)
            return rg_err_set(err, RG_ENOMEM, "out of memory");
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof *keys, cmp_key);
        rc = rg_buf_add(out, "{", 1);
        for (i = 0; rc == 0 && i < n; i++) {
            if (i > 0)
                rc = rg_buf_add(out, ",", 1);
            if (rc == 0)
                rc = rg_jsonw_strn(out, keys[i], strlen(keys[i]), true);
            if (rc == 0)
                rc = rg_buf_add(out, ":", 1);
            if (rc == 0)
                rc = put(json_object_get(v, keys[i]), out, depth + 1, err);
        }
        free(keys);
        return rc ? rc : rg_buf_add(out, "}", 1);
    }
    }
    return rg_err_set(err, RG_EINTERNAL, "canonical json: unknown type");
}

int rg_canon_json(const json_t *v, rg_buf *out, rg_err *err)
{
    int rc = put(v, out, 0, err);
    if (rc == RG_ETOOBIG || rc == RG_ENOMEM)
        rg_err_set(err, rc, "canonical json: %s",
                   rc == RG_ETOOBIG ? "document too large" : "out of memory");
    return rc;
}

int rg_canon_sha256(const json_t *v, char hex[65], rg_err *err)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    int rc = rg_canon_json(v, &b, err);
    if (rc == 0)
        rg_sha256_hex(b.data ? b.data : "", b.len, hex);
    rg_buf_release(&b);
    return rc;
}
