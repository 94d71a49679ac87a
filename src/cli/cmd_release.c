/* cmd_release.c - `rollgate release create|list|show|revert`:
 * /v1/releases (signed metadata: docs/signing.md). */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "model/plan.h"
#include "trust/signed.h"

#include <string.h>
#include <time.h>

#define MAX_VERSION (1LL << 53)
#define WAIT_DEFAULT_S 600         /* --wait-timeout default */
#define POLL_MS 500                /* between polls of the release */
#define PROGRESS_EVERY_MS 10000    /* a progress line on stderr */
#define TAIL_LINES 20              /* of a failed preflight's stderr */
#define META_EXPIRY_S (30 * 86400) /* default signed metadata lifetime */
#define MAX_SIGNERS 16

/* The preflight in one line: "passed (run, 120ms)", "failed: DETAIL",
 * "pending (ENGINE)", "none". */
static void preflight_summary(const json_t *pf, char *out, size_t n)
{
    const char *st = rg_cli_jstr(pf, "status", "none");
    if (strcmp(st, "failed") == 0) {
        snprintf(out, n, "failed: %s", rg_cli_jstr(pf, "detail", "-"));
    } else if (strcmp(st, "passed") == 0 &&
               json_object_get(pf, "duration_ms")) {
        snprintf(out, n, "passed in %lld ms",
                 (long long)rg_cli_jint(pf, "duration_ms"));
    } else if (strcmp(st, "pending") == 0 && rg_cli_jstr(pf, "engine", NULL)) {
        snprintf(out, n, "pending (%s)", rg_cli_jstr(pf, "engine", ""));
    } else {
        snprintf(out, n, "%s", st);
    }
}

/* Adds the preflight rows of a full result (GET /v1/releases/{id}). */
static void preflight_rows(rg_cli_table *t, const json_t *pf)
{
    char line[1400];
    preflight_summary(pf, line, sizeof line);
    rg_cli_table_kv(t, "preflight", "%s", line);
    const char *reason = rg_cli_jstr(pf, "reason", NULL);
    if (reason)
        rg_cli_table_kv(t, "  reason", "%s (%s)", reason,
                        rg_cli_jstr(pf, "stage", "-"));
    if (rg_cli_jstr(pf, "signal", NULL))
        rg_cli_table_kv(t, "  signal", "%s", rg_cli_jstr(pf, "signal", ""));
    if (json_is_integer(json_object_get(pf, "exit_code")) &&
        rg_cli_jint(pf, "exit_code") != 0)
        rg_cli_table_kv(t, "  exit code", "%lld",
                        (long long)rg_cli_jint(pf, "exit_code"));
    if (rg_cli_jstr(pf, "engine", NULL) &&
        strcmp(rg_cli_jstr(pf, "status", ""), "pending") != 0)
        rg_cli_table_kv(t, "  engine", "%s", rg_cli_jstr(pf, "engine", ""));
    const json_t *sb = json_object_get(pf, "sandbox");
    if (json_is_object(sb)) {
        static const char *const layers[][2] = {
            {"seccomp", "seccomp"},
            {"user_namespace", "user namespace"},
            {"network_namespace", "network namespace"},
            {"nproc_limit", "no new processes"}};
        char on[128] = "", off[128] = "";
        for (size_t i = 0; i < 4; i++) {
            char *dst =
                json_is_true(json_object_get(sb, layers[i][0])) ? on : off;
            size_t len = strlen(dst);
            snprintf(dst + len, sizeof on - len, "%s%s", len ? ", " : "",
                     layers[i][1]);
        }
        const char *notes = rg_cli_jstr(sb, "notes", "");
        rg_cli_table_kv(t, "  sandbox", "%s%s%s%s%s", on[0] ? on : "-",
                        off[0] ? "; missing: " : "", off, notes[0] ? "; " : "",
                        notes);
    }
}

