/* channel.c - the channel-file parser; see channel.h for the format. */
#include "channel.h"

#include "common/file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum pstate { P_HEADER, P_TOP, P_TEMPLATE, P_INSTANCE } pstate;

typedef struct parser {
    rg_channel *ch;
    pstate state;
    int line;       /* current line, from 1 */
    int block_line; /* line that opened the current template/instance */
    size_t ncrit;   /* criteria read so far in the current instance */
    rg_err *err;
} parser;

/* Fills err with "line N: " + the formatted message; returns code. */
static int perr(parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(parser *p, int code, const char *fmt, ...)
{
    char msg[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rg_err_set(p->err, code, "line %d: %s", p->line, msg);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Cuts the next space-separated token off *s into tok (NUL-terminated,
 * at most cap-1 bytes) and skips the spaces after it. Returns the token
 * length, or -1 when it does not fit. */
static int next_token(char **s, char *tok, size_t cap)
{
    char *a = *s, *b = a;
    while (*b && *b != ' ')
        b++;
    size_t n = (size_t)(b - a);
    if (n >= cap)
        return -1;
    memcpy(tok, a, n);
    tok[n] = '\0';
    while (*b == ' ')
        b++;
    *s = b;
    return (int)n;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RG_ENGINE_NAME_MAX)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* Reads a name token for what (e.g. "template name") into out. */
static int take_name(parser *p, char **s, char *out, const char *what)
{
    char tok[RG_ENGINE_LINE_MAX + 1];
    int n = next_token(s, tok, sizeof tok);
    if (n <= 0)
        return perr(p, RG_EINVAL, "missing %s", what);
    if (!valid_name(tok))
        return perr(p, RG_EINVAL, "bad %s '%.64s' (1-%d of A-Z a-z 0-9 _ . -)",
                    what, tok, RG_ENGINE_NAME_MAX);
    memcpy(out, tok, (size_t)n + 1);
    return 0;
}

static int expect_end_of_line(parser *p, const char *s, const char *what)
{
    if (*s)
        return perr(p, RG_EINVAL, "unexpected '%.32s' after %s", s, what);
    return 0;
}

static int header(parser *p, char *s)
{
    char tok[RG_ENGINE_LINE_MAX + 1];
    if (next_token(&s, tok, sizeof tok) < 0 ||
        strcmp(tok, "rollgate-channel") != 0)
        return perr(p, RG_EINVAL,
                    "expected 'rollgate-channel 1' as the "
                    "first line");
    if (next_token(&s, tok, sizeof tok) < 0 || strcmp(tok, "1") != 0)
        return perr(p, RG_EINVAL,
                    "unsupported channel format version "
                    "'%.32s' (expected 1)",
                    tok);
    p->state = P_TOP;
    return expect_end_of_line(p, s, "the version");
}

static int open_template(parser *p, char *s)
{
    rg_channel *ch = p->ch;
    char name[RG_ENGINE_NAME_MAX + 1];
    int rc = take_name(p, &s, name, "template name");
    if (rc == 0)
        rc = expect_end_of_line(p, s, "the template name");
    if (rc != 0)
        return rc;
    if (rg_channel_find(ch, name) >= 0)
        return perr(p, RG_ECONFLICT, "template '%s' declared twice", name);
    if (ch->ntemplates == RG_ENGINE_TEMPLATES_MAX)
        return perr(p, RG_ETOOBIG, "more than %d templates",
                    RG_ENGINE_TEMPLATES_MAX);
    rg_template *t = realloc(ch->templates, (ch->ntemplates + 1) * sizeof *t);
    if (!t)
        return perr(p, RG_ENOMEM, "out of memory");
    ch->templates = t;
    t = &ch->templates[ch->ntemplates++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, sizeof name);
    t->line = p->line;
    p->state = P_TEMPLATE;
    p->block_line = p->line;
    return 0;
}

static int add_field(parser *p, char *s)
{
    rg_template *t = &p->ch->templates[p->ch->ntemplates - 1];
    char name[RG_ENGINE_NAME_MAX + 1], tok[RG_ENGINE_LINE_MAX + 1];
    rg_ftype type;
    int rc = take_name(p, &s, name, "field name");
    if (rc != 0)
        return rc;
    if (next_token(&s, tok, sizeof tok) <= 0)
        return perr(p, RG_EINVAL, "field '%s': missing type", name);
    if (rg_ftype_parse(tok, &type) != 0)
        return perr(p, RG_EINVAL,
                    "field '%s': unknown type '%.32s' (expected "
                    "string, int, ip, path or sha256)",
                    name, tok);
    if ((rc = expect_end_of_line(p, s, "the field type")) != 0)
        return rc;
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return perr(p, RG_ECONFLICT,
                        "template '%s': field '%s' declared "
                        "twice",
                        t->name, name);
    if (t->nfields == RG_ENGINE_FIELDS_MAX)
        return perr(p, RG_ETOOBIG, "template '%s': more than %d fields",
                    t->name, RG_ENGINE_FIELDS_MAX);
    rg_field *f = realloc(t->fields, (t->nfields + 1) * sizeof *f);
    if (!f)
        return perr(p, RG_ENOMEM, "out of memory");
    t->fields = f;
    memcpy(f[t->nfields].name, name, sizeof name);
    f[t->nfields].type = type;
    t->nfields++;
    return 0;
}

static int open_instance(parser *p, char *s)
{
    rg_channel *ch = p->ch;
    char tname[RG_ENGINE_NAME_MAX + 1], name[RG_ENGINE_NAME_MAX + 1];
    int rc = take_name(p, &s, tname, "template name");
    if (rc == 0)
        rc = take_name(p, &s, name, "instance name");
    if (rc == 0)
        rc = expect_end_of_line(p, s, "the instance name");
    if (rc != 0)
        return rc;
    long ti = rg_channel_find(ch, tname);
    if (ti < 0)
        return perr(p, RG_EINVAL, "instance '%s': unknown template '%s'", name,
                    tname);
    for (size_t i = 0; i < ch->ninstances; i++)
        if (strcmp(ch->instances[i].name, name) == 0)
            return perr(p, RG_ECONFLICT,
                        "instance '%s' declared twice (first "
                        "on line %d)",
                        name, ch->instances[i].line);
    if (ch->ninstances == RG_ENGINE_INSTANCES_MAX)
        return perr(p, RG_ETOOBIG, "more than %d instances",
                    RG_ENGINE_INSTANCES_MAX);
    rg_instance *in = realloc(ch->instances, (ch->ninstances + 1) * sizeof *in);
    if (!in)
        return perr(p, RG_ENOMEM, "out of memory");
    ch->instances = in;
    in = &ch->instances[ch->ninstances];
    memset(in, 0, sizeof *in);
    in->crits = calloc(ch->templates[ti].nfields, sizeof *in->crits);
    if (!in->crits)
        return perr(p, RG_ENOMEM, "out of memory");
    ch->ninstances++;
    memcpy(in->name, name, sizeof name);
    in->tmpl = (size_t)ti;
    in->line = p->line;
    p->state = P_INSTANCE;
    p->block_line = p->line;
    p->ncrit = 0;
    return 0;
}

static int add_criterion(parser *p, char *s)
{
    rg_instance *in = &p->ch->instances[p->ch->ninstances - 1];
    const rg_template *t = &p->ch->templates[in->tmpl];
    char fname[RG_ENGINE_LINE_MAX + 1], kind[RG_ENGINE_LINE_MAX + 1];
    next_token(&s, fname, sizeof fname); /* fits: s is one line */
    if (p->ncrit == t->nfields)
        return perr(p, RG_EINVAL,
                    "instance '%s': criterion for '%.64s' but "
                    "template '%s' has only %zu fields",
                    in->name, fname, t->name, t->nfields);
    const rg_field *f = &t->fields[p->ncrit];
    if (strcmp(fname, f->name) != 0)
        return perr(p, RG_EINVAL,
                    "instance '%s': expected a criterion for "
                    "field %zu '%s', got '%.64s'",
                    in->name, p->ncrit + 1, f->name, fname);
    if (next_token(&s, kind, sizeof kind) <= 0)
        return perr(p, RG_EINVAL,
                    "instance '%s': field '%s': missing "
                    "criterion",
                    in->name, f->name);
    rg_err cerr;
    rg_err_clear(&cerr);
    int rc = rg_crit_parse(kind, s, f->type, &in->crits[p->ncrit], &cerr);
    if (rc != 0)
        return perr(p, rc, "instance '%s': field '%s': %s", in->name, f->name,
                    cerr.msg);
    p->ncrit++;
    if (in->crits[p->ncrit - 1].kind != RG_CRIT_ANY)
        in->last_use = p->ncrit;
    return 0;
}

static int close_block(parser *p, const char *s)
{
    int rc = expect_end_of_line(p, s, "'end'");
    if (rc != 0)
        return rc;
    if (p->state == P_TEMPLATE) {
        const rg_template *t = &p->ch->templates[p->ch->ntemplates - 1];
        if (t->nfields == 0)
            return perr(p, RG_EINVAL, "template '%s' has no fields", t->name);
    } else {
        const rg_instance *in = &p->ch->instances[p->ch->ninstances - 1];
        const rg_template *t = &p->ch->templates[in->tmpl];
        if (p->ncrit < t->nfields)
            return perr(p, RG_EINVAL,
                        "instance '%s' ends after %zu of %zu "
                        "criteria (missing field '%s')",
                        in->name, p->ncrit, t->nfields,
                        t->fields[p->ncrit].name);
    }
    p->state = P_TOP;
    return 0;
}

/* Handles one line, already stripped of surrounding blanks. */
static int parse_line(parser *p, char *s)
{
    char word[RG_ENGINE_LINE_MAX + 1];
    if (*s == '\0' || *s == '#')
        return 0;
    if (p->state == P_HEADER)
        return header(p, s);
    if (p->state == P_INSTANCE) {
        /* Only a bare "end" closes: a field may be called "end". */
        if (strcmp(s, "end") == 0)
            return close_block(p, "");
        return add_criterion(p, s);
    }
    next_token(&s, word, sizeof word);
    if (p->state == P_TEMPLATE) {
        if (strcmp(word, "field") == 0)
            return add_field(p, s);
        if (strcmp(word, "end") == 0)
            return close_block(p, s);
        return perr(p, RG_EINVAL,
                    "expected 'field' or 'end' in template, got "
                    "'%.32s'",
                    word);
    }
    if (strcmp(word, "template") == 0)
        return open_template(p, s);
    if (strcmp(word, "instance") == 0)
        return open_instance(p, s);
    return perr(p, RG_EINVAL,
                "expected 'template' or 'instance', got "
                "'%.32s'",
                word);
}

int rg_engine_parse(const char *text, size_t len, rg_channel **out, rg_err *err)
{
    int rc = 0;
    parser p = {.state = P_HEADER, .err = err};
    char line[RG_ENGINE_LINE_MAX + 1];
    *out = NULL;
    if (len > RG_ENGINE_FILE_MAX)
        return rg_err_set(err, RG_ETOOBIG,
                          "channel file larger than %d "
                          "bytes",
                          RG_ENGINE_FILE_MAX);
    p.ch = calloc(1, sizeof *p.ch);
    if (!p.ch)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    size_t pos = 0;
    while (pos < len) {
        p.line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > RG_ENGINE_LINE_MAX) {
            rc = perr(&p, RG_ETOOBIG, "longer than %d bytes",
                      RG_ENGINE_LINE_MAX);
            goto cleanup;
        }
        if (memchr(text + pos, '\0', n)) {
            rc = perr(&p, RG_EINVAL, "NUL byte");
            goto cleanup;
        }
        memcpy(line, text + pos, n);
        pos += n + 1;
        while (n > 0 && is_blank(line[n - 1]))
            n--;
        line[n] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if ((rc = parse_line(&p, s)) != 0)
            goto cleanup;
    }
    if (p.state == P_HEADER) {
        rc = rg_err_set(err, RG_EINVAL,
                        "empty channel file (expected "
                        "'rollgate-channel 1')");
    } else if (p.state == P_TEMPLATE) {
        rc = perr(&p, RG_EINVAL, "template '%s' (line %d) is missing 'end'",
                  p.ch->templates[p.ch->ntemplates - 1].name, p.block_line);
    } else if (p.state == P_INSTANCE) {
        rc = perr(&p, RG_EINVAL, "instance '%s' (line %d) is missing 'end'",
                  p.ch->instances[p.ch->ninstances - 1].name, p.block_line);
    }
cleanup:
    if (rc != 0) {
        rg_channel_free(p.ch);
        return rc;
    }
    *out = p.ch;
    return 0;
}

int rg_engine_load(const char *path, rg_channel **out, rg_err *err)
{
    rg_buf text;
    *out = NULL;
    rg_buf_init(&text, RG_ENGINE_FILE_MAX);
    int rc = rg_file_read(path, &text, NULL);
    if (rc == RG_ENOTFOUND || rc == RG_EIO)
        rc = rg_err_set(err, RG_EIO, "cannot open '%s'", path);
    else if (rc == RG_ENOMEM)
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
    else if (rc < 0)
        rc = rg_err_set(err, RG_ETOOBIG, "channel file larger than %d bytes",
                        RG_ENGINE_FILE_MAX);
    else
        rc = rg_engine_parse(text.data ? text.data : "", text.len, out, err);
    rg_buf_release(&text);
    return rc;
}

long rg_channel_find(const rg_channel *ch, const char *name)
{
    for (size_t i = 0; i < ch->ntemplates; i++)
        if (strcmp(ch->templates[i].name, name) == 0)
            return (long)i;
    return -1;
}

void rg_channel_free(rg_channel *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->ninstances; i++) {
        rg_instance *in = &ch->instances[i];
        for (size_t j = 0; j < ch->templates[in->tmpl].nfields; j++)
            rg_crit_release(&in->crits[j]);
        free(in->crits);
    }
    for (size_t i = 0; i < ch->ntemplates; i++)
        free(ch->templates[i].fields);
    free(ch->instances);
    free(ch->templates);
    free(ch);
}
