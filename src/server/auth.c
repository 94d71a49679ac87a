/* auth.c - see auth.h. */
#include "auth.h"

#include "common/clock.h"
#include "common/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

const char *rg_role_name(int role)
{
    if (role < RG_ROLE_NONE || role > RG_ROLE_ADMIN)
        return "none";
    return role_names[role];
}

int rg_role_parse(const char *name)
{
    for (int r = RG_ROLE_VIEWER; r <= RG_ROLE_ADMIN; r++)
        if (strcmp(name, role_names[r]) == 0)
            return r;
    return -1;
}

void rg_auth_token_new(char secret[RG_HASH_HEX], char hash[RG_HASH_HEX])
{
    rg_random_hex(secret, 32);
    rg_sha256_hex(secret, 64, hash);
}

/* Records why into *why (may be NULL) about token t (NULL: none known)
 * and returns RG_EAUTH with msg. */
static int fail(rg_auth_fail *why, const char *reason, const rg_token_rec *t,
                rg_err *err, const char *msg)
{
    if (why) {
        why->reason = reason;
        why->target[0] = '\0';
        if (t)
            snprintf(why->target, sizeof why->target, "token:%lld",
                     (long long)t->id);
    }
    return rg_err_set(err, RG_EAUTH, "%s", msg);
}

/* Extracts the token of "Bearer <64 hex>" into tok. Returns 0 or RG_EAUTH. */
static int bearer(const rg_req *req, char tok[RG_HASH_HEX], rg_auth_fail *why,
                  rg_err *err)
{
    const char *h = rg_req_header(req, "Authorization");
    if (!h)
        return fail(why, "missing token", NULL, err, "missing bearer token");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return fail(why, "not a bearer token", NULL, err,
                    "authorization is not a bearer token");
    h += 7;
    while (*h == ' ')
        h++;
    if (strlen(h) != 64 || !rg_sha256_hex_valid(h))
        return fail(why, "malformed token", NULL, err,
                    "malformed bearer token");
    memcpy(tok, h, 65);
    return 0;
}

int rg_auth_admin(rg_server *srv, const rg_req *req, int min_role,
                  rg_caller **out, rg_auth_fail *why, rg_err *err)
{
    char tok[RG_HASH_HEX], hash[RG_HASH_HEX], msg[160];
    rg_token_rec t;
    int rc = bearer(req, tok, why, err);
    if (rc != 0)
        return rc;
    rg_sha256_hex(tok, 64, hash);
    sodium_memzero(tok, sizeof tok);
    rc = rg_store_token_find(srv->store, hash, &t, err);
    if (rc == RG_ENOTFOUND)
        return fail(why, "unknown token", NULL, err, "unknown token");
    if (rc != 0)
        return rc;
    /* The store found it by hash; compare again without timing leaks so
     * no lookup strategy of a backend can turn into an oracle. */
    if (!rg_ct_streq(t.hash, hash))
        return fail(why, "unknown token", NULL, err, "unknown token");
    int64_t now = rg_clock_now(srv->clock);
    if (t.revoked_ms != 0) {
        snprintf(msg, sizeof msg, "token '%s' is revoked", t.name);
        return fail(why, "revoked token", &t, err, msg);
    }
    if (t.expires_ms != 0 && now >= t.expires_ms) {
        snprintf(msg, sizeof msg, "token '%s' has expired", t.name);
        return fail(why, "expired token", &t, err, msg);
    }
    int role = rg_role_parse(t.role);
    if (role < 0) {
        snprintf(msg, sizeof msg, "token '%s' has no valid role", t.name);
        return fail(why, "token without a valid role", &t, err, msg);
    }
    if (role < min_role)
        return rg_err_set(err, RG_EFORBIDDEN, "token '%s' is %s; this needs %s",
                          t.name, t.role, rg_role_name(min_role));
    rg_caller *c = calloc(1, sizeof *c);
    if (!c)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    c->token_id = t.id;
    snprintf(c->name, sizeof c->name, "%s", t.name);
    c->role = role;
    *out = c;
    return 0;
}

const rg_caller *rg_auth_caller(const rg_req *req)
{
    return req->auth;
}

void rg_audit_init(rg_audit_rec *a, const rg_server *srv, const rg_req *req,
                   const char *action, const char *target, const char *reason)
{
    const rg_caller *c = req ? rg_auth_caller(req) : NULL;
    memset(a, 0, sizeof *a);
    a->at_ms = rg_clock_now(srv->clock);
    snprintf(a->actor, sizeof a->actor, "%s", c ? c->name : "anonymous");
    snprintf(a->role, sizeof a->role, "%s", c ? rg_role_name(c->role) : "none");
    snprintf(a->action, sizeof a->action, "%s", action ? action : "");
    snprintf(a->target, sizeof a->target, "%s", target ? target : "");
    snprintf(a->reason, sizeof a->reason, "%s", reason ? reason : "");
    snprintf(a->source, sizeof a->source, "%s",
             req && req->client ? req->client : "");
}

void rg_audit_detail(rg_audit_rec *a, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    a->detail[0] = '\0';
    if (text && strlen(text) < sizeof a->detail)
        memcpy(a->detail, text, strlen(text) + 1);
    free(text);
    json_decref(detail);
}
