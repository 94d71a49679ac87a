/*
 * fuzz_release_meta.c - signed metadata parsing and verification
 * (src/trust: canonical JSON, signed documents, root and release metadata).
 *
 * Parses the input as an object and runs it through every reader: the
 * shape check, root and release parsing, signature counting against a
 * fixed key, the root self check and the agent's release verdict.
 * Invariants: canonical JSON parses back to an equal value and is a fixed
 * point (canonical of canonical is itself); a verdict of OK only comes
 * with a signature by the fixed key; no verdict is OK for a document the
 * release parser refuses.
 */
#include "fuzz.h"

#include "common/crypto.h"
#include "common/json.h"
#include "trust/canon.h"
#include "trust/relmeta.h"

#include <stdlib.h>
#include <string.h>

/* A fixed public key (nobody has its secret: no input can be signed). */
#define PUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

static void canon_invariants(const json_t *v)
{
    rg_buf a, b;
    rg_buf_init(&a, 1 << 20);
    rg_buf_init(&b, 1 << 20);
    if (rg_canon_json(v, &a, NULL) == 0) {
        json_t *back = json_loadb(a.data ? a.data : "", a.len,
                                  JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!back || !json_equal(back, v))
            abort();
        if (rg_canon_json(back, &b, NULL) != 0 || b.len != a.len ||
            memcmp(a.data, b.data, a.len) != 0)
            abort();
        json_decref(back);
    }
    rg_buf_release(&a);
    rg_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_err err;
    rg_key k;
    rg_root root, parsed;
    rg_relmeta m;
    rg_sig_count c;
    rg_trust_reason why;
    rg_crypto_init();
    json_t *o = rg_json_parse_object((const char *)data, size, &err);
    if (!o)
        return 0;
    canon_invariants(o);
    if (rg_key_from_public_hex(PUB, &k, NULL) != 0)
        abort();
    memset(&root, 0, sizeof root);
    root.version = 1;
    root.threshold = 1;
    root.nkeys = 1;
    root.keys[0] = k;
    rg_signed_check_shape(o, &err);
    rg_root_parse(o, &parsed, &err);
    rg_root_verify_self(o, &parsed, &why, &err);
    if (rg_signed_count(o, &k, 1, &c, &err) == 0 && c.valid > 0)
        abort(); /* nobody can sign for this key */
    bool parses = rg_relmeta_parse(o, &m, &err) == 0;
    rg_relmeta_expect e = {m.channel[0] ? m.channel : "x", m.version, m.sha256,
                           m.size, NULL};
    int rc = rg_relmeta_verify(&root, o, &e, 0, 0, 0, "fuzz", &m, &why, &err);
    if (rc == 0 || why == RG_TRUST_OK || (!parses && why != RG_TRUST_MALFORMED))
        abort();
    json_decref(o);
    return 0;
}