/* Prints the last TAIL_LINES lines of a failed preflight's stderr,
 * indented, after the key/value block. */
static void print_tail(rg_cli *cli, const json_t *pf)
{
    const char *tail = rg_cli_jstr(pf, "stderr_tail", "");
    if (strcmp(rg_cli_jstr(pf, "status", ""), "failed") != 0 || !tail[0])
        return;
    size_t len = strlen(tail);
    while (len && tail[len - 1] == '\n')
        len--;
    size_t start = len, lines = 0;
    while (start > 0 && lines < TAIL_LINES) {
        start--;
        if (tail[start] == '\n' && ++lines == TAIL_LINES) {
            start++;
            break;
        }
    }
    fprintf(cli->out, "preflight stderr (last lines):\n");
    for (const char *p = tail + start; p < tail + len;) {
        size_t n = strcspn(p, "\n");
        if (p + n > tail + len)
            n = (size_t)(tail + len - p);
        fprintf(cli->out, "  | %.*s\n", (int)n, p);
        p += n + 1;
    }
}

/* Prints one release as a key/value block. */
static int print_release(rg_cli *cli, const json_t *r)
{
    if (cli->json)
        return rg__cli_print_json(cli, r);
    char when[2 * RG_CLI_FMT_MAX], size[RG_CLI_FMT_MAX];
    rg__cli_when(cli, rg_cli_jint(r, "created_ms"), when, sizeof when);
    rg_cli_fmt_size(size, sizeof size, (uint64_t)rg_cli_jint(r, "size"));
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "release", "%lld", (long long)rg_cli_jint(r, "id"));
    rg_cli_table_kv(&t, "channel", "%s", rg_cli_jstr(r, "channel", "-"));
    rg_cli_table_kv(&t, "version", "%lld",
                    (long long)rg_cli_jint(r, "version"));
    rg_cli_table_kv(&t, "urgency", "%s", rg_cli_jstr(r, "urgency", "-"));
    const json_t *act = json_object_get(r, "activation");
    char act_max[RG_CLI_FMT_MAX];
    rg_cli_fmt_duration(act_max, sizeof act_max, rg_cli_jint(act, "max_s"));
    rg_cli_table_kv(&t, "activation", "%s, at most %s",
                    rg_cli_jstr(act, "kind", "-"), act_max);
    rg_cli_table_kv(&t, "sha256", "%s", rg_cli_jstr(r, "sha256", "-"));
    rg_cli_table_kv(&t, "size", "%s", size);
    rg_cli_table_kv(&t, "created", "%s by %s", when,
                    rg_cli_jstr(r, "created_by", "-"));
    rg_cli_table_kv(&t, "notes", "%s", rg_cli_jstr(r, "notes", ""));
    const json_t *meta = json_object_get(r, "metadata");
    if (json_is_object(meta))
        rg_cli_table_kv(
            &t, "signed", "%zu signatures, expires %s",
            json_array_size(json_object_get(meta, "signatures")),
            rg_cli_jstr(json_object_get(meta, "signed"), "expires", "-"));
    else
        rg_cli_table_kv(&t, "signed",
                        "no (agents with a pinned root refuse it)");
    const json_t *lifted = json_object_get(r, "quarantine_lifted_ms");
    if (json_is_integer(lifted)) {
        char lw[2 * RG_CLI_FMT_MAX];
        rg__cli_when(cli, json_integer_value(lifted), lw, sizeof lw);
        rg_cli_table_kv(&t, "quarantine", "lifted %s", lw);
    }
    const json_t *pf = json_object_get(r, "preflight");
    preflight_rows(&t, pf);
    int rc = rg__cli_print_table(cli, &t);
    if (rc == 0)
        print_tail(cli, pf);
    return rc;
}

/* Polls release id until its preflight is no longer pending or
 * wait_s seconds have passed, with a progress line on stderr now and then.
 * *rel is replaced by the last answer. Returns at once, silently, when
 * it is not pending; the deadline fails the command with exit status 1
 * (preflight_refused judges a finished one). */
