/*
 * pstate.h - internal to src/flags: the parser's state and its helpers,
 * shared by flagset.c (the document), parse.c (features, strategies,
 * variants) and pconstraint.c (constraints). Not for use outside src/flags.
 */
#ifndef RG_FLAGS_PSTATE_H
#define RG_FLAGS_PSTATE_H

#include "common/err.h"
#include "model.h"
#include "parse.h"
#include "strpool.h"

#include <jansson.h>

typedef struct rg__fparse {
    rg_flags_mode mode;
    rg_err *err;
    rg_flag_strpool *pool; /* the flag set's (strpool.h) */
    char path[160];        /* the JSON path of the value being read */
} rg__fparse;

/* Fails: fills p->err with RG_EINVAL, field = path "." field (or path when
 * field is NULL), message prefixed by that path. Returns RG_EINVAL. */
int rg__fparse_fail(rg__fparse *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "." name or "[index]" to p->path; returns the previous length
 * for rg__fparse_pop. */
size_t rg__fparse_push(rg__fparse *p, const char *name, long index);
void rg__fparse_pop(rg__fparse *p, size_t len);

/* Returns a new string of a JSON scalar as JavaScript's String() shows it
 * (strings as they are, numbers as shortest text, booleans), or NULL for
 * null, arrays and objects (and on allocation failure: check *oom). */
char *rg__ftext(const json_t *v, bool *oom);

/* Reads a JSON array of scalars into a new array of strings; clean drops
 * empty values and trims white space as the SDK's cleanValues does. A
 * non-array v gives an empty list (strict mode: an error naming field). */
int rg__fstrings(rg__fparse *p, const json_t *v, const char *field, bool clean,
                 char ***out, size_t *n);

/* Parses the constraints array arr (NULL or absent: none). */
int rg__fconstraints(rg__fparse *p, const json_t *arr, rg_flag_constraint **out,
                     size_t *n);

/* Parses one feature object j into *f (zeroed by the caller; on failure
 * the caller frees what was filled, with the flag set it belongs to). */
int rg__fparse_feature(rg__fparse *p, const json_t *j, rg_flag_feature *f);

#endif
