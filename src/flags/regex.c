/* regex.c - see regex.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 100000 /* backtracking steps before a match gives up */

struct rg_flag_regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

/* Returns the name of the first construct at p (just after a '(') that
 * RE2 refuses, or NULL. */
static const char *refused_group(const char *p)
{
    static const struct {
        const char *prefix, *what;
    } bad[] = {
        {"?=", "look-ahead"},       {"?!", "look-ahead"},
        {"?<=", "look-behind"},     {"?<!", "look-behind"},
        {"?>", "atomic group"},     {"?P=", "back-reference"},
        {"?P>", "recursion"},       {"?&", "recursion"},
        {"?R", "recursion"},        {"?(", "conditional"},
        {"*", "backtracking verb"}, {"?|", "branch reset"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strncmp(p, bad[i].prefix, strlen(bad[i].prefix)) == 0)
            return bad[i].what;
    if (p[0] == '?' &&
        (isdigit((unsigned char)p[1]) || p[1] == '+' || p[1] == '-'))
        return isdigit((unsigned char)p[1]) || isdigit((unsigned char)p[2])
                   ? "recursion"
                   : NULL;
    return NULL;
}

/* Returns the name of the first escape at p (just after a '\') that RE2
 * refuses, or NULL. */
static const char *refused_escape(const char *p)
{
    if (*p >= '1' && *p <= '9')
        return "back-reference";
    if (*p == 'g' || *p == 'k')
        return "back-reference";
    if (*p == 'K')
        return "\\K";
    return NULL;
}

/* Scans pattern for constructs outside Rust/RE2 syntax; returns the first
 * one's name or NULL. Character classes are skipped except for escapes. */
static const char *refused(const char *p)
{
    bool in_class = false;
    for (; *p; p++) {
        if (*p == '\\') {
            const char *why = in_class ? NULL : refused_escape(p + 1);
            if (why)
                return why;
            if (p[1])
                p++;
        } else if (in_class) {
            if (*p == ']')
                in_class = false;
        } else if (*p == '[') {
            in_class = true;
            if (p[1] == '^')
                p++;
            if (p[1] == ']')
                p++;
        } else if (*p == '(') {
            const char *why = refused_group(p + 1);
            if (why)
                return why;
        } else if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') &&
                   p[1] == '+') {
            return "possessive quantifier";
        }
    }
    return NULL;
}

rg_flag_regex *rg_flag_regex_compile(const char *pattern, bool icase,
                                     rg_err *err)
{
    const char *why = refused(pattern);
    if (why) {
        rg_err_set(err, RG_EINVAL, "regex '%.64s': %s is not supported",
                   pattern, why);
        return NULL;
    }
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                    PCRE2_NEVER_BACKSLASH_C | (icase ? PCRE2_CASELESS : 0);
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                  opts, &code, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(code, msg, sizeof msg);
        rg_err_set(err, RG_EINVAL, "regex '%.64s': %s at offset %zu", pattern,
                   (const char *)msg, (size_t)off);
        return NULL;
    }
    rg_flag_regex *re = calloc(1, sizeof *re);
    pcre2_match_context *m = pcre2_match_context_create(NULL);
    if (!re || !m) {
        free(re);
        pcre2_match_context_free(m);
        pcre2_code_free(c);
        rg_err_set(err, RG_ENOMEM, "regex: out of memory");
        return NULL;
    }
    pcre2_set_match_limit(m, MATCH_LIMIT);
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* interpreted if absent */
    re->code = c;
    re->mctx = m;
    return re;
}

/* Each thread's match data, made at its first match and freed when it
 * exits: a find needs only where the whole match is (one pair), so one
 * serves every pattern, and an evaluation allocates nothing. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static bool md_key_ok;

static void md_free(void *md)
{
    pcre2_match_data_free(md);
}

static void md_key_make(void)
{
    md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

/* This thread's match data, or NULL (out of memory). */
static pcre2_match_data *thread_md(void)
{
    pthread_once(&md_once, md_key_make);
    if (!md_key_ok)
        return NULL;
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md && (md = pcre2_match_data_create(1, NULL)) &&
        pthread_setspecific(md_key, md) != 0) {
        pcre2_match_data_free(md);
        md = NULL;
    }
    return md;
}

bool rg_flag_regex_find(const rg_flag_regex *re, const char *subject)
{
    pcre2_match_data *md = thread_md();
    if (!md)
        return false;
    return pcre2_match(re->code, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED, 0,
                       0, md, re->mctx) >= 0;
}

void rg_flag_regex_free(rg_flag_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re);
}
