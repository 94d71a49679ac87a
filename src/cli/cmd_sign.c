/* cmd_sign.c - offline signing (docs/signing.md): `rollgate keygen` and
 * `rollgate sign`, and the helpers `release create --sign`, `release
 * revert` and `root` share. Nothing here talks to the server. */
#include "cli/cmd.h"
#include "cli/fmt.h"

#include "common/crypto.h"
#include "common/json.h"
#include "trust/canon.h"
#include "trust/rfc3339.h"
#include "trust/signed.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define META_FILE_MAX (1 << 20)
#define DEFAULT_EXPIRY_S (30 * 86400) /* release metadata: 30 days */

int rg__cli_load_keys(rg_cli *cli, const rg_cli_args *a, const char *opt,
                      bool need_secret, rg_key *keys, size_t max, size_t *n)
{
    const char *paths[RG_CLI_ARGS_MAX];
    size_t given = rg_cli_args_all(a, opt, paths, RG_CLI_ARGS_MAX);
    *n = 0;
    if (given > max)
        return rg__cli_usage(cli, "at most %zu --%s", max, opt);
    if (rg_crypto_init() != 0)
        return rg_err_set(&cli->err, RG_EINTERNAL, "libsodium did not start");
    for (size_t i = 0; i < given; i++) {
        rg_err e;
        if (rg_key_load(paths[i], &keys[i], &e) != 0)
            return rg__cli_usage(cli, "--%s: %s", opt, e.msg);
        if (need_secret && !keys[i].has_secret)
            return rg__cli_usage(cli,
                                 "--%s '%s' is a public key: signing needs "
                                 "the private key file",
                                 opt, paths[i]);
        *n = i + 1;
    }
    return 0;
}

int rg__cli_file_digest(rg_cli *cli, const char *path, char sha[65],
                        int64_t *size)
{
    char chunk[32768];
    rg_sha256 s;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rg__cli_usage(cli, "cannot open '%s': %s", path,
                             strerror(errno));
    rg_sha256_init(&s);
    *size = 0;
    for (size_t n; (n = fread(chunk, 1, sizeof chunk, f)) > 0;
         *size += (int64_t)n)
        rg_sha256_update(&s, chunk, n);
    int bad = ferror(f);
    fclose(f);
    rg_sha256_final(&s, sha);
    return bad ? rg__cli_usage(cli, "cannot read '%s'", path) : 0;
}

int rg__cli_expiry(rg_cli *cli, const rg_cli_args *a, int64_t default_s,
                   int64_t *expires_ms)
{
    int64_t s = default_s;
    bool given = false;
    const char *at = rg_cli_args_get(a, "expires-at");
    int rc = rg__cli_opt_duration(cli, a, "expires-in", &s, &given);
    if (rc)
        return rc;
    if (at && given)
        return rg__cli_usage(cli,
                             "give --expires-in or --expires-at, not both");
    if (at) {
        if (rg_rfc3339_parse(at, expires_ms) != 0)
            return rg__cli_usage(cli,
                                 "--expires-at '%s' is not "
                                 "YYYY-MM-DDTHH:MM:SSZ",
                                 at);
        return 0;
    }
    *expires_ms = (cli->now_ms / 1000 + s) * 1000;
    return 0;
}

int rg__cli_read_json_file(rg_cli *cli, const char *path, json_t **out)
{
    rg_buf text;
    char chunk[8192];
    int rc = 0;
    rg_err perr;
    *out = NULL;
    rg_buf_init(&text, META_FILE_MAX);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rg__cli_usage(cli, "cannot open '%s': %s", path,
                             strerror(errno));
    for (size_t n; (n = fread(chunk, 1, sizeof chunk, f)) > 0;) {
        if (rg_buf_add(&text, chunk, n)) {
            rc = rg__cli_usage(cli, "'%s' is over %d bytes", path,
                               META_FILE_MAX);
            goto cleanup;
        }
    }
    *out = rg_json_parse_object(text.data ? text.data : "", text.len, &perr);
    if (!*out)
        rc = rg__cli_usage(cli, "'%s': %s", path, perr.msg);
cleanup:
    fclose(f);
    rg_buf_release(&text);
    return rc;
}