static int wait_preflight(rg_cli *cli, int64_t id, int64_t wait_s, json_t **rel)
{
    const rg_clock *clock = rg_clock_system();
    int64_t start = rg_clock_now(clock), last_note = start;
    const char *st =
        rg_cli_jstr(json_object_get(*rel, "preflight"), "status", "none");
    if (strcmp(st, "pending") != 0)
        return 0;
    fprintf(stderr,
            "rollgate: release %lld: waiting for its preflight (up to "
            "%llds)\n",
            (long long)id, (long long)wait_s);
    for (;;) {
        st = rg_cli_jstr(json_object_get(*rel, "preflight"), "status", "none");
        if (strcmp(st, "pending") != 0)
            break;
        int64_t now = rg_clock_now(clock);
        if (now - start >= wait_s * 1000) {
            cli->refused = true;
            return rg_err_set(&cli->err, RG_ECONFLICT,
                              "release %lld: preflight still pending after "
                              "%llds",
                              (long long)id, (long long)wait_s);
        }
        if (now - last_note >= PROGRESS_EVERY_MS) {
            fprintf(stderr,
                    "rollgate: release %lld: preflight pending (%llds)\n",
                    (long long)id, (long long)((now - start) / 1000));
            last_note = now;
        }
        rg__cli_sleep_ms(POLL_MS);
        json_t *next = NULL;
        int rc = rg__cli_callf(cli, "GET", NULL, &next, "/v1/releases/%lld",
                               (long long)id);
        if (rc)
            return rc;
        json_decref(*rel);
        *rel = next;
    }
    return 0;
}

/* Fails the command (exit status 1) when rel's preflight failed.
 * Returns 0 otherwise. */
static int preflight_refused(rg_cli *cli, const json_t *rel)
{
    const json_t *p = json_object_get(rel, "preflight");
    if (strcmp(rg_cli_jstr(p, "status", ""), "failed") != 0)
        return 0;
    cli->refused = true;
    return rg_err_set(
        &cli->err, RG_ECONFLICT, "release %lld: preflight failed: %s",
        (long long)rg_cli_jint(rel, "id"), rg_cli_jstr(p, "detail", "-"));
}

/* The signed metadata `release create` attaches into *meta (NULL when
 * unsigned): --metadata FILE as it is, or built from the local --file and
 * signed by every --sign key. */
static int create_metadata(rg_cli *cli, const rg_cli_args *a,
                           const char *channel, int64_t version,
                           const char *file, const char *notes, json_t **meta)
{
    const char *path = rg_cli_args_get(a, "metadata");
    rg_key keys[MAX_SIGNERS];
    size_t n = 0;
    rg_relmeta m;
    int rc =
        rg__cli_load_keys(cli, a, "signing-key", true, keys, MAX_SIGNERS, &n);
    *meta = NULL;
    if (rc)
        return rc;
    if (path && n > 0) {
        rc = rg__cli_usage(cli, "give --signing-key KEY or --metadata FILE, "
                                "not both");
    } else if (path) {
        rc = rg__cli_read_json_file(cli, path, meta);
    } else if (n > 0 && !file) {
        rc = rg__cli_usage(cli, "--signing-key needs --file: the content is "
                                "hashed "
                                "here, not taken from the server");
    } else if (n > 0) {
        memset(&m, 0, sizeof m);
        if (snprintf(m.channel, sizeof m.channel, "%s", channel) >=
            (int)sizeof m.channel)
            rc = rg__cli_usage(cli, "--channel is too long");
        m.version = version;
        rg_sha256_hex(notes, strlen(notes), m.notes_sha256);
        if (!rc)
            rc = rg__cli_file_digest(cli, file, m.sha256, &m.size);
        if (!rc)
            rc = rg__cli_expiry(cli, a, META_EXPIRY_S, &m.expires_ms);
        if (!rc)
            rc = rg__cli_release_metadata(cli, &m, keys, n, meta);
    }
    for (size_t i = 0; i < n; i++)
        rg_key_wipe(&keys[i]);
    return rc;
}

