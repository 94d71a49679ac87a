/*
 * cmd.h - the subcommand tables, one per resource file (cmd_*.c). Each is
 * an array of rg_cli_command ended by an entry whose group is NULL; cli.c
 * dispatches over all of them in the order listed here, which is also the
 * order of `rollgate help`. Internal to src/cli.
 */
#ifndef RG_CLI_CMD_H
#define RG_CLI_CMD_H

#include "cli/ctx.h"

extern const rg_cli_command rg__cli_cmds_channel[];  /* cmd_channel.c */
extern const rg_cli_command rg__cli_cmds_artifact[]; /* cmd_artifact.c */
extern const rg_cli_command rg__cli_cmds_release[];  /* cmd_release.c */
extern const rg_cli_command rg__cli_cmds_rollout[];  /* cmd_rollout.c */
extern const rg_cli_command rg__cli_cmds_endpoint[]; /* cmd_endpoint.c */
extern const rg_cli_command rg__cli_cmds_audit[];    /* cmd_audit.c */
extern const rg_cli_command rg__cli_cmds_policy[];   /* cmd_policy.c */
extern const rg_cli_command rg__cli_cmds_token[];    /* cmd_token.c */
extern const rg_cli_command rg__cli_cmds_enroll[];   /* cmd_enroll.c */
extern const rg_cli_command rg__cli_cmds_version[];  /* cmd_version.c */

/* Uploads file with PUT /v1/artifacts; *out is the answer {"sha256",
 * "size"} (new reference). A missing or unreadable file is a usage error.
 * Defined in cmd_artifact.c, used by `release create`. */
int rg__cli_upload_file(rg_cli *cli, const char *file, json_t **out);

#endif
