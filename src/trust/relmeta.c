/* relmeta.c - see relmeta.h. */
#include "relmeta.h"

#include "common/crypto.h"
#include "common/json.h"
#include "rfc3339.h"

#include <stdio.h>
#include <string.h>

#define VERSION_MAX (INT64_C(1) << 53)

json_t *rg_relmeta_build(const rg_relmeta *m, rg_err *err)
{
    char when[RG_RFC3339_LEN];
    if (!rg_sha256_hex_valid(m->sha256) ||
        !rg_sha256_hex_valid(m->notes_sha256) || m->version < 1 ||
        m->size < 0 || !m->channel[0]) {
        rg_err_set(err, RG_EINVAL, "release metadata: bad field");
        return NULL;
    }
    rg_rfc3339_format(m->expires_ms, when);
    json_t *doc = rg_signed_new(json_pack(
        "{s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "type", "rollgate-release",
        "channel", m->channel, "version", (json_int_t)m->version, "sha256",
        m->sha256, "size", (json_int_t)m->size, "expires", when, "notes_sha256",
        m->notes_sha256));
    if (!doc)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return doc;
}

int rg_relmeta_parse(const json_t *doc, rg_relmeta *out, rg_err *err)
{
    static const char *const fields[] = {"type",         "channel", "version",
                                         "sha256",       "size",    "expires",
                                         "notes_sha256", NULL};
    const char *type = NULL, *channel = NULL, *sha = NULL, *expires = NULL,
               *notes = NULL;
    int rc = 0;
    memset(out, 0, sizeof *out);
    if ((rc = rg_signed_check_shape(doc, err)) != 0)
        return rc;
    json_t *s = json_object_get(doc, "signed");
    if ((rc = rg_json_only(s, fields, err)) ||
        (rc = rg_json_string(s, "type", true, 32, &type, err)) ||
        (rc = rg_json_string(s, "channel", true, sizeof out->channel - 1,
                             &channel, err)) ||
        (rc = rg_json_int(s, "version", true, 1, VERSION_MAX, &out->version,
                          err)) ||
        (rc = rg_json_string(s, "sha256", true, 64, &sha, err)) ||
        (rc = rg_json_int(s, "size", true, 0, INT64_MAX, &out->size, err)) ||
        (rc = rg_json_string(s, "expires", true, 32, &expires, err)) ||
        (rc = rg_json_string(s, "notes_sha256", true, 64, &notes, err)))
        return rc;
    if (strcmp(type, "rollgate-release") != 0)
        return rg_err_field(err, RG_EINVAL, "type",
                            "not release metadata (type '%.32s')", type);
    if (!rg_sha256_hex_valid(sha) || !rg_sha256_hex_valid(notes))
        return rg_err_field(err, RG_EINVAL,
                            rg_sha256_hex_valid(sha) ? "notes_sha256"
                                                     : "sha256",
                            "metadata digests must be 64 lower-case hex");
    if (rg_rfc3339_parse(expires, &out->expires_ms) != 0)
        return rg_err_field(err, RG_EINVAL, "expires",
                            "expires '%.32s' is not YYYY-MM-DDTHH:MM:SSZ",
                            expires);
    snprintf(out->channel, sizeof out->channel, "%s", channel);
    snprintf(out->sha256, sizeof out->sha256, "%s", sha);
    snprintf(out->notes_sha256, sizeof out->notes_sha256, "%s", notes);
    return 0;
}

static int differ(rg_trust_reason r, rg_trust_reason *why, rg_err *err,
                  const char *field, const char *what, const char *detail)
{
    if (why)
        *why = r;
    return rg_err_field(err, RG_EINVAL, field, "%s: %s: %s", what,
                        rg_trust_reason_name(r), detail);
}

/* rg_relmeta_match with what naming the release in messages. */
static int match(const rg_relmeta *m, const rg_relmeta_expect *e,
                 const char *what, rg_trust_reason *why, rg_err *err)
{
    char d[192];
    if (strcmp(m->channel, e->channel) != 0) {
        snprintf(d, sizeof d,
                 "metadata for channel '%.64s', offered on '%.64s'", m->channel,
                 e->channel);
        return differ(RG_TRUST_WRONG_CHANNEL, why, err, "channel", what, d);
    }
    if (m->version != e->version) {
        snprintf(d, sizeof d, "signed version %lld, offered as %lld",
                 (long long)m->version, (long long)e->version);
        return differ(RG_TRUST_VERSION_MISMATCH, why, err, "version", what, d);
    }
    if (strcmp(m->sha256, e->sha256) != 0) {
        snprintf(d, sizeof d, "signed sha256 %.16s..., offered %.16s...",
                 m->sha256, e->sha256);
        return differ(RG_TRUST_HASH_MISMATCH, why, err, "sha256", what, d);
    }
    if (m->size != e->size) {
        snprintf(d, sizeof d, "signed size %lld, offered %lld",
                 (long long)m->size, (long long)e->size);
        return differ(RG_TRUST_SIZE_MISMATCH, why, err, "size", what, d);
    }
    if (e->notes_sha256 && strcmp(m->notes_sha256, e->notes_sha256) != 0)
        return differ(RG_TRUST_MALFORMED, why, err, "notes", what,
                      "notes_sha256 is not the sha256 of the notes");
    if (why)
        *why = RG_TRUST_OK;
    return 0;
}

int rg_relmeta_match(const rg_relmeta *m, const rg_relmeta_expect *e,
                     rg_trust_reason *why, rg_err *err)
{
    return match(m, e, "release metadata", why, err);
}

int rg_relmeta_verify(const rg_root *root, const json_t *doc,
                      const rg_relmeta_expect *e, int64_t highest,
                      int64_t now_ms, int64_t skew_ms, const char *what,
                      rg_relmeta *out, rg_trust_reason *why, rg_err *err)
{
    char d[192], when[RG_RFC3339_LEN];
    rg_sig_count c;
    rg_err e2;
    if (!doc)
        return differ(RG_TRUST_UNSIGNED, why, err, "metadata", what,
                      "no signed metadata (a root is pinned)");
    if (rg_relmeta_parse(doc, out, &e2) != 0 ||
        rg_signed_count(doc, root->keys, root->nkeys, &c, &e2) != 0) {
        snprintf(d, sizeof d, "%.180s", e2.msg);
        return differ(RG_TRUST_MALFORMED, why, err, "metadata", what, d);
    }
    rg_trust_reason r = rg_signed_verdict(&c, root->threshold, what, err);
    if (r != RG_TRUST_OK) {
        if (why)
            *why = r;
        return RG_EINVAL;
    }
    if (strcmp(out->channel, e->channel) != 0)
        return match(out, e, what, why, err);
    if (out->expires_ms + skew_ms < now_ms) {
        rg_rfc3339_format(out->expires_ms, when);
        snprintf(d, sizeof d, "metadata expired at %s", when);
        return differ(RG_TRUST_EXPIRED, why, err, "expires", what, d);
    }
    if (out->version <= highest) {
        snprintf(d, sizeof d,
                 "version %lld is not above %lld, the highest applied on "
                 "channel '%.64s'",
                 (long long)out->version, (long long)highest, e->channel);
        return differ(RG_TRUST_ROLLBACK, why, err, "version", what, d);
    }
    return match(out, e, what, why, err);
}
