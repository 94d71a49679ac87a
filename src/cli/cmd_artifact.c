/* cmd_artifact.c - `rollgate artifact upload FILE`: PUT /v1/artifacts. */
#include "cli/cmd.h"
#include "cli/fmt.h"
#include "cli/view.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int rg__cli_upload_file(rg_cli *cli, const char *file, json_t **out)
{
    struct stat st;
    int rc = 0;
    FILE *f = fopen(file, "rb");
    if (!f)
        return rg__cli_usage(cli, "cannot open '%s': %s", file,
                             strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = rg__cli_usage(cli, "'%s' is not a regular file", file);
        goto cleanup;
    }
    rc = rg_cli_http_upload(&cli->http, "/v1/artifacts", f,
                            (uint64_t)st.st_size, out, &cli->err);
    if (rc == 0 && !rg_cli_jstr(*out, "sha256", NULL)) {
        json_decref(*out);
        *out = NULL;
        rc = rg_err_set(&cli->err, RG_EINTERNAL,
                        "the server's answer to the upload has no sha256");
    }
cleanup:
    fclose(f);
    return rc;
}

static int artifact_upload(rg_cli *cli, const rg_cli_args *a)
{
    json_t *res = NULL;
    int rc = rg__cli_upload_file(cli, a->pos[0], &res);
    if (rc)
        goto cleanup;
    if (cli->json) {
        rc = rg__cli_print_json(cli, res);
        goto cleanup;
    }
    char size[RG_CLI_FMT_MAX];
    rg_cli_fmt_size(size, sizeof size, (uint64_t)rg_cli_jint(res, "size"));
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    rg_cli_table_kv(&t, "file", "%s", a->pos[0]);
    rg_cli_table_kv(&t, "sha256", "%s", rg_cli_jstr(res, "sha256", "-"));
    rg_cli_table_kv(&t, "size", "%s (%lld bytes)", size,
                    (long long)rg_cli_jint(res, "size"));
    rc = rg__cli_print_table(cli, &t);
cleanup:
    json_decref(res);
    return rc;
}

const rg_cli_command rg__cli_cmds_artifact[] = {
    {"artifact", "upload", "FILE",
     "upload a file's bytes (content-addressed); prints its sha256 and size",
     "", NULL, 1, 1, true, artifact_upload},
    {0},
};