/* The release's "activation" from --activation KIND and --activation-max
 * D into *out (NULL when neither is given; the server checks the kind).
 * Returns 0 or an error code (cli->err filled). */
static int activation_opt(rg_cli *cli, const rg_cli_args *a, json_t **out)
{
    const char *kind = rg_cli_args_get(a, "activation");
    int64_t max_s = 0;
    bool max_given = false;
    int rc = rg__cli_opt_duration(cli, a, "activation-max", &max_s, &max_given);
    *out = NULL;
    if (rc || (!kind && !max_given))
        return rc;
    *out = json_pack("{s:s}", "kind", kind ? kind : "none");
    if (!*out || (max_given &&
                  json_object_set_new(*out, "max_s", json_integer(max_s)) != 0))
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    return 0;
}

static int release_create(rg_cli *cli, const rg_cli_args *a)
{
    const char *channel, *notes;
    const char *file = rg_cli_args_get(a, "file");
    const char *digest = rg_cli_args_get(a, "artifact");
    const char *urgency = rg_cli_args_get(a, "urgency");
    int64_t version = 0, wait_s = WAIT_DEFAULT_S;
    bool wait = rg_cli_args_has(a, "wait-preflight"), wait_given = false;
    json_t *art = NULL, *body = NULL, *rel = NULL, *meta = NULL, *act = NULL;
    int rc;
    if ((rc = rg__cli_opt_duration(cli, a, "wait-timeout", &wait_s,
                                   &wait_given)))
        return rc;
    if (wait_given && !wait)
        return rg__cli_usage(cli, "--wait-timeout needs --wait-preflight");
    if ((rc = rg__cli_need(cli, a, "channel", &channel)) ||
        (rc = rg__cli_opt_int(cli, a, "version", 1, MAX_VERSION, &version,
                              NULL)) ||
        (rc = rg__cli_need(cli, a, "notes", &notes)))
        return rc;
    if (!file == !digest)
        return rg__cli_usage(
            cli, "give exactly one of --file F or --artifact SHA256");
    if ((rc = activation_opt(cli, a, &act)) ||
        (rc = create_metadata(cli, a, channel, version, file, notes, &meta)))
        goto cleanup;
    if (file) {
        rc = rg__cli_upload_file(cli, file, &art);
        if (rc)
            goto cleanup;
        digest = rg_cli_jstr(art, "sha256", "");
    }
    body = json_pack("{s:s, s:I, s:s, s:s, s:s}", "channel", channel, "version",
                     (json_int_t)version, "artifact", digest, "notes", notes,
                     "urgency", urgency ? urgency : "standard");
    if (!body || (meta && json_object_set(body, "metadata", meta) != 0) ||
        (act && json_object_set(body, "activation", act) != 0)) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = rg__cli_call(cli, "POST", "/v1/releases", body, &rel);
    if (!rc && wait)
        rc = wait_preflight(cli, rg_cli_jint(rel, "id"), wait_s, &rel);
    if (!rc)
        rc = print_release(cli, rel);
    if (!rc && wait)
        rc = preflight_refused(cli, rel);
cleanup:
    json_decref(act);
    json_decref(meta);
    json_decref(art);
    json_decref(body);
    json_decref(rel);
    return rc;
}

static const char *const release_headers[] = {
    "ID",     "CHANNEL", "VERSION", "URGENCY", "PREFLIGHT", "SIZE",
    "SHA256", "CREATED", "BY",      "NOTES",   NULL};

static void release_layout(rg_cli_table *t)
{
    rg_cli_table_align_right(t, 0);
    rg_cli_table_align_right(t, 2);
    rg_cli_table_align_right(t, 5);
    rg_cli_table_max_width(t, 9, 50);
}

