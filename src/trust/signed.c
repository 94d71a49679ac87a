/* signed.c - see signed.h. */
#include "signed.h"

#include "canon.h"

#include <string.h>

const char *rg_trust_reason_name(rg_trust_reason r)
{
    switch (r) {
    case RG_TRUST_OK:
        return "ok";
    case RG_TRUST_MALFORMED:
        return "malformed";
    case RG_TRUST_UNSIGNED:
        return "unsigned";
    case RG_TRUST_BAD_SIGNATURE:
        return "bad_signature";
    case RG_TRUST_UNKNOWN_KEY:
        return "unknown_key";
    case RG_TRUST_THRESHOLD:
        return "too_few_signatures";
    case RG_TRUST_WRONG_CHANNEL:
        return "wrong_channel";
    case RG_TRUST_EXPIRED:
        return "expired";
    case RG_TRUST_ROLLBACK:
        return "rollback";
    case RG_TRUST_HASH_MISMATCH:
        return "hash_mismatch";
    case RG_TRUST_SIZE_MISMATCH:
        return "size_mismatch";
    case RG_TRUST_TOO_LONG:
        return "too_long";
    case RG_TRUST_VERSION_MISMATCH:
        return "version_mismatch";
    }
    return "unknown";
}

json_t *rg_signed_new(json_t *body)
{
    if (!body)
        return NULL;
    return json_pack("{s:o, s:[]}", "signed", body, "signatures");
}

int rg_signed_check_shape(const json_t *doc, rg_err *err)
{
    static const char *const top[] = {"signed", "signatures", NULL};
    size_t i;
    json_t *s;
    if (!json_is_object(doc))
        return rg_err_set(err, RG_EINVAL, "signed document must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        bool ok = false;
        for (const char *const *t = top; *t; t++)
            ok = ok || strcmp(*t, k) == 0;
        if (!ok)
            return rg_err_field(err, RG_EINVAL, k, "unknown field '%.40s'", k);
    }
    if (!json_is_object(json_object_get(doc, "signed")))
        return rg_err_field(err, RG_EINVAL, "signed",
                            "'signed' must be an object");
    json_t *sigs = json_object_get(doc, "signatures");
    if (!json_is_array(sigs) || json_array_size(sigs) > RG_MAX_SIGNATURES)
        return rg_err_field(err, RG_EINVAL, "signatures",
                            "'signatures' must be an array of at most %d",
                            RG_MAX_SIGNATURES);
    json_array_foreach(sigs, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "keyid"));
        const char *sig = json_string_value(json_object_get(s, "sig"));
        if (!json_is_object(s) || json_object_size(s) != 2 || !id || !sig ||
            strlen(id) != 64 || strlen(sig) != 128)
            return rg_err_field(err, RG_EINVAL, "signatures",
                                "signature %zu must be {\"keyid\": 64 hex, "
                                "\"sig\": 128 hex}",
                                i);
    }
    return 0;
}

/* The canonical bytes of doc's "signed" into b. */
static int signed_bytes(const json_t *doc, rg_buf *b, rg_err *err)
{
    rg_buf_init(b, 1 << 20);
    return rg_canon_json(json_object_get(doc, "signed"), b, err);
}

int rg_signed_add(json_t *doc, const rg_key *k, rg_err *err)
{
    rg_buf b;
    char sig[RG_SIG_HEX];
    size_t i;
    json_t *s;
    int rc = rg_signed_check_shape(doc, err);
    if (rc != 0)
        return rc;
    if ((rc = signed_bytes(doc, &b, err)) == 0)
        rc = rg_key_sign(k, b.data, b.len, sig, err);
    rg_buf_release(&b);
    if (rc != 0)
        return rc;
    json_t *sigs = json_object_get(doc, "signatures");
    json_array_foreach(sigs, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "keyid")), k->keyid) ==
            0) {
            json_array_remove(sigs, i);
            break;
        }
    }
    if (json_array_size(sigs) >= RG_MAX_SIGNATURES)
        return rg_err_set(err, RG_EINVAL, "more than %d signatures",
                          RG_MAX_SIGNATURES);
    if (json_array_append_new(
            sigs, json_pack("{s:s, s:s}", "keyid", k->keyid, "sig", sig)) != 0)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    return 0;
}

int rg_signed_count(const json_t *doc, const rg_key *keys, size_t nkeys,
                    rg_sig_count *out, rg_err *err)
{
    bool counted[RG_MAX_SIGNATURES] = {false};
    rg_buf b;
    size_t i;
    json_t *s;
    memset(out, 0, sizeof *out);
    int rc = rg_signed_check_shape(doc, err);
    if (rc != 0)
        return rc;
    if (nkeys > RG_MAX_SIGNATURES)
        return rg_err_set(err, RG_EINVAL, "more than %d trusted keys",
                          RG_MAX_SIGNATURES);
    if ((rc = signed_bytes(doc, &b, err)) != 0)
        goto cleanup;
    json_array_foreach(json_object_get(doc, "signatures"), i, s)
    {
        const char *id = json_string_value(json_object_get(s, "keyid"));
        const char *sig = json_string_value(json_object_get(s, "sig"));
        size_t j = 0;
        out->total++;
        while (j < nkeys && strcmp(keys[j].keyid, id) != 0)
            j++;
        if (j == nkeys) {
            if (out->unknown++ == 0)
                snprintf(out->first_unknown, sizeof out->first_unknown, "%s",
                         id);
            continue;
        }
        if (counted[j])
            continue; /* one key counts once */
        if (rg_key_verify(&keys[j], b.data, b.len, sig)) {
            counted[j] = true;
            out->valid++;
        } else if (out->bad++ == 0) {
            snprintf(out->first_bad, sizeof out->first_bad, "%s", id);
        }
    }
cleanup:
    rg_buf_release(&b);
    return rc;
}

rg_trust_reason rg_signed_verdict(const rg_sig_count *c, int threshold,
                                  const char *what, rg_err *err)
{
    if (c->valid >= threshold)
        return RG_TRUST_OK;
    if (c->bad > 0) {
        rg_err_set(
            err, RG_EINVAL,
            "%s: bad_signature: the signature by key %.16s does not verify",
            what, c->first_bad);
        return RG_TRUST_BAD_SIGNATURE;
    }
    if (c->valid == 0 && c->unknown > 0) {
        rg_err_set(err, RG_EINVAL,
                   "%s: unknown_key: signed only by keys the root does not "
                   "list (%.16s)",
                   what, c->first_unknown);
        return RG_TRUST_UNKNOWN_KEY;
    }
    if (c->total == 0) {
        rg_err_set(err, RG_EINVAL, "%s: unsigned: no signatures", what);
        return RG_TRUST_UNSIGNED;
    }
    rg_err_set(err, RG_EINVAL,
               "%s: too_few_signatures: %d valid of the %d required", what,
               c->valid, threshold);
    return RG_TRUST_THRESHOLD;
}