int rg__cli_write_json_file(rg_cli *cli, const char *path, const json_t *doc)
{
    if (!path || strcmp(path, "-") == 0)
        return rg__cli_print_json(cli, doc);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rg__cli_usage(cli, "path '%.64s...' too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return rg__cli_usage(cli, "cannot write '%s': %s", tmp,
                             strerror(errno));
    int bad = json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
              fputc('\n', f) == EOF;
    bad = fclose(f) != 0 || bad;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return rg_err_set(&cli->err, RG_EIO, "cannot write '%s'", path);
    }
    return 0;
}

int rg__cli_release_metadata(rg_cli *cli, const rg_relmeta *m,
                             const rg_key *keys, size_t n, json_t **doc)
{
    rg_err e;
    *doc = rg_relmeta_build(m, &e);
    if (!*doc)
        return rg_err_set(&cli->err, e.code, "%s", e.msg);
    for (size_t i = 0; i < n; i++) {
        if (rg_signed_add(*doc, &keys[i], &e) != 0) {
            json_decref(*doc);
            *doc = NULL;
            return rg_err_set(&cli->err, e.code, "%s", e.msg);
        }
    }
    return 0;
}

static int keygen(rg_cli *cli, const rg_cli_args *a)
{
    const char *out;
    rg_key k;
    rg_err e;
    char pub[RG_PUBKEY_HEX];
    int rc = rg__cli_need(cli, a, "out", &out);
    if (rc)
        return rc;
    if (rg_crypto_init() != 0)
        return rg_err_set(&cli->err, RG_EINTERNAL, "libsodium did not start");
    if ((rc = rg_key_generate(&k, &e)) == 0)
        rc = rg_key_save(&k, out, &e);
    rg_key_public_hex(&k, pub);
    if (rc) {
        rg_key_wipe(&k);
        return rc == RG_ECONFLICT ? rg__cli_usage(cli, "%s", e.msg)
                                  : rg_err_set(&cli->err, rc, "%s", e.msg);
    }
    if (cli->json) {
        json_t *v =
            json_pack("{s:s, s:s, s:s, s:s+}", "keyid", k.keyid, "public", pub,
                      "private_file", out, "public_file", out, ".pub");
        rc = v ? rg__cli_print_json(cli, v)
               : rg_err_set(&cli->err, RG_ENOMEM, "oom");
        json_decref(v);
    } else {
        fprintf(cli->out,
                "keyid   %s\npublic  %s\nprivate key: %s (mode 0600, "
                "keep it offline)\npublic key:  %s.pub\n",
                k.keyid, pub, out, out);
    }
    rg_key_wipe(&k);
    return rc;
}

/* The metadata `rollgate sign` starts from: --metadata FILE when it
 * exists, else one built from --channel --version --file --notes. Fields
 * given beside an existing file must agree with it. */