static void release_row(rg_cli *cli, rg_cli_table *t, const json_t *r)
{
    char ago[RG_CLI_FMT_MAX], size[RG_CLI_FMT_MAX];
    rg_cli_fmt_ago(ago, sizeof ago, cli->now_ms, rg_cli_jint(r, "created_ms"));
    rg_cli_fmt_size(size, sizeof size, (uint64_t)rg_cli_jint(r, "size"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(r, "id"));
    rg_cli_table_cell(t, rg_cli_jstr(r, "channel", "-"));
    rg_cli_table_cellf(t, "%lld", (long long)rg_cli_jint(r, "version"));
    rg_cli_table_cell(t, rg_cli_jstr(r, "urgency", "-"));
    rg_cli_table_cell(
        t, rg_cli_jstr(json_object_get(r, "preflight"), "status", "-"));
    rg_cli_table_cell(t, size);
    /* the digest abbreviated, as git does; --json has it whole */
    rg_cli_table_cellf(t, "%.12s\xe2\x80\xa6", rg_cli_jstr(r, "sha256", "-"));
    rg_cli_table_cell(t, ago);
    rg_cli_table_cell(t, rg_cli_jstr(r, "created_by", "-"));
    rg_cli_table_cell(t, rg_cli_jstr(r, "notes", ""));
}

static const rg__cli_listing release_listing = {"releases", release_headers,
                                                release_layout, release_row};

static int release_list(rg_cli *cli, const rg_cli_args *a)
{
    static const char *const filters[] = {"channel", NULL};
    return rg__cli_list_filtered(cli, a, "/v1/releases", filters,
                                 &release_listing);
}

static int release_show(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    json_t *rel = NULL;
    int rc = rg__cli_id(cli, "release", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_callf(cli, "GET", NULL, &rel, "/v1/releases/%lld",
                           (long long)id);
    if (!rc)
        rc = print_release(cli, rel);
    json_decref(rel);
    return rc;
}

/* Lifts the release's quarantine on the server: agents that quarantined
 * its digest apply it again. */
static int release_lift_quarantine(rg_cli *cli, const rg_cli_args *a)
{
    int64_t id;
    const char *reason;
    json_t *body = NULL, *rel = NULL;
    int rc = rg__cli_id(cli, "release", a->pos[0], &id);
    if (!rc)
        rc = rg__cli_need(cli, a, "reason", &reason);
    if (rc)
        return rc;
    body = json_pack("{s:s}", "reason", reason);
    if (!body)
        return rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
    rc = rg__cli_callf(cli, "POST", body, &rel,
                       "/v1/releases/%lld/lift-quarantine", (long long)id);
    if (!rc)
        rc = print_release(cli, rel);
    json_decref(body);
    json_decref(rel);
    return rc;
}

/* Checks that old (a release answer with "sha256" and "size") is the
 * content the publishers signed: its metadata carries a valid signature
 * by one of the n keys and describes that digest and size, or the local
 * file has that digest. The server's word alone is not enough. */
static int check_old_content(rg_cli *cli, const json_t *old, const char *file,
                             const rg_key *keys, size_t n)
{
    const char *sha = rg_cli_jstr(old, "sha256", "");
    int64_t size = rg_cli_jint(old, "size");
    const json_t *meta = json_object_get(old, "metadata");
    char local[RG_SHA256_HEX];
    int64_t local_size = 0;
    rg_relmeta m;
    rg_sig_count c;
    int rc;
    if (file) {
        if ((rc = rg__cli_file_digest(cli, file, local, &local_size)))
            return rc;
        if (strcmp(local, sha) != 0 || local_size != size)
            return rg__cli_usage(cli,
                                 "--file '%s' is not version %lld's "
                                 "content",
                                 file, (long long)rg_cli_jint(old, "version"));
        return 0;
    }
    if (!json_is_object(meta))
        return rg__cli_usage(cli,
                             "version %lld has no signed metadata: give "
                             "its content with --file",
                             (long long)rg_cli_jint(old, "version"));
    if (rg_relmeta_parse(meta, &m, NULL) != 0 ||
        rg_signed_count(meta, keys, n, &c, NULL) != 0 || c.valid == 0 ||
        strcmp(m.sha256, sha) != 0 || m.size != size) {
        cli->refused = true;
        return rg_err_set(&cli->err, RG_EINVAL,
                          "version %lld: its metadata is not signed by the "
                          "given keys for this content; give --file",
                          (long long)rg_cli_jint(old, "version"));
    }
    return 0;
}

/* What a revert checks before it creates anything (a release spends a
 * version for good): the plan (a name or @FILE) is one the server takes,
 * read into *plan (the caller json_decref's it), and the channel has no
 * rollout that is not final, which would refuse the revert's rollout. */
static int revert_checks(rg_cli *cli, const char *channel, const char *spec,
                         json_t **plan)
{
    rg_plan p;
    rg_err perr;
    json_t *active = NULL;
    rg_buf path;
    rg_buf_init(&path, 4096);
    int rc = rg__cli_read_plan(cli, spec, plan);
    if (!rc && rg_plan_from_json(*plan, &p, &perr) != 0)
        rc = rg__cli_usage(cli, "--plan: %s", perr.msg);
    if (!rc && (rg_buf_adds(&path, "/v1/rollouts?active=1&limit=1") ||
                rg_cli_query_add(&path, "channel", channel)))
        rc = rg__cli_usage(cli, "--channel is too long");
    if (!rc)
        rc = rg__cli_call(cli, "GET", path.data, NULL, &active);
    const json_t *ro = json_array_get(json_object_get(active, "rollouts"), 0);
    if (!rc && ro) {
        cli->refused = true;
        rc = rg_err_set(&cli->err, RG_ECONFLICT,
                        "channel '%s' has rollout %lld %s: the revert's "
                        "rollout cannot start before it ends (abort or roll "
                        "it back first); nothing was created",
                        channel, (long long)rg_cli_jint(ro, "id"),
                        rg_cli_jstr(ro, "state", "-"));
    }
    json_decref(active);
    rg_buf_release(&path);
    return rc;
}

static int release_revert(rg_cli *cli, const rg_cli_args *a)
{
    const char *channel, *reason = rg_cli_args_get(a, "reason");
    const char *plan = rg_cli_args_get(a, "plan");
    bool emergency = rg_cli_args_has(a, "emergency");
    int64_t to = 0, max = 0, old_id = 0, wait_s = WAIT_DEFAULT_S;
    bool wait_given = false;
    rg_key keys[MAX_SIGNERS];
    size_t n = 0, i;
    json_t *list = NULL, *old = NULL, *meta = NULL, *body = NULL, *rel = NULL,
           *ro = NULL, *plan_v = NULL, *r;
    char notes[RG_CLI_FMT_MAX * 8];
    rg_buf path;
    rg_relmeta m;
    rg_buf_init(&path, 4096);
    int rc = rg__cli_need(cli, a, "channel", &channel);
    if (!rc)
        rc = rg__cli_opt_int(cli, a, "to", 1, MAX_VERSION, &to, NULL);
    if (!rc)
        rc = rg__cli_opt_duration(cli, a, "wait-timeout", &wait_s, &wait_given);
    if (!rc)
        rc = rg__cli_load_keys(cli, a, "signing-key", true, keys, MAX_SIGNERS,
                               &n);
    if (!rc && n == 0)
        rc = rg__cli_usage(cli,
                           "--signing-key KEYFILE is required: the new release "
                           "must be signed");
    if (!rc && (rg_buf_adds(&path, "/v1/releases") ||
                rg_cli_query_add(&path, "channel", channel)))
        rc = rg__cli_usage(cli, "--channel is too long");
    if (!rc)
        rc = rg__cli_list(cli, path.data, "releases", 0, &list);
    json_array_foreach(rc ? NULL : json_object_get(list, "releases"), i, r)
    {
        int64_t v = rg_cli_jint(r, "version");
        max = v > max ? v : max;
        if (v == to)
            old_id = rg_cli_jint(r, "id");
    }
    if (!rc && !old_id) {
        cli->refused = true;
        rc = rg_err_set(&cli->err, RG_ENOTFOUND,
                        "channel '%s' has no version %lld", channel,
                        (long long)to);
    }
    if (!rc)
        rc = rg__cli_callf(cli, "GET", NULL, &old, "/v1/releases/%lld",
                           (long long)old_id);
    if (!rc)
        rc = check_old_content(cli, old, rg_cli_args_get(a, "file"), keys, n);
    if (!rc)
        rc = revert_checks(cli, channel,
                           plan        ? plan
                           : emergency ? "emergency"
                                       : "standard",
                           &plan_v);
    if (rc)
        goto cleanup;
    snprintf(notes, sizeof notes, "revert to %lld: %s", (long long)to,
             reason ? reason : "no reason given");
    memset(&m, 0, sizeof m);
    snprintf(m.channel, sizeof m.channel, "%s", channel);
    m.version = max + 1;
    snprintf(m.sha256, sizeof m.sha256, "%s", rg_cli_jstr(old, "sha256", ""));
    m.size = rg_cli_jint(old, "size");
    rg_sha256_hex(notes, strlen(notes), m.notes_sha256);
    if ((rc = rg__cli_expiry(cli, a, META_EXPIRY_S, &m.expires_ms)) ||
        (rc = rg__cli_release_metadata(cli, &m, keys, n, &meta)))
        goto cleanup;
    body = json_pack("{s:s, s:I, s:s, s:s, s:s, s:O}", "channel", channel,
                     "version", (json_int_t)m.version, "artifact", m.sha256,
                     "notes", notes, "urgency",
                     emergency ? "emergency" : "standard", "metadata", meta);
    if (!body) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = rg__cli_call(cli, "POST", "/v1/releases", body, &rel)) ||
        (rc = wait_preflight(cli, rg_cli_jint(rel, "id"), wait_s, &rel)) ||
        (rc = preflight_refused(cli, rel)))
        goto cleanup;
    json_decref(body);
    body = json_pack("{s:I, s:O}", "release",
                     (json_int_t)rg_cli_jint(rel, "id"), "plan", plan_v);
    if (!body) {
        rc = rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = rg__cli_call(cli, "POST", "/v1/rollouts", body, &ro)))
        goto cleanup;
    if (cli->json) {
        json_t *both = json_pack("{s:O, s:O}", "release", rel, "rollout", ro);
        rc = both ? rg__cli_print_json(cli, both)
                  : rg_err_set(&cli->err, RG_ENOMEM, "out of memory");
        json_decref(both);
    } else {
        fprintf(cli->out,
                "release %lld: channel %s version %lld = version "
                "%lld's content, signed by %zu key(s)\nrollout %lld: %s\n",
                (long long)rg_cli_jint(rel, "id"), channel,
                (long long)m.version, (long long)to, n,
                (long long)rg_cli_jint(ro, "id"),
                rg_cli_jstr(ro, "state", "-"));
    }
