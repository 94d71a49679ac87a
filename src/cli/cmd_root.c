/* cmd_root.c - `rollgate root create|rotate` (offline) and `rollgate root
 * push` (PUT /v1/root): root metadata, the publisher keys agents trust
 * and their threshold (docs/signing.md). */
#include "cli/cmd.h"

#include "cli/view.h"
#include "trust/root.h"

#include <string.h>

#define DEFAULT_ROOT_EXPIRY_S (365 * 86400)

/* Builds a root of the --public-key keys with --threshold, version and
 * expiry, signed by every --signing-key key, into *doc. */
static int build_signed(rg_cli *cli, const rg_cli_args *a, int64_t version,
                        json_t **doc)
{
    rg_key keys[RG_ROOT_MAX_KEYS], signers[2 * RG_ROOT_MAX_KEYS];
    size_t nkeys = 0, nsign = 0;
    int64_t threshold = 0, expires_ms = 0;
    rg_err e;
    int rc;
    *doc = NULL;
    if ((rc = rg__cli_opt_int(cli, a, "threshold", 1, RG_ROOT_MAX_KEYS,
                              &threshold, NULL)) ||
        (rc = rg__cli_expiry(cli, a, DEFAULT_ROOT_EXPIRY_S, &expires_ms)) ||
        (rc = rg__cli_load_keys(cli, a, "public-key", false, keys,
                                RG_ROOT_MAX_KEYS, &nkeys)) ||
        (rc = rg__cli_load_keys(cli, a, "signing-key", true, signers,
                                2 * RG_ROOT_MAX_KEYS, &nsign)))
        goto cleanup;
    if (nkeys == 0) {
        rc = rg__cli_usage(cli, "--public-key PUBFILE is required (repeat it)");
        goto cleanup;
    }
    *doc = rg_root_build(keys, nkeys, (int)threshold, version, expires_ms, &e);
    if (!*doc) {
        rc = e.code == RG_EINVAL ? rg__cli_usage(cli, "%s", e.msg)
                                 : rg_err_set(&cli->err, e.code, "%s", e.msg);
        goto cleanup;
    }
    for (size_t i = 0; !rc && i < nsign; i++)
        if (rg_signed_add(*doc, &signers[i], &e) != 0)
            rc = rg_err_set(&cli->err, e.code, "%s", e.msg);
cleanup:
    for (size_t i = 0; i < nsign; i++)
        rg_key_wipe(&signers[i]);
    return rc;
}

static int print_root(rg_cli *cli, const rg_root *r, const char *out)
{
    if (cli->json) {
        json_t *v = json_pack("{s:I, s:i, s:I, s:s, s:s}", "version",
                              (json_int_t)r->version, "threshold", r->threshold,
                              "keys", (json_int_t)r->nkeys, "root_sha256",
                              r->digest, "file", out);
        int rc = v ? rg__cli_print_json(cli, v)
                   : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        json_decref(v);
        return rc;
    }
    fprintf(cli->out,
            "root version %lld: %d of %zu keys, written to %s\n"
            "root_sha256 %s\n",
            (long long)r->version, r->threshold, r->nkeys, out, r->digest);
    return 0;
}

static int root_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *out;
    json_t *doc = NULL;
    rg_root r;
    rg_err e;
    int rc = rg__cli_need(cli, a, "out", &out);
    if (!rc)
        rc = build_signed(cli, a, 1, &doc);
    if (!rc && rg_root_verify_self(doc, &r, NULL, &e) != 0)
        rc = rg__cli_usage(cli,
                           "%s (give --signing-key for the threshold of "
                           "--public-key)",
                           e.msg);
    if (!rc)
        rc = rg__cli_write_json_file(cli, out, doc);
    if (!rc)
        rc = print_root(cli, &r, out);
    json_decref(doc);
    return rc;
}

