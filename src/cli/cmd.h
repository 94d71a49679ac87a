/*
 * cmd.h - the subcommand tables, one per resource file (cmd_*.c). Each is
 * an array of rg_cli_command ended by an entry whose group is NULL; cli.c
 * dispatches over all of them in the order listed here, which is also the
 * order of `rollgate help`. Internal to src/cli.
 */
#ifndef RG_CLI_CMD_H
#define RG_CLI_CMD_H

#include "cli/ctx.h"
#include "cli/table.h"
#include "trust/relmeta.h"

extern const rg_cli_command rg__cli_cmds_channel[];  /* cmd_channel.c */
extern const rg_cli_command rg__cli_cmds_artifact[]; /* cmd_artifact.c */
extern const rg_cli_command rg__cli_cmds_release[];  /* cmd_release.c */
extern const rg_cli_command rg__cli_cmds_rollout[];  /* cmd_rollout.c */
extern const rg_cli_command rg__cli_cmds_endpoint[]; /* cmd_endpoint.c */
extern const rg_cli_command rg__cli_cmds_audit[];    /* cmd_audit.c */
extern const rg_cli_command rg__cli_cmds_policy[];   /* cmd_policy.c */
extern const rg_cli_command rg__cli_cmds_flag[];     /* cmd_flag.c */
extern const rg_cli_command
    rg__cli_cmds_flag_rollout[];                    /* cmd_flag_rollout.c */
extern const rg_cli_command rg__cli_cmds_token[];   /* cmd_token.c */
extern const rg_cli_command rg__cli_cmds_webhook[]; /* cmd_webhook.c */
extern const rg_cli_command rg__cli_cmds_enroll[];  /* cmd_enroll.c */
extern const rg_cli_command rg__cli_cmds_version[]; /* cmd_version.c */
extern const rg_cli_command rg__cli_cmds_sign[];    /* cmd_sign.c */
extern const rg_cli_command rg__cli_cmds_root[];    /* cmd_root.c */

/* --- shared by rollouts and flag rollouts (cmd_rollout.c) ------------- */

/* Reads --plan: a built-in name, or @FILE holding a JSON object. *out is
 * a new reference. A bad file is a usage error. */
int rg__cli_read_plan(rg_cli *cli, const char *spec, json_t **out);

/* Prints decision or evaluation d ({"at_ms", "reason", "evidence"}) with
 * the health gate's evidence under the title what. */
int rg__cli_explain_one(rg_cli *cli, const json_t *d, const char *what);

/* Plain words first: the strata the gate holds or halts in evidence ev,
 * then r's "counts", then every stratum's verdict. */
int rg__cli_explain_summary(rg_cli *cli, const json_t *r, const json_t *ev);

/* "/v1/flags[/<escaped name>][suffix][?environment=<env>]" into b (the
 * query, --env's, only with query true; bodies name the environment
 * instead); b is initialised here, the caller releases it. Defined in
 * cmd_flag.c. */
int rg__cli_flag_path(rg_cli *cli, rg_buf *b, const char *name,
                      const char *suffix, bool query, const rg_cli_args *a);

/* Uploads file with PUT /v1/artifacts; *out is the answer {"sha256",
 * "size"} (new reference). A missing or unreadable file is a usage error.
 * Defined in cmd_artifact.c, used by `release create`. */
int rg__cli_upload_file(rg_cli *cli, const char *file, json_t **out);

/* --- flags (cmd_flag.c, cmd_segment.c; docs/flags.md) ---------------- */

/* A body {"reason", "environment"?} from --reason (required) and --env
 * into *out (new reference), for the caller to add its fields to. */
int rg__cli_flag_change_body(rg_cli *cli, const rg_cli_args *a, json_t **out);

/* Adds to t the "changed" and "reason" rows of v (a flag or segment
 * answer) and a row per version of its "history", each saying yes or no
 * by the history entry's boolean key. */
void rg__cli_flag_versions(rg_cli *cli, rg_cli_table *t, const json_t *v,
                           const char *key, const char *yes, const char *no);

/* `rollgate flag segment create|update|list|show|delete [NAME]`. */
#define RG__CLI_SEGMENT_SYNOPSIS                                               \
    "create|update|list|show|delete [NAME] [--file F] [--reason R] [--env E]"
#define RG__CLI_SEGMENT_HELP                                                   \
    "  create NAME --file F --reason R   F: {\"constraints\": [...], "         \
    "\"description\"?}\n"                                                      \
    "  update NAME --file F --reason R   a new version\n"                      \
    "  delete NAME --reason R            refused while a flag names it\n"      \
    "  list | show NAME                  show: every version and reason\n"     \
    "  --env E            the environment (default: default)\n"
extern const char *const rg__cli_segment_opts[];
int rg__cli_flag_segment(rg_cli *cli, const rg_cli_args *a);

/* --- offline signing helpers (cmd_sign.c, docs/signing.md) ------------ */

/* Loads every --opt key file (at most max) into keys, *n of them; with
 * need_secret a public key file is a usage error. Returns 0 or an error
 * with cli->err set (a bad file is a usage error). */
int rg__cli_load_keys(rg_cli *cli, const rg_cli_args *a, const char *opt,
                      bool need_secret, rg_key *keys, size_t max, size_t *n);

/* The sha256 and size of the file at path (a missing file is a usage
 * error). */
int rg__cli_file_digest(rg_cli *cli, const char *path, char sha[65],
                        int64_t *size);

/* The metadata expiry from --expires-in D or --expires-at T (default:
 * default_s seconds from now) into *expires_ms. */
int rg__cli_expiry(rg_cli *cli, const rg_cli_args *a, int64_t default_s,
                   int64_t *expires_ms);

/* Reads a JSON object file (at most 1 MiB) into *out (new reference). */
int rg__cli_read_json_file(rg_cli *cli, const char *path, json_t **out);

/* Writes doc (indented, sorted keys) to path atomically, or to cli->out
 * when path is NULL or "-". */
int rg__cli_write_json_file(rg_cli *cli, const char *path, const json_t *doc);

/* Builds m's metadata document signed by the n keys into *doc (new
 * reference). */
int rg__cli_release_metadata(rg_cli *cli, const rg_relmeta *m,
                             const rg_key *keys, size_t n, json_t **doc);

#endif
