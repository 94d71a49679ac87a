/* Unit tests for src/trust: canonical JSON, Ed25519 keys and key files,
 * signature counting (duplicates count once, unknown and bad keys never
 * count), root rotation rules, release metadata verdicts.
 * ctest-labels: security */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "trust/canon.h"
#include "trust/key.h"
#include "trust/relmeta.h"
#include "trust/rfc3339.h"
#include "trust/root.h"
#include "trust/signed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS (86400LL * 1000)
#define NOW_MS (1767225600LL * 1000) /* 2026-01-01T00:00:00Z */

static char *canon(const char *text)
{
    json_error_t je;
    rg_buf b;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    assert_non_null(v);
    rg_buf_init(&b, 1 << 16);
    int rc = rg_canon_json(v, &b, NULL);
    json_decref(v);
    if (rc != 0) {
        rg_buf_release(&b);
        return NULL;
    }
    return rg_buf_detach(&b);
}

static void canonical_json_is_exact(void **state)
{
    (void)state;
    char *s =
        canon("{ \"b\": 1, \"a\": [true, false, null, -5], \"\\u00e9\": \"x\","
              " \"Z\": {\"y\": \"q\\\"\\\\/\\n\\t\\u0001\\u007f\"} }");
    assert_string_equal(
        s, "{\"Z\":{\"y\":\"q\\\"\\\\/\\n\\t\\u0001\x7f\"},"
           "\"a\":[true,false,null,-5],\"b\":1,\"\xc3\xa9\":\"x\"}");
    free(s);
    assert_null(canon("{\"a\": 1.5}")); /* reals are refused */
    s = canon("{}");
    assert_string_equal(s, "{}");
    free(s);
}

