/* trust.c - see trust.h. */
#include "trust.h"

#include "common/log.h"
#include "durable.h"
#include "slots.h"
#include "trust/canon.h"

#include <stdio.h>
#include <string.h>

/* dir = STATE/trust. */
static void trust_dir(const char *state_dir, char out[RG_PATH_MAX])
{
    snprintf(out, RG_PATH_MAX, "%s/trust", state_dir);
}

static int store_root(const char *state_dir, const json_t *doc, rg_err *err)
{
    char dir[RG_PATH_MAX];
    trust_dir(state_dir, dir);
    int rc = rg__mkdirs(dir, err);
    return rc ? rc : rg__write_json(dir, "root.json", doc, err);
}

/* Finds the root whose digest is pin among the server's and verifies it. */
static int fetch_pinned(const rg_agent_config *conf, rg_client *client,
                        rg_root *root, rg_err *err)
{
    json_t *resp = NULL, *doc;
    size_t i;
    int rc = RG_ENOTFOUND;
    if (!client)
        return rg_err_set(err, RG_EUNAVAIL,
                          "root_sha256 is pinned but the "
                          "root is not here yet and the agent is offline");
    if ((rc = rg_client_get(client, "/v1/agent/root?after=0", &resp, err)) != 0)
        return rc;
    rc = rg_err_set(err, RG_ENOTFOUND,
                    "the server has no root whose "
                    "root_sha256 is %.16s...",
                    conf->root_sha256);
    json_array_foreach(json_object_get(resp, "roots"), i, doc)
    {
        rg_root r;
        if (rg_root_parse(doc, &r, NULL) != 0 ||
            strcmp(r.digest, conf->root_sha256) != 0)
            continue;
        if ((rc = rg_root_verify_self(doc, root, NULL, err)) == 0)
            rc = store_root(conf->state_dir, doc, err);
        break;
    }
    json_decref(resp);
    return rc;
}

int rg_agent_trust_load(const rg_agent_config *conf, rg_client *client,
                        rg_root *root, bool *pinned, rg_err *err)
{
    char dir[RG_PATH_MAX];
    rg_err e;
    json_t *doc = NULL;
    int rc = 0;
    *pinned = false;
    trust_dir(conf->state_dir, dir);
    doc = rg__read_json(dir, "root.json", &e);
    if (doc) {
        if ((rc = rg_root_verify_self(doc, root, NULL, err)) == 0)
            *pinned = true;
        goto cleanup;
    }
    if (e.code != RG_ENOTFOUND) {
        rc = rg_err_set(err, e.code, "%s", e.msg);
        goto cleanup;
    }
    if (conf->root) {
        char parent[RG_PATH_MAX], *slash;
        snprintf(parent, sizeof parent, "%s", conf->root);
        slash = strrchr(parent, '/');
        const char *name = slash ? slash + 1 : parent;
        if (slash)
            *slash = '\0';
        doc =
            rg__read_json(slash ? (parent[0] ? parent : "/") : ".", name, err);
        if (!doc) {
            rc = err ? err->code : RG_EIO;
            goto cleanup;
        }
        if ((rc = rg_root_verify_self(doc, root, NULL, err)) != 0)
            goto cleanup;
        if (conf->root_sha256 && strcmp(root->digest, conf->root_sha256) != 0) {
            rc = rg_err_set(err, RG_EINVAL,
                            "root '%s' is not the pinned "
                            "root_sha256",
                            conf->root);
            goto cleanup;
        }
        if ((rc = store_root(conf->state_dir, doc, err)) == 0)
            *pinned = true;
    } else if (conf->root_sha256) {
        if ((rc = fetch_pinned(conf, client, root, err)) == 0)
            *pinned = true;
    }
    if (*pinned)
        rg_info(
            "trust: pinned root version %lld (%d of %zu keys, root_sha256 %s)",
            (long long)root->version, root->threshold, root->nkeys,
            root->digest);
cleanup:
    json_decref(doc);
    return rc;
}

int rg_agent_trust_update(const rg_agent_config *conf, rg_client *client,
                          rg_root *root, rg_err *err)
{
    char path[96];
    json_t *resp = NULL, *doc;
    size_t i;
    snprintf(path, sizeof path, "/v1/agent/root?after=%lld",
             (long long)root->version);
    int rc = rg_client_get(client, path, &resp, err);
    if (rc != 0)
        return rc;
    json_array_foreach(json_object_get(resp, "roots"), i, doc)
    {
        rg_root next;
        rg_err e;
        if (rg_root_verify_next(root, doc, &next, NULL, &e) != 0) {
            rg_warn("trust: refusing root rotation: %s", e.msg);
            break;
        }
        if ((rc = store_root(conf->state_dir, doc, err)) != 0)
            break;
        *root = next;
        rg_info("trust: root rotated to version %lld (%d of %zu keys, "
                "root_sha256 %s)",
                (long long)root->version, root->threshold, root->nkeys,
                root->digest);
    }
    json_decref(resp);
    return rc;
}

int rg_agent_trust_mode_write(const char *state_dir, const char *mode,
                              rg_err *err)
{
    char dir[RG_PATH_MAX];
    trust_dir(state_dir, dir);
    json_t *v = json_pack("{ss}", "mode", mode);
    int rc =
        v ? rg__mkdirs(dir, err) : rg_err_set(err, RG_ENOMEM, "out of memory");
    if (rc == 0)
        rc = rg__write_json(dir, "mode.json", v, err);
    json_decref(v);
    return rc;
}

int64_t rg_agent_trust_highest(const char *state_dir, const char *channel)
{
    char dir[RG_PATH_MAX];
    trust_dir(state_dir, dir);
    json_t *h = rg__read_json(dir, "highest.json", NULL);
    json_t *v = json_object_get(h, channel);
    int64_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    json_decref(h);
    return n;
}

int rg_agent_trust_note_applied(const char *state_dir, const char *channel,
                                int64_t version, rg_err *err)
{
    char dir[RG_PATH_MAX];
    int rc = 0;
    trust_dir(state_dir, dir);
    json_t *h = rg__read_json(dir, "highest.json", NULL);
    if (!h)
        h = json_object();
    json_t *v = json_object_get(h, channel);
    if (json_is_integer(v) && json_integer_value(v) >= version)
        goto cleanup;
    if (!h || json_object_set_new(h, channel, json_integer(version)) != 0) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = rg__mkdirs(dir, err)) == 0)
        rc = rg__write_json(dir, "highest.json", h, err);
cleanup:
    json_decref(h);
    return rc;
}
