/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(rg_err *err, int code, const char *field, const char *fmt,
                 va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
}

int rg_err_set(rg_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, code, NULL, fmt, ap);
        va_end(ap);
    }
    return code;
}

int rg_err_field(rg_err *err, int code, const char *field, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, code, field, fmt, ap);
        va_end(ap);
    }
    return code;
}

void rg_err_clear(rg_err *err)
{
    if (err) {
        err->code = RG_OK;
        err->msg[0] = '\0';
        err->field[0] = '\0';
    }
}

const char *rg_code_name(int code)
{
    switch (code) {
    case RG_OK:
        return "ok";
    case RG_EINVAL:
        return "invalid";
    case RG_ENOTFOUND:
        return "not_found";
    case RG_ECONFLICT:
        return "conflict";
    case RG_EAUTH:
        return "unauthorized";
    case RG_EFORBIDDEN:
        return "forbidden";
    case RG_ETOOBIG:
        return "too_large";
    case RG_ERANGE:
        return "range_not_satisfiable";
    case RG_EIO:
        return "io_error";
    case RG_ENOMEM:
        return "out_of_memory";
    case RG_EUNAVAIL:
        return "unavailable";
    case RG_ERATELIMIT:
        return "rate_limited";
    default:
        return "internal";
    }
}

int rg_code_http_status(int code)
{
    switch (code) {
    case RG_OK:
        return 200;
    case RG_EINVAL:
        return 400;
    case RG_ENOTFOUND:
        return 404;
    case RG_ECONFLICT:
        return 409;
    case RG_EAUTH:
        return 401;
    case RG_EFORBIDDEN:
        return 403;
    case RG_ETOOBIG:
        return 413;
    case RG_ERANGE:
        return 416;
    case RG_EUNAVAIL:
        return 503;
    case RG_ERATELIMIT:
        return 429;
    default:
        return 500;
    }
}
