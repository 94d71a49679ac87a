/*
 * err.h - the error type every fallible Rollgate function fills.
 *
 * Functions return int: 0 on success, a negative rg_code on failure, and
 * fill the caller's rg_err (which may be NULL) with a lower-case message
 * that quotes its subject, e.g. "release 'r42': sha256 mismatch", and,
 * for bad input, the name of the offending field. rg_err is a plain value:
 * it owns no heap memory and needs no cleanup.
 */
#ifndef RG_ERR_H
#define RG_ERR_H

#include <stddef.h>

typedef enum rg_code {
    RG_OK = 0,
    RG_EINVAL = -1,      /* bad input: malformed, wrong type, missing field */
    RG_ENOTFOUND = -2,   /* unknown id */
    RG_ECONFLICT = -3,   /* duplicate, version not increasing, wrong state */
    RG_EAUTH = -4,       /* missing or wrong credentials */
    RG_EFORBIDDEN = -5,  /* credentials valid but role insufficient */
    RG_ETOOBIG = -6,     /* over a configured cap */
    RG_ERANGE = -7,      /* unsatisfiable byte range */
    RG_EIO = -8,         /* file system or database failure */
    RG_ENOMEM = -9,      /* allocation failed */
    RG_EINTERNAL = -10,  /* a bug: an invariant did not hold */
    RG_EUNAVAIL = -11,   /* peer unreachable or busy; retry later */
    RG_ERATELIMIT = -12, /* too many requests from one source; retry later */
} rg_code;

typedef struct rg_err {
    int code;       /* an rg_code; RG_OK when nothing went wrong */
    char msg[256];  /* human message, lower-case, no trailing newline */
    char field[64]; /* offending input field, or "" */
} rg_err;

/* Sets code and a printf-style message; returns code so callers can write
 * `return rg_err_set(err, RG_EINVAL, "...")`. err may be NULL. */
int rg_err_set(rg_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like rg_err_set, and also records the offending field name. */
int rg_err_field(rg_err *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resets err to RG_OK with empty message and field. err may be NULL. */
void rg_err_clear(rg_err *err);

/* Stable snake_case name of a code for APIs ("invalid", "not_found", ...). */
const char *rg_code_name(int code);

/* HTTP status that conveys code (400, 404, 409, 401, 403, 413, 416, 429,
 * 500...). */
int rg_code_http_status(int code);

#endif
