/*
 * admin_token.h - admin tokens made by rollgated itself, not through the
 * API: the first one (`rollgated init`) and the offline recovery
 * (`rollgated admin-token --data DIR`) for when no usable admin token is
 * left (docs/api.md, "Authentication").
 */
#ifndef RG_ADMIN_TOKEN_H
#define RG_ADMIN_TOKEN_H

#include "common/err.h"
#include "store/store.h"

/* Creates a non-expiring admin token called name in store, audited as
 * token.create by actor "system" with reason, and copies its secret
 * (shown once, 64 hex) into secret. Returns 0 or the store's error. */
int rg_admin_token_issue(rg_store *store, const char *name, const char *reason,
                         char secret[RG_HASH_HEX], rg_err *err);

/* `rollgated admin-token --data DIR [--name NAME]` (argv[0] is
 * "admin-token"): adds an admin token to DIR's existing database while no
 * rollgated runs on it (refused otherwise: the database is claimed,
 * rg_store_claim) and prints it alone on the last line of stdout. Returns
 * the process exit status. */
int rg_admin_token_main(int argc, char **argv);

#endif
