/* key.c - see key.h. */
#include "key.h"

#include "common/buf.h"
#include "common/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEED_BYTES crypto_sign_SEEDBYTES

static void set_keyid(rg_key *k)
{
    rg_sha256_hex(k->pk, sizeof k->pk, k->keyid);
}

int rg_key_generate(rg_key *k, rg_err *err)
{
    memset(k, 0, sizeof *k);
    if (crypto_sign_keypair(k->pk, k->sk) != 0)
        return rg_err_set(err, RG_EINTERNAL, "key generation failed");
    k->has_secret = true;
    set_keyid(k);
    return 0;
}

/* Exactly 2*n lower-case hex digits into out. */
static bool from_hex(const char *hex, unsigned char *out, size_t n)
{
    size_t len = 0;
    if (!hex || strlen(hex) != 2 * n)
        return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return sodium_hex2bin(out, n, hex, 2 * n, NULL, &len, NULL) == 0 &&
           len == n;
}

int rg_key_from_public_hex(const char *pk_hex, rg_key *k, rg_err *err)
{
    memset(k, 0, sizeof *k);
    if (!from_hex(pk_hex, k->pk, sizeof k->pk))
        return rg_err_set(err, RG_EINVAL,
                          "public key must be 64 lower-case hex digits");
    set_keyid(k);
    return 0;
}

void rg_key_public_hex(const rg_key *k, char out[RG_PUBKEY_HEX])
{
    sodium_bin2hex(out, RG_PUBKEY_HEX, k->pk, sizeof k->pk);
}

int rg_key_load(const char *path, rg_key *k, rg_err *err)
{
    json_error_t je;
    unsigned char seed[SEED_BYTES];
    int rc = 0;
    memset(k, 0, sizeof *k);
    FILE *f = fopen(path, "r");
    if (!f)
        return rg_err_set(err, errno == ENOENT ? RG_ENOTFOUND : RG_EIO,
                          "key file '%s': %s", path, strerror(errno));
    json_t *v = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    const char *type = json_string_value(json_object_get(v, "type"));
    const char *pub = json_string_value(json_object_get(v, "public"));
    const char *id = json_string_value(json_object_get(v, "keyid"));
    const char *sd = json_string_value(json_object_get(v, "seed"));
    if (!type || !pub || !id) {
        rc = rg_err_set(err, RG_EINVAL, "key file '%s': not a rollgate key",
                        path);
        goto cleanup;
    }
    if (strcmp(type, "rollgate-ed25519-private") == 0) {
        if (!from_hex(sd, seed, sizeof seed) ||
            crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0) {
            rc = rg_err_set(err, RG_EINVAL, "key file '%s': bad seed", path);
            goto cleanup;
        }
        k->has_secret = true;
        set_keyid(k);
        char want[RG_PUBKEY_HEX];
        rg_key_public_hex(k, want);
        if (strcmp(want, pub) != 0) {
            rc = rg_err_set(err, RG_EINVAL,
                            "key file '%s': public key does not match the seed",
                            path);
            goto cleanup;
        }
    } else if (strcmp(type, "rollgate-ed25519-public") == 0) {
        if ((rc = rg_key_from_public_hex(pub, k, err)) != 0)
            goto cleanup;
    } else {
        rc = rg_err_set(err, RG_EINVAL, "key file '%s': unknown type '%.40s'",
                        path, type);
        goto cleanup;
    }
    if (strcmp(id, k->keyid) != 0)
        rc = rg_err_set(err, RG_EINVAL,
                        "key file '%s': keyid is not the sha256 of its key",
                        path);
cleanup:
    sodium_memzero(seed, sizeof seed);
    json_decref(v);
    if (rc != 0)
        rg_key_wipe(k);
    return rc;
}

/* Writes text as path with mode, refusing an existing file (O_EXCL). */
static int write_new(const char *path, const char *text, mode_t mode,
                     rg_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return rg_err_set(err, errno == EEXIST ? RG_ECONFLICT : RG_EIO,
                          "'%s': %s", path, strerror(errno));
    size_t n = strlen(text), off = 0;
    int rc = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = rg_err_set(err, RG_EIO, "write '%s': %s", path,
                            strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = rg_err_set(err, RG_EIO, "fsync '%s': %s", path, strerror(errno));
    close(fd);
    return rc;
}

int rg_key_save(const rg_key *k, const char *path, rg_err *err)
{
    char pub[RG_PUBKEY_HEX], seed[2 * SEED_BYTES + 1], pubpath[4096];
    char *priv_text = NULL, *pub_text = NULL;
    int rc = 0;
    if (!k->has_secret)
        return rg_err_set(err, RG_EINVAL, "key has no secret to save");
    if (snprintf(pubpath, sizeof pubpath, "%s.pub", path) >=
        (int)sizeof pubpath)
        return rg_err_set(err, RG_EINVAL, "key path too long");
    rg_key_public_hex(k, pub);
    /* libsodium's secret key is seed || public key. */
    sodium_bin2hex(seed, sizeof seed, k->sk, SEED_BYTES);
    json_t *priv =
        json_pack("{s:s, s:s, s:s, s:s}", "type", "rollgate-ed25519-private",
                  "keyid", k->keyid, "public", pub, "seed", seed);
    json_t *pubv =
        json_pack("{s:s, s:s, s:s}", "type", "rollgate-ed25519-public", "keyid",
                  k->keyid, "public", pub);
    priv_text = priv ? json_dumps(priv, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    pub_text = pubv ? json_dumps(pubv, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (!priv_text || !pub_text) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t n = strlen(priv_text);
    char *p = realloc(priv_text, n + 2);
    if (!p) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    priv_text = p;
    memcpy(priv_text + n, "\n", 2);
    if ((rc = write_new(path, priv_text, 0600, err)) != 0)
        goto cleanup;
    n = strlen(pub_text);
    p = realloc(pub_text, n + 2);
    if (!p) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    pub_text = p;
    memcpy(pub_text + n, "\n", 2);
    unlink(pubpath); /* the public half may be replaced freely */
    rc = write_new(pubpath, pub_text, 0644, err);
cleanup:
    sodium_memzero(seed, sizeof seed);
    if (priv_text)
        sodium_memzero(priv_text, strlen(priv_text));
    free(priv_text);
    free(pub_text);
    json_decref(priv);
    json_decref(pubv);
    return rc;
}

int rg_key_sign(const rg_key *k, const void *msg, size_t n,
                char sig[RG_SIG_HEX], rg_err *err)
{
    unsigned char s[crypto_sign_BYTES];
    if (!k->has_secret)
        return rg_err_set(err, RG_EINVAL,
                          "key %.16s: no secret key to sign with", k->keyid);
    crypto_sign_detached(s, NULL, msg, n, k->sk);
    sodium_bin2hex(sig, RG_SIG_HEX, s, sizeof s);
    return 0;
}

bool rg_key_verify(const rg_key *k, const void *msg, size_t n,
                   const char *sig_hex)
{
    unsigned char s[crypto_sign_BYTES];
    if (!from_hex(sig_hex, s, sizeof s))
        return false;
    return crypto_sign_verify_detached(s, msg, n, k->pk) == 0;
}

void rg_key_wipe(rg_key *k)
{
    sodium_memzero(k, sizeof *k);
}
