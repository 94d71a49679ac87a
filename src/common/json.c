/* json.c - see json.h. */
#include "json.h"

#include <math.h>
#include <string.h>

static int depth_ok(const char *data, size_t len)
{
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > RG_JSON_MAX_DEPTH)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

json_t *rg_json_parse_object(const char *data, size_t len, rg_err *err)
{
    if (len == 0) {
        rg_err_set(err, RG_EINVAL,
                   "request body is empty; expected a JSON object");
        return NULL;
    }
    if (!depth_ok(data, len)) {
        rg_err_set(err, RG_EINVAL, "JSON nested deeper than %d levels",
                   RG_JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        rg_err_set(err, RG_EINVAL, "malformed JSON at line %d column %d: %s",
                   je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        rg_err_set(err, RG_EINVAL, "expected a JSON object");
        return NULL;
    }
    return v;
}

/* Looks up field; returns 1 when present, 0 when absent and allowed,
 * negative when absent but required. */
static int lookup(const json_t *obj, const char *field, bool required,
                  json_t **v, rg_err *err)
{
    *v = json_object_get(obj, field);
    if (*v && !json_is_null(*v))
        return 1;
    if (required)
        return rg_err_field(err, RG_EINVAL, field, "field '%s' is required",
                            field);
    return 0;
}

int rg_json_string(const json_t *obj, const char *field, bool required,
                   size_t maxlen, const char **out, rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be a string", field);
    size_t n = json_string_length(v);
    if (n == 0)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must not be empty", field);
    if (n > maxlen)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' is longer than %zu bytes", field,
                            maxlen);
    if (memchr(json_string_value(v), '\0', n))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' contains a NUL character", field);
    *out = json_string_value(v);
    return 0;
}

int rg_json_int(const json_t *obj, const char *field, bool required,
                int64_t min, int64_t max, int64_t *out, rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be an integer", field);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be between %lld and %lld", field,
                            (long long)min, (long long)max);
    *out = n;
    return 0;
}

int rg_json_number(const json_t *obj, const char *field, bool required,
                   double min, double max, double *out, rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_number(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be a number", field);
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be between %g and %g", field, min,
                            max);
    *out = d;
    return 0;
}

int rg_json_bool(const json_t *obj, const char *field, bool required, bool *out,
                 rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be true or false", field);
    *out = json_is_true(v);
    return 0;
}

int rg_json_object(const json_t *obj, const char *field, bool required,
                   json_t **out, rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be an object", field);
    *out = v;
    return 0;
}

int rg_json_array(const json_t *obj, const char *field, bool required,
                  size_t maxlen, json_t **out, rg_err *err)
{
    json_t *v;
    int rc = lookup(obj, field, required, &v, err);
    if (rc <= 0)
        return rc;
    if (!json_is_array(v))
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' must be an array", field);
    if (json_array_size(v) > maxlen)
        return rg_err_field(err, RG_EINVAL, field,
                            "field '%s' has more than %zu items", field,
                            maxlen);
    *out = v;
    return 0;
}

int rg_json_only(const json_t *obj, const char *const *allowed, rg_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = true;
        if (!ok)
            return rg_err_field(err, RG_EINVAL, key, "unknown field '%s'", key);
    }
    return 0;
}

char *rg_json_dump(const json_t *v)
{
    return json_dumps(v,
                      JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
}
