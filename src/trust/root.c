/* root.c - see root.h. */
#include "root.h"

#include "canon.h"
#include "common/json.h"
#include "rfc3339.h"

#include <stdio.h>
#include <string.h>

#define VERSION_MAX (INT64_C(1) << 53)

json_t *rg_root_build(const rg_key *keys, size_t n, int threshold,
                      int64_t version, int64_t expires_ms, rg_err *err)
{
    char when[RG_RFC3339_LEN], pub[RG_PUBKEY_HEX];
    if (n == 0 || n > RG_ROOT_MAX_KEYS) {
        rg_err_set(err, RG_EINVAL, "a root lists 1..%d keys", RG_ROOT_MAX_KEYS);
        return NULL;
    }
    if (threshold < 1 || (size_t)threshold > n) {
        rg_err_field(err, RG_EINVAL, "threshold",
                     "threshold %d must be in 1..%zu (the number of keys)",
                     threshold, n);
        return NULL;
    }
    json_t *ks = json_object();
    for (size_t i = 0; ks && i < n; i++) {
        if (json_object_get(ks, keys[i].keyid)) {
            rg_err_set(err, RG_EINVAL, "key %.16s given twice", keys[i].keyid);
            json_decref(ks);
            return NULL;
        }
        rg_key_public_hex(&keys[i], pub);
        if (json_object_set_new(ks, keys[i].keyid, json_string(pub)) != 0) {
            json_decref(ks);
            ks = NULL;
        }
    }
    rg_rfc3339_format(expires_ms, when);
    json_t *doc = ks ? rg_signed_new(json_pack(
                           "{s:s, s:I, s:s, s:i, s:o}", "type", "rollgate-root",
                           "version", (json_int_t)version, "expires", when,
                           "threshold", threshold, "keys", ks))
                     : NULL;
    if (!doc)
        rg_err_set(err, RG_ENOMEM, "out of memory");
    return doc;
}

int rg_root_parse(const json_t *doc, rg_root *out, rg_err *err)
{
    static const char *const fields[] = {"type",      "version", "expires",
                                         "threshold", "keys",    NULL};
    const char *type = NULL, *expires = NULL, *id;
    int64_t threshold = 0;
    json_t *keys = NULL, *pub;
    int rc = 0;
    memset(out, 0, sizeof *out);
    if ((rc = rg_signed_check_shape(doc, err)) != 0)
        return rc;
    json_t *s = json_object_get(doc, "signed");
    if ((rc = rg_json_only(s, fields, err)) ||
        (rc = rg_json_string(s, "type", true, 32, &type, err)) ||
        (rc = rg_json_int(s, "version", true, 1, VERSION_MAX, &out->version,
                          err)) ||
        (rc = rg_json_string(s, "expires", true, 32, &expires, err)) ||
        (rc = rg_json_int(s, "threshold", true, 1, RG_ROOT_MAX_KEYS, &threshold,
                          err)) ||
        (rc = rg_json_object(s, "keys", true, &keys, err)))
        return rc;
    if (strcmp(type, "rollgate-root") != 0)
        return rg_err_field(err, RG_EINVAL, "type", "not a root (type '%.32s')",
                            type);
    if (rg_rfc3339_parse(expires, &out->expires_ms) != 0)
        return rg_err_field(err, RG_EINVAL, "expires",
                            "expires '%.32s' is not YYYY-MM-DDTHH:MM:SSZ",
                            expires);
    if (json_object_size(keys) == 0 ||
        json_object_size(keys) > RG_ROOT_MAX_KEYS)
        return rg_err_field(err, RG_EINVAL, "keys", "a root lists 1..%d keys",
                            RG_ROOT_MAX_KEYS);
    json_object_foreach(keys, id, pub)
    {
        rg_key *k = &out->keys[out->nkeys];
        if (rg_key_from_public_hex(json_string_value(pub), k, NULL) != 0 ||
            strcmp(k->keyid, id) != 0)
            return rg_err_field(err, RG_EINVAL, "keys",
                                "key %.16s: not a public key whose sha256 is "
                                "its id",
                                id);
        out->nkeys++;
    }
    if ((size_t)threshold > out->nkeys)
        return rg_err_field(err, RG_EINVAL, "threshold",
                            "threshold %lld above the %zu keys",
                            (long long)threshold, out->nkeys);
    out->threshold = (int)threshold;
    return rg_canon_sha256(s, out->digest, err);
}

/* Counts doc's signatures by keys of r and judges them against r's
 * threshold. */
static rg_trust_reason judge(const json_t *doc, const rg_root *r,
                             const char *what, rg_err *err)
{
    rg_sig_count c;
    if (rg_signed_count(doc, r->keys, r->nkeys, &c, err) != 0)
        return RG_TRUST_MALFORMED;
    return rg_signed_verdict(&c, r->threshold, what, err);
}

int rg_root_verify_self(const json_t *doc, rg_root *out, rg_trust_reason *why,
                        rg_err *err)
{
    char what[64];
    rg_trust_reason r = RG_TRUST_MALFORMED;
    if (rg_root_parse(doc, out, err) == 0) {
        snprintf(what, sizeof what, "root version %lld",
                 (long long)out->version);
        r = judge(doc, out, what, err);
    }
    if (why)
        *why = r;
    return r == RG_TRUST_OK ? 0 : RG_EINVAL;
}

int rg_root_verify_next(const rg_root *trusted, const json_t *next,
                        rg_root *out, rg_trust_reason *why, rg_err *err)
{
    char what[96];
    rg_trust_reason r = RG_TRUST_MALFORMED;
    if (rg_root_parse(next, out, err) != 0)
        goto done;
    if (out->version != trusted->version + 1) {
        r = RG_TRUST_ROLLBACK;
        rg_err_set(err, RG_EINVAL,
                   "root version %lld: rollback: expected version %lld",
                   (long long)out->version, (long long)trusted->version + 1);
        goto done;
    }
    snprintf(what, sizeof what,
             "root version %lld (by the keys of version %lld)",
             (long long)out->version, (long long)trusted->version);
    if ((r = judge(next, trusted, what, err)) != RG_TRUST_OK)
        goto done;
    snprintf(what, sizeof what, "root version %lld (by its own keys)",
             (long long)out->version);
    r = judge(next, out, what, err);
done:
    if (why)
        *why = r;
    return r == RG_TRUST_OK ? 0 : RG_EINVAL;
}
