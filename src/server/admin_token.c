/* admin_token.c - see admin_token.h. */
#include "server/admin_token.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/datadir.h"
#include "server/server.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int rg_admin_token_issue(rg_store *store, const char *name, const char *reason,
                         char secret[RG_HASH_HEX], rg_err *err)
{
    rg_token_rec t;
    rg_audit_rec audit;
    memset(&t, 0, sizeof t);
    memset(&audit, 0, sizeof audit);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.role, sizeof t.role, "admin");
    snprintf(t.created_by, sizeof t.created_by, "system");
    rg_auth_token_new(secret, t.hash);
    audit.at_ms = rg_clock_now(rg_clock_system());
    t.created_ms = audit.at_ms;
    snprintf(audit.actor, sizeof audit.actor, "system");
    snprintf(audit.role, sizeof audit.role, "system");
    snprintf(audit.action, sizeof audit.action, "token.create");
    snprintf(audit.target, sizeof audit.target, "token"); /* the store: :<id> */
    snprintf(audit.reason, sizeof audit.reason, "%s", reason);
    rg_audit_detail(&audit,
                    json_pack("{s:s,s:s}", "name", t.name, "role", "admin"));
    return rg_store_token_create(store, &t, &audit, err);
}

static const char usage[] =
    "usage: rollgated admin-token --data DIR [--name NAME] [--store URL]\n"
    "  adds a non-expiring admin token (default name \"recovery\") to DIR's\n"
    "  database (or the --store database, docs/store.md) and prints it\n"
    "  alone on the last line; refused while a rollgated serves DIR (stop\n"
    "  it first)\n";

/* Reads --data DIR, --name NAME and --store URL. Returns 0, 1 (--help)
 * or 2. */
static int parse(int argc, char **argv, const char **dir, const char **name,
                 const char **store)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (i + 1 < argc && strcmp(argv[i], "--data") == 0)
            *dir = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
            *name = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--store") == 0)
            *store = argv[++i];
        else {
            fprintf(stderr, "rollgated: admin-token: unknown argument '%s'\n%s",
                    argv[i], usage);
            return 2;
        }
    }
    if (!*dir) {
        fprintf(stderr, "rollgated: admin-token: --data DIR is required\n%s",
                usage);
        return 2;
    }
    return 0;
}

int rg_admin_token_main(int argc, char **argv)
{
    const char *dir = NULL, *name = "recovery", *url = NULL;
    char db[PATH_MAX], secret[RG_HASH_HEX];
    rg_store *store = NULL;
    rg_datadir_lock *lock = NULL;
    rg_err err;
    rg_err_clear(&err);
    int rc = parse(argc, argv, &dir, &name, &url);
    if (rc)
        return rc == 1 ? 0 : rc;
    rg_log_init("rollgated", RG_LOG_WARN);
    if (rg_crypto_init() != 0) {
        fprintf(stderr, "rollgated: cannot initialise libsodium\n");
        return 1;
    }
    if (!*name || strlen(name) > RG_NAME_MAX)
        rg_err_set(&err, RG_EINVAL, "--name must be 1..%d bytes", RG_NAME_MAX);
    else if (rg_server_db_path(dir, db, sizeof db, &err) == 0) {
        if (!url && access(db, F_OK) != 0)
            rg_err_set(&err, RG_ENOTFOUND,
                       "'%s' has no database (rollgated init creates one)",
                       dir);
        else if (rg_datadir_lock_take(dir, &lock, &err) == 0 &&
                 rg_store_open(url ? url : db, &store, &err) == 0 &&
                 rg_admin_token_issue(store, name,
                                      "rollgated admin-token (offline "
                                      "recovery)",
                                      secret, &err) == 0) {
            printf("created admin token \"%s\" (shown once; keep it "
                   "secret):\n%s\n",
                   name, secret);
            fflush(stdout);
            rg_store_close(store);
            rg_datadir_unlock(lock);
            return 0;
        }
    }
    rg_store_close(store);
    rg_datadir_unlock(lock);
    fprintf(stderr, "rollgated: admin-token: %s: %s\n", dir, err.msg);
    return 1;
}
