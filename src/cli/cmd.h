/*
 * cmd.h - the subcommand tables, one per resource file (cmd_*.c). Each is
 * an array of rg_cli_command ended by an entry whose group is NULL; cli.c
 * dispatches over all of them in the order listed here, which is also the
 * order of `rollgate help`. Internal to src/cli.
 */
#ifndef RG_CLI_CMD_H
#define RG_CLI_CMD_H

#include "cli/ctx.h"
#include "trust/relmeta.h"

extern const rg_cli_command rg__cli_cmds_channel[];  /* cmd_channel.c */
extern const rg_cli_command rg__cli_cmds_artifact[]; /* cmd_artifact.c */
extern const rg_cli_command rg__cli_cmds_release[];  /* cmd_release.c */
extern const rg_cli_command rg__cli_cmds_rollout[];  /* cmd_rollout.c */
extern const rg_cli_command rg__cli_cmds_endpoint[]; /* cmd_endpoint.c */
extern const rg_cli_command rg__cli_cmds_audit[];    /* cmd_audit.c */
extern const rg_cli_command rg__cli_cmds_policy[];   /* cmd_policy.c */
extern const rg_cli_command rg__cli_cmds_flag[];     /* cmd_flag.c */
extern const rg_cli_command rg__cli_cmds_token[];    /* cmd_token.c */
extern const rg_cli_command rg__cli_cmds_webhook[];  /* cmd_webhook.c */
extern const rg_cli_command rg__cli_cmds_enroll[];   /* cmd_enroll.c */
extern const rg_cli_command rg__cli_cmds_version[];  /* cmd_version.c */
extern const rg_cli_command rg__cli_cmds_sign[];     /* cmd_sign.c */
extern const rg_cli_command rg__cli_cmds_root[];     /* cmd_root.c */

/* Uploads file with PUT /v1/artifacts; *out is the answer {"sha256",
 * "size"} (new reference). A missing or unreadable file is a usage error.
 * Defined in cmd_artifact.c, used by `release create`. */
int rg__cli_upload_file(rg_cli *cli, const char *file, json_t **out);

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