static void rfc3339_round_trip(void **state)
{
    (void)state;
    int64_t ms = 0;
    char out[RG_RFC3339_LEN];
    assert_int_equal(rg_rfc3339_parse("2026-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, NOW_MS);
    rg_rfc3339_format(NOW_MS + 1999, out);
    assert_string_equal(out, "2026-01-01T00:00:01Z");
    assert_int_equal(rg_rfc3339_parse("2026-02-31T00:00:00Z", &ms), RG_EINVAL);
    assert_int_equal(rg_rfc3339_parse("2026-01-01 00:00:00Z", &ms), RG_EINVAL);
    assert_int_equal(rg_rfc3339_parse("2026-01-01T00:00:00+01:00", &ms),
                     RG_EINVAL);
}

static void keys_sign_verify_and_files(void **state)
{
    (void)state;
    rg_key k, loaded, pub;
    char sig[RG_SIG_HEX], pubhex[RG_PUBKEY_HEX], dir[] = "/tmp/rg-trust-XXXXXX",
                                                 path[128], pubpath[160];
    struct stat st;
    assert_int_equal(rg_key_generate(&k, NULL), 0);
    assert_true(rg_sha256_hex_valid(k.keyid));
    assert_int_equal(rg_key_sign(&k, "abc", 3, sig, NULL), 0);
    assert_true(rg_key_verify(&k, "abc", 3, sig));
    assert_false(rg_key_verify(&k, "abd", 3, sig));
    sig[5] = sig[5] == '0' ? '1' : '0';
    assert_false(rg_key_verify(&k, "abc", 3, sig));
    assert_false(rg_key_verify(&k, "abc", 3, "zz"));

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/k", dir);
    snprintf(pubpath, sizeof pubpath, "%s/k.pub", dir);
    assert_int_equal(rg_key_save(&k, path, NULL), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(rg_key_save(&k, path, NULL),
                     RG_ECONFLICT); /* no overwrite */
    assert_int_equal(rg_key_load(path, &loaded, NULL), 0);
    assert_true(loaded.has_secret);
    assert_memory_equal(loaded.sk, k.sk, sizeof k.sk);
    assert_int_equal(rg_key_load(pubpath, &pub, NULL), 0);
    assert_false(pub.has_secret);
    assert_string_equal(pub.keyid, k.keyid);
    rg_key_public_hex(&k, pubhex);
    assert_int_equal(rg_key_sign(&pub, "abc", 3, sig, NULL), RG_EINVAL);
    /* A key file whose id is not the sha256 of its key is refused. */
    FILE *f = fopen(pubpath, "w");
    fprintf(f,
            "{\"type\":\"rollgate-ed25519-public\",\"keyid\":\"%064d\","
            "\"public\":\"%s\"}",
            0, pubhex);
    fclose(f);
    assert_int_equal(rg_key_load(pubpath, &pub, NULL), RG_EINVAL);
    unlink(path);
    unlink(pubpath);
    rmdir(dir);
}

/* A release document for channel "det", version v, signed by keys[0..n). */
static json_t *release_doc(const char *channel, int64_t v, int64_t expires_ms,
                           const rg_key *keys, size_t n)
{
    rg_relmeta m;
    memset(&m, 0, sizeof m);
    snprintf(m.channel, sizeof m.channel, "%s", channel);
    m.version = v;
    rg_sha256_hex("content", 7, m.sha256);
    m.size = 7;
    m.expires_ms = expires_ms;
    rg_sha256_hex("notes", 5, m.notes_sha256);
    json_t *doc = rg_relmeta_build(&m, NULL);
    assert_non_null(doc);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rg_signed_add(doc, &keys[i], NULL), 0);
    return doc;
}

static void threshold_counts_each_key_once(void **state)
{
    (void)state;
    rg_key k[3];
    rg_sig_count c;
    rg_err err;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rg_key_generate(&k[i], NULL), 0);
    json_t *doc = release_doc("det", 1, NOW_MS + DAY_MS, k, 1);
    /* The same signature three times is still one key. */
    json_t *sigs = json_object_get(doc, "signatures");
    json_t *one = json_array_get(sigs, 0);
    json_array_append(sigs, one);
    json_array_append(sigs, one);
    assert_int_equal(rg_signed_count(doc, k, 2, &c, NULL), 0);
    assert_int_equal(c.valid, 1);
    assert_int_equal(rg_signed_verdict(&c, 2, "r", &err), RG_TRUST_THRESHOLD);
    assert_non_null(strstr(err.msg, "too_few_signatures"));
    /* Signing again with the same key replaces its signature. */
    assert_int_equal(rg_signed_add(doc, &k[0], NULL), 0);
    assert_int_equal(rg_signed_add(doc, &k[1], NULL), 0);
    assert_int_equal(rg_signed_count(doc, k, 2, &c, NULL), 0);
    assert_int_equal(c.valid, 2);
    assert_int_equal(rg_signed_verdict(&c, 2, "r", NULL), RG_TRUST_OK);
    /* k[2] is not trusted: it never counts. */
    json_decref(doc);
    doc = release_doc("det", 1, NOW_MS + DAY_MS, &k[2], 1);
    assert_int_equal(rg_signed_count(doc, k, 2, &c, NULL), 0);
    assert_int_equal(c.valid, 0);
    assert_int_equal(c.unknown, 1);
    assert_int_equal(rg_signed_verdict(&c, 1, "r", &err), RG_TRUST_UNKNOWN_KEY);
    /* A signature by a trusted key over other bytes is bad. */
    json_object_set_new(json_object_get(doc, "signed"), "version",
                        json_integer(2));
    assert_int_equal(rg_signed_add(doc, &k[0], NULL), 0);
    json_object_set_new(json_object_get(doc, "signed"), "version",
                        json_integer(1));
    assert_int_equal(rg_signed_count(doc, k, 2, &c, NULL), 0);
    assert_int_equal(c.bad, 1);
    assert_int_equal(rg_signed_verdict(&c, 1, "r", &err),
                     RG_TRUST_BAD_SIGNATURE);
    json_decref(doc);
    doc = release_doc("det", 1, NOW_MS + DAY_MS, k, 0);
    assert_int_equal(rg_signed_count(doc, k, 2, &c, NULL), 0);
    assert_int_equal(rg_signed_verdict(&c, 1, "r", NULL), RG_TRUST_UNSIGNED);
    json_decref(doc);
}

static json_t *root_doc(const rg_key *keys, size_t n, int threshold,
                        int64_t version, const rg_key *signers, size_t ns)
{
    json_t *doc =
        rg_root_build(keys, n, threshold, version, NOW_MS + 365 * DAY_MS, NULL);
    assert_non_null(doc);
    for (size_t i = 0; i < ns; i++)
        assert_int_equal(rg_signed_add(doc, &signers[i], NULL), 0);
    return doc;
}

static void root_rotation_rules(void **state)
{
    (void)state;
    rg_key k[4];
    rg_root r1, r2;
    rg_trust_reason why;
    for (int i = 0; i < 4; i++)
        assert_int_equal(rg_key_generate(&k[i], NULL), 0);
    assert_null(rg_root_build(k, 2, 3, 1, NOW_MS, NULL)); /* k > n */
    json_t *v1 = root_doc(k, 2, 2, 1, k, 1);
    assert_int_equal(rg_root_verify_self(v1, &r1, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_THRESHOLD);
    assert_int_equal(rg_signed_add(v1, &k[1], NULL), 0);
    assert_int_equal(rg_root_verify_self(v1, &r1, &why, NULL), 0);
    assert_int_equal(r1.threshold, 2);
    assert_int_equal(r1.nkeys, 2);
    /* v2 moves to keys 2,3: signed by the new keys only is not enough. */
    json_t *v2 = root_doc(&k[2], 2, 2, 2, &k[2], 2);
    assert_int_equal(rg_root_verify_next(&r1, v2, &r2, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_UNKNOWN_KEY);
    /* One old key is below the old threshold. */
    assert_int_equal(rg_signed_add(v2, &k[0], NULL), 0);
    assert_int_equal(rg_root_verify_next(&r1, v2, &r2, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_THRESHOLD);
    assert_int_equal(rg_signed_add(v2, &k[1], NULL), 0);
    assert_int_equal(rg_root_verify_next(&r1, v2, &r2, &why, NULL), 0);
    assert_int_equal(r2.version, 2);
    /* Old keys only: the new root's own threshold is missing. */
    json_t *v2b = root_doc(&k[2], 2, 2, 2, k, 2);
    assert_int_equal(rg_root_verify_next(&r1, v2b, &r2, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_UNKNOWN_KEY);
    /* Skipping a version or repeating one is refused. */
    json_t *v3 = root_doc(k, 2, 2, 3, k, 2);
    assert_int_equal(rg_root_verify_next(&r1, v3, &r2, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_ROLLBACK);
    assert_int_equal(rg_root_verify_next(&r1, v1, &r2, &why, NULL), RG_EINVAL);
    assert_int_equal(why, RG_TRUST_ROLLBACK);
    json_decref(v1);
    json_decref(v2);
    json_decref(v2b);
    json_decref(v3);
}

static void release_verdicts(void **state)
{
    (void)state;
    rg_key k[2];
    rg_root root;
    rg_relmeta m;
    rg_trust_reason why;
    rg_err err;
    char sha[RG_SHA256_HEX];
    for (int i = 0; i < 2; i++)
        assert_int_equal(rg_key_generate(&k[i], NULL), 0);
    json_t *r = root_doc(k, 2, 1, 1, k, 2);
    assert_int_equal(rg_root_verify_self(r, &root, NULL, NULL), 0);
    rg_sha256_hex("content", 7, sha);
    rg_relmeta_expect e = {"det", 5, sha, 7, NULL};
    json_t *doc = release_doc("det", 5, NOW_MS + DAY_MS, k, 1);
    assert_int_equal(rg_relmeta_verify(&root, doc, &e, 4, NOW_MS, 0,
                                       "release 9", &m, &why, &err),
                     0);
    assert_int_equal(m.version, 5);
    /* rollback: not above the highest applied */
    assert_int_equal(rg_relmeta_verify(&root, doc, &e, 5, NOW_MS, 0,
                                       "release 9", &m, &why, &err),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_ROLLBACK);
    assert_non_null(strstr(err.msg, "release 9: rollback"));
    /* expired, unless within the skew allowance */
    assert_int_equal(rg_relmeta_verify(&root, doc, &e, 0,
                                       NOW_MS + DAY_MS + 1000, 0, "r", &m, &why,
                                       NULL),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_EXPIRED);
    assert_int_equal(rg_relmeta_verify(&root, doc, &e, 0,
                                       NOW_MS + DAY_MS + 1000, 5000, "r", &m,
                                       &why, NULL),
                     0);
    /* offered on another channel, with another digest, size or version */
    rg_relmeta_expect other = e;
    other.channel = "flags";
    assert_int_equal(rg_relmeta_verify(&root, doc, &other, 0, NOW_MS, 0, "r",
                                       &m, &why, NULL),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_WRONG_CHANNEL);
    other = e;
    other.size = 8;
    assert_int_equal(rg_relmeta_verify(&root, doc, &other, 0, NOW_MS, 0, "r",
                                       &m, &why, NULL),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_SIZE_MISMATCH);
    other = e;
    rg_sha256_hex("x", 1, sha);
    other.sha256 = sha;
    assert_int_equal(rg_relmeta_verify(&root, doc, &other, 0, NOW_MS, 0, "r",
                                       &m, &why, NULL),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_HASH_MISMATCH);
    other = e;
    other.version = 6;
    assert_int_equal(rg_relmeta_verify(&root, doc, &other, 0, NOW_MS, 0, "r",
                                       &m, &why, NULL),
                     RG_EINVAL);
    assert_int_equal(why, RG_TRUST_VERSION_MISMATCH);
    /* no metadata at all */
    assert_int_equal(
        rg_relmeta_verify(&root, NULL, &e, 0, NOW_MS, 0, "r", &m, &why, NULL),
        RG_EINVAL);
    assert_int_equal(why, RG_TRUST_UNSIGNED);
    /* an extra field in "signed" is malformed */
    json_object_set_new(json_object_get(doc, "signed"), "extra", json_true());
    assert_int_equal(
        rg_relmeta_verify(&root, doc, &e, 0, NOW_MS, 0, "r", &m, &why, NULL),
        RG_EINVAL);
    assert_int_equal(why, RG_TRUST_MALFORMED);
    json_decref(doc);
    json_decref(r);
}

int main(void)
{
    assert_int_equal(rg_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_json_is_exact),
        cmocka_unit_test(rfc3339_round_trip),
        cmocka_unit_test(keys_sign_verify_and_files),
        cmocka_unit_test(threshold_counts_each_key_once),
        cmocka_unit_test(root_rotation_rules),
        cmocka_unit_test(release_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