cleanup:
    for (i = 0; i < n; i++)
        rg_key_wipe(&keys[i]);
    rg_buf_release(&path);
    json_decref(list);
    json_decref(old);
    json_decref(meta);
    json_decref(body);
    json_decref(rel);
    json_decref(ro);
    json_decref(plan_v);
    return rc;
}

static const char *const create_opts[] = {
    "channel:",        "file:",
    "artifact:",       "version:",
    "notes:",          "urgency:",
    "wait-preflight",  "wait-timeout:",
    "signing-key:",    "sign=signing-key:",
    "metadata:",       "expires-in:",
    "expires-at:",     "activation:",
    "activation-max:", NULL};
static const char *const revert_opts[] = {
    "channel:",  "to:",   "signing-key:",  "key=signing-key:",
    "reason:",   "file:", "expires-in:",   "expires-at:",
    "emergency", "plan:", "wait-timeout:", NULL};
static const char *const list_opts[] = {"channel:", NULL};
static const char *const lift_opts[] = {"reason:", NULL};

const rg_cli_command rg__cli_cmds_release[] = {
    {"release", "create",
     "--channel X --file F --version N --notes \"why\" [--urgency U] "
     "[--wait-preflight [--wait-timeout D]]",
     "upload F and create release N on channel X",
     "  --channel X        the channel\n"
     "  --file F           content to upload (or --artifact SHA256 of an "
     "upload)\n"
     "  --version N        above every version on the channel (1..2^53)\n"
     "  --notes \"why\"      what changes and why (required)\n"
     "  --urgency U        standard (default) or emergency\n"
     "  --wait-preflight   wait until the channel's preflight has run on the\n"
     "                     release (progress on stderr); exit 1 when it\n"
     "                     failed or is still pending after the wait\n"
     "  --wait-timeout D   how long to wait (default 10m)\n"
     "  --signing-key KEY  sign the metadata with this private key (repeat\n"
     "                     for a threshold); needs --file (--sign: its old\n"
     "                     spelling, kept for one release)\n"
     "  --expires-in D     signed metadata lifetime (default 30d), or\n"
     "                     --expires-at YYYY-MM-DDTHH:MM:SSZ\n"
     "  --metadata M.json  attach metadata signed offline (`rollgate sign`)\n"
     "  --activation K     how it becomes active after applying: none\n"
     "                     (default), restart or reboot\n"
     "  --activation-max D the longest plausible applying -> healthy time\n"
     "                     (default 2m none, 10m restart, 30m reboot; <= "
     "24h)\n",
     create_opts, 0, 0, true, release_create},
    {"release", "revert",
     "--channel X --to VERSION --signing-key KEY... [--reason R] [--emergency] "
     "[--plan P] [--wait-timeout D]",
     "ship VERSION's content again as a new signed release and roll it out",
     "  --channel X        the channel\n"
     "  --to VERSION       the version whose content comes back\n"
     "  --signing-key KEY  private keys signing the new release (repeat;\n"
     "                     --key: its old spelling, kept for one release)\n"
     "  --reason R         why (goes into the notes)\n"
     "  --file F           VERSION's content, when its release is unsigned\n"
     "  --expires-in D     signed metadata lifetime (default 30d)\n"
     "  --emergency        emergency urgency and plan (default standard)\n"
     "  --plan P           a plan name or @FILE (JSON) instead\n"
     "  --wait-timeout D   how long to wait for the new release's preflight\n"
     "                     (default 10m); no rollout starts unless it passed\n"
     "  The new release's version is the channel's highest + 1, its notes\n"
     "  \"revert to VERSION: R\"; agents accept it since it is newer.\n"
     "  Nothing is created unless the plan is valid and the channel has no\n"
     "  rollout that is not final (abort or roll it back first).\n",
     revert_opts, 0, 0, true, release_revert},
    {"release", "list", "[--channel X]", "list releases, newest first",
     "  --channel X        only this channel's releases\n", list_opts, 0, 0,
     true, release_list},
    {"release", "show", "ID",
     "show one release with its notes and its preflight result", "", NULL, 1, 1,
     true, release_show},
    {"release", "lift-quarantine", "ID --reason \"...\"",
     "let agents that quarantined the release's digest apply it again",
     "  --reason \"...\"     why (required; kept in the audit log)\n",
     lift_opts, 1, 1, true, release_lift_quarantine},
    {0},
};
