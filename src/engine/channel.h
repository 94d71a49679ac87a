/*
 * channel.h - channel files: the content the sample engine interprets, and
 * the one parser that both the validator (`rollgate-engine check`) and the
 * interpreter use.
 *
 * Format (text, line-based; full reference in docs/engine.md):
 *
 *   # a comment: '#' as the first non-blank character of a line
 *   rollgate-channel 1                  first non-comment line, always
 *
 *   template proc_exec                  a template type: a name ...
 *     field image path                  ... and its ordered, typed fields
 *     field pid int                     (types: string int ip path sha256)
 *   end
 *
 *   instance proc_exec evil_ps          an instance of a declared template
 *     image prefix /tmp/                one criterion per field, in the
 *     pid range 1 65535                 template's order, naming the field
 *   end
 *
 * Tokens are separated by spaces; leading blanks and trailing blanks
 * (spaces, tabs, '\r') are ignored. A criterion's value is the rest of its
 * line after the keyword, spaces included. Names are 1-64 characters of
 * [A-Za-z0-9_.-], unique among templates, among a template's fields and
 * among instances. Criterion kinds and the types they apply to: match.h.
 *
 * Caps (RG_ENGINE_*_MAX below) bound the file size, line length, number of
 * templates, fields per template and instances; input over a cap is
 * rejected with RG_ETOOBIG, never truncated.
 */
#ifndef RG_ENGINE_CHANNEL_H
#define RG_ENGINE_CHANNEL_H

#include "common/err.h"
#include "engine/match.h"
#include "engine/value.h"

#include <stddef.h>

#define RG_ENGINE_FILE_MAX (1024 * 1024) /* bytes in a channel file */
#define RG_ENGINE_LINE_MAX 1024          /* bytes in one line, no newline */
#define RG_ENGINE_TEMPLATES_MAX 64
#define RG_ENGINE_FIELDS_MAX 64 /* fields of one template */
#define RG_ENGINE_INSTANCES_MAX 4096
#define RG_ENGINE_NAME_MAX 64 /* template, field, instance names */

typedef struct rg_field {
    char name[RG_ENGINE_NAME_MAX + 1];
    rg_ftype type;
} rg_field;

typedef struct rg_template {
    char name[RG_ENGINE_NAME_MAX + 1];
    size_t nfields;   /* >= 1 */
    rg_field *fields; /* nfields entries */
    int line;         /* line of the `template` directive */
} rg_template;

typedef struct rg_instance {
    char name[RG_ENGINE_NAME_MAX + 1];
    size_t tmpl;     /* index into rg_channel.templates */
    rg_crit *crits;  /* one per field of the template, in field order */
    size_t last_use; /* 1 + index of the last non-`any` criterion, or 0 */
    int line;        /* line of the `instance` directive */
} rg_instance;

/* A parsed channel file. Owns every array and string inside it. */
typedef struct rg_channel {
    rg_template *templates;
    size_t ntemplates;
    rg_instance *instances; /* in file order */
    size_t ninstances;
} rg_channel;

/* Parses len bytes of channel-file text (need not be NUL-terminated).
 * On success stores a new channel in *out (free it with rg_channel_free)
 * and returns 0. On failure returns RG_EINVAL (malformed), RG_ETOOBIG (a
 * cap) or RG_ENOMEM, leaves *out NULL, and fills err with a message that
 * starts with "line N: " when a line is at fault. Thread-safe. */
int rg_engine_parse(const char *text, size_t len, rg_channel **out,
                    rg_err *err);

/* Reads the file at path (at most RG_ENGINE_FILE_MAX bytes) and parses it
 * as rg_engine_parse does; RG_EIO when it cannot be read. */
int rg_engine_load(const char *path, rg_channel **out, rg_err *err);

/* Index of the template called name, or -1. */
long rg_channel_find(const rg_channel *ch, const char *name);

/* Frees a channel and everything it owns; NULL is a no-op. */
void rg_channel_free(rg_channel *ch);

#endif