static int sign_input(rg_cli *cli, const rg_cli_args *a, json_t **doc)
{
    const char *meta = rg_cli_args_get(a, "metadata");
    const char *channel = rg_cli_args_get(a, "channel");
    const char *file = rg_cli_args_get(a, "file");
    const char *notes = rg_cli_args_get(a, "notes");
    bool have_version = false;
    rg_relmeta m;
    rg_err e;
    int rc;
    memset(&m, 0, sizeof m);
    if ((rc = rg__cli_opt_int(cli, a, "version", 1, 1LL << 53, &m.version,
                              &have_version)))
        return rc;
    if (meta && access(meta, F_OK) == 0) {
        if ((rc = rg__cli_read_json_file(cli, meta, doc)))
            return rc;
        rg_relmeta have;
        if (rg_relmeta_parse(*doc, &have, &e) != 0)
            return rg__cli_usage(cli, "--metadata '%s': %s", meta, e.msg);
        if ((channel && strcmp(channel, have.channel) != 0) ||
            (have_version && m.version != have.version))
            return rg__cli_usage(cli,
                                 "--metadata '%s' is channel %s version "
                                 "%lld, not what the options say",
                                 meta, have.channel, (long long)have.version);
        return 0;
    }
    if (!channel || !have_version || !file || !notes)
        return rg__cli_usage(cli,
                             "give --channel, --version, --file and --notes "
                             "(or --metadata of an existing file)");
    if (snprintf(m.channel, sizeof m.channel, "%s", channel) >=
        (int)sizeof m.channel)
        return rg__cli_usage(cli, "--channel is too long");
    if ((rc = rg__cli_file_digest(cli, file, m.sha256, &m.size)) ||
        (rc = rg__cli_expiry(cli, a, DEFAULT_EXPIRY_S, &m.expires_ms)))
        return rc;
    rg_sha256_hex(notes, strlen(notes), m.notes_sha256);
    return rg__cli_release_metadata(cli, &m, NULL, 0, doc);
}

static int sign(rg_cli *cli, const rg_cli_args *a)
{
    rg_key keys[RG_ROOT_MAX_KEYS];
    size_t n = 0;
    json_t *doc = NULL;
    rg_err e;
    const char *out = rg_cli_args_get(a, "out");
    int rc = rg__cli_load_keys(cli, a, "signing-key", true, keys,
                               RG_ROOT_MAX_KEYS, &n);
    if (!rc && n == 0)
        rc = rg__cli_usage(cli, "--signing-key KEYFILE is required");
    if (!rc)
        rc = sign_input(cli, a, &doc);
    for (size_t i = 0; !rc && i < n; i++)
        if (rg_signed_add(doc, &keys[i], &e) != 0)
            rc = rg_err_set(&cli->err, e.code, "%s", e.msg);
    if (!rc)
        rc = rg__cli_write_json_file(
            cli, out ? out : rg_cli_args_get(a, "metadata"), doc);
    for (size_t i = 0; i < n; i++)
        rg_key_wipe(&keys[i]);
    json_decref(doc);
    return rc;
}

static const char *const keygen_opts[] = {"out:", NULL};
static const char *const sign_opts[] = {"signing-key:",
                                        "key=signing-key:",
                                        "channel:",
                                        "version:",
                                        "file:",
                                        "notes:",
                                        "expires-in:",
                                        "expires-at:",
                                        "metadata:",
                                        "out:",
                                        NULL};

const rg_cli_command rg__cli_cmds_sign[] = {
    {"keygen", NULL, "--out KEYFILE",
     "make an Ed25519 publisher key pair (offline)",
     "  --out KEYFILE      private key file (mode 0600); the public key goes\n"
     "                     to KEYFILE.pub; the key id is the sha256 of the\n"
     "                     public key\n",
     keygen_opts, 0, 0, false, keygen},
    {"sign", NULL,
     "--signing-key KEY... (--channel C --version N --file F --notes \"...\" "
     "[--expires-in D | --expires-at T] | --metadata M.json) [--out FILE]",
     "sign release metadata offline, or add a signature to it",
     "  --signing-key KEY  private key file; repeat for several signers\n"
     "                     (--key: its old spelling, kept for one release)\n"
     "  --channel C        the release's channel\n"
     "  --version N        the release's version\n"
     "  --file F           the content (its sha256 and size are signed)\n"
     "  --notes \"...\"      the release notes (their sha256 is signed)\n"
     "  --expires-in D     metadata lifetime (default 30d)\n"
     "  --expires-at T     or an expiry time, YYYY-MM-DDTHH:MM:SSZ\n"
     "  --metadata M.json  add the signatures to this existing metadata file\n"
     "                     (written back unless --out); a new one is built\n"
     "                     and written there when it does not exist\n"
     "  --out FILE         where to write (default: --metadata, else stdout)\n",
     sign_opts, 0, 0, false, sign},
    {0},
};
