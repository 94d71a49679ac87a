/*
 * auth.h - admin bearer tokens: who is calling, with which role, and the
 * audit record that names them.
 *
 * An admin token is 32 random bytes shown once as 64 lower-case hex digits;
 * the store keeps only its SHA-256 (hex). A request authenticates with
 * `Authorization: Bearer <token>`. Roles are ordered, each including the
 * one before: viewer < operator < admin.
 *
 * Every function is thread-safe.
 */
#ifndef RG_AUTH_H
#define RG_AUTH_H

#include "server/server.h"
#include "store/store.h"

#include <jansson.h>

typedef enum rg_role {
    RG_ROLE_NONE = 0, /* route needs no admin token */
    RG_ROLE_VIEWER = 1,
    RG_ROLE_OPERATOR = 2,
    RG_ROLE_ADMIN = 3,
} rg_role;

/* "viewer", "operator", "admin" ("none" for RG_ROLE_NONE). */
const char *rg_role_name(int role);
/* Inverse of rg_role_name for the three token roles; -1 otherwise. */
int rg_role_parse(const char *name);

/* The authenticated caller, stored in req->auth (owned by the request:
 * freed by the router when the request ends). */
typedef struct rg_caller {
    int64_t token_id;
    char name[RG_NAME_MAX + 1];
    int role; /* rg_role */
} rg_caller;

/* Creates a new secret: secret gets 64 hex digits (32 random bytes), hash
 * its SHA-256 hex, which is what the store keeps. */
void rg_auth_token_new(char secret[RG_HASH_HEX], char hash[RG_HASH_HEX]);

/* Why an authentication failed, for the audit: never the secret. */
typedef struct rg_auth_fail {
    const char *reason; /* static: "missing token", "malformed
                           token", "unknown token", "revoked
                           token", "expired token", ... */
    char target[32];    /* "token:<id>" when the token is known, else "" */
} rg_auth_fail;

/* Authenticates req's bearer token against the store at now_ms and checks
 * it carries at least min_role. The stored hash is compared again in
 * constant time. On success *out receives a malloc'd caller (the caller
 * of this function frees it). Returns 0; RG_EAUTH for a missing,
 * malformed, unknown, expired or revoked token (*why, which may be NULL,
 * says which); RG_EFORBIDDEN when the role is insufficient; RG_EIO for
 * store failures. */
int rg_auth_admin(rg_server *srv, const rg_req *req, int min_role,
                  rg_caller **out, rg_auth_fail *why, rg_err *err);

/* The caller stored in req->auth, or NULL. */
const rg_caller *rg_auth_caller(const rg_req *req);

/* Fills a for an audited action: actor and role from req->auth ("anonymous"
 * and "none" without one), source from req->client, time from srv->clock;
 * action, target and reason are copied (NULL means ""). */
void rg_audit_init(rg_audit_rec *a, const rg_server *srv, const rg_req *req,
                   const char *action, const char *target, const char *reason);

/* Sets a->detail to detail's compact JSON text ("" when detail is NULL or
 * its text does not fit). Takes detail's reference. */
void rg_audit_detail(rg_audit_rec *a, json_t *detail);

#endif