static int root_rotate(rg_cli *cli, const rg_cli_args *a)
{
    const char *out, *oldpath;
    json_t *old = NULL, *doc = NULL;
    rg_root prev, r;
    rg_err e;
    int rc = rg__cli_need(cli, a, "out", &out);
    if (!rc)
        rc = rg__cli_need(cli, a, "trust-root", &oldpath);
    if (!rc)
        rc = rg__cli_read_json_file(cli, oldpath, &old);
    if (!rc && rg_root_parse(old, &prev, &e) != 0)
        rc = rg__cli_usage(cli, "--trust-root '%s': %s", oldpath, e.msg);
    if (!rc)
        rc = build_signed(cli, a, prev.version + 1, &doc);
    if (!rc && rg_root_verify_next(&prev, doc, &r, NULL, &e) != 0)
        rc =
            rg__cli_usage(cli,
                          "%s (a rotation needs --signing-key keys meeting the "
                          "old threshold and the new one)",
                          e.msg);
    if (!rc)
        rc = rg__cli_write_json_file(cli, out, doc);
    if (!rc)
        rc = print_root(cli, &r, out);
    json_decref(old);
    json_decref(doc);
    return rc;
}

static int root_push(rg_cli *cli, const rg_cli_args *a)
{
    json_t *doc = NULL, *res = NULL;
    int rc = rg__cli_read_json_file(cli, a->pos[0], &doc);
    if (!rc)
        rc = rg__cli_call(cli, "PUT", "/v1/root", doc, &res);
    if (!rc && cli->json)
        rc = rg__cli_print_json(cli, res);
    else if (!rc)
        fprintf(cli->out, "root version %lld stored (root_sha256 %s)\n",
                (long long)rg_cli_jint(res, "version"),
                rg_cli_jstr(res, "root_sha256", "-"));
    json_decref(doc);
    json_decref(res);
    return rc;
}

/* The options of both root create and root rotate. */
#define ROOT_OPTS                                                              \
    "threshold:", "public-key:", "key=public-key:", "signing-key:",            \
        "sign=signing-key:", "expires-in:", "expires-at:", "out:"
static const char *const create_opts[] = {ROOT_OPTS, NULL};
static const char *const rotate_opts[] = {
    "trust-root:", "old=trust-root:", ROOT_OPTS, NULL};

const rg_cli_command rg__cli_cmds_root[] = {
    {"root", "create",
     "--threshold K --public-key PUB... --signing-key KEY... [--expires-in D] "
     "--out "
     "root.json",
     "make root metadata version 1: the trusted publisher keys, k of n "
     "(offline)",
     "  --threshold K      signatures a release (and the next root) needs\n"
     "  --public-key PUB   a publisher's public key file; repeat for each\n"
     "  --signing-key KEY  private key files signing this root (at least K)\n"
     "  --expires-in D     lifetime (default 365d), or --expires-at T\n"
     "  --out root.json    where to write it; prints its root_sha256, the pin\n"
     "                     for agents' 'trust_root_sha256 =' line\n"
     "  (--key, --sign: old spellings, kept for one release)\n",
     create_opts, 0, 0, false, root_create},
    {"root", "rotate",
     "--trust-root root.json --threshold K --public-key PUB... --signing-key "
     "OLDKEY... --signing-key NEWKEY... "
     "--out root2.json",
     "make the next root version, signed by the old and the new threshold",
     "  --trust-root root.json  the root agents trust now\n"
     "  --threshold K      the new threshold\n"
     "  --public-key PUB   the new root's public keys; repeat for each\n"
     "  --signing-key KEY  private keys: the old root's threshold of its keys\n"
     "                     and the new threshold of the new keys\n"
     "  --expires-in D     lifetime (default 365d), or --expires-at T\n"
     "  --out root2.json   where to write it\n"
     "  (--old, --key, --sign: old spellings, kept for one release)\n",
     rotate_opts, 0, 0, false, root_rotate},
    {"root", "push", "ROOT.json",
     "store a root on the server (PUT /v1/root) for agents to fetch",
     "  the server accepts version 1 first, then each next version signed by\n"
     "  the threshold of the one before it and by its own\n",
     NULL, 1, 1, true, root_push},
    {0},
};
