/* cli.c - see cli.h: dispatch from the command words to a cmd_*.c table
 * entry, help, configuration, and the one-line error. */
#include "cli.h"

#include "cli/cmd.h"
#include "cli/config.h"
#include "common/clock.h"

#include <stdlib.h>
#include <string.h>

static const rg_cli_command *const tables[] = {
    rg__cli_cmds_channel, rg__cli_cmds_artifact,     rg__cli_cmds_release,
    rg__cli_cmds_rollout, rg__cli_cmds_policy,       rg__cli_cmds_endpoint,
    rg__cli_cmds_audit,   rg__cli_cmds_token,        rg__cli_cmds_enroll,
    rg__cli_cmds_version, rg__cli_cmds_sign,         rg__cli_cmds_root,
    rg__cli_cmds_flag,    rg__cli_cmds_flag_rollout, rg__cli_cmds_webhook,
};
#define N_TABLES (sizeof tables / sizeof tables[0])
#define MAX_SPECS 64

static const char *const global_opts[] = {
    "server:", "token:", "config:", "ca-file:", "json", "help", NULL};

static const char global_help[] =
    "global options:\n"
    "  --server URL       server (else $ROLLGATE_URL, the config "
    "file, " RG_CLI_DEFAULT_URL ")\n"
    "  --token T          API token (else $ROLLGATE_TOKEN, the config file)\n"
    "  --config FILE      config file with 'server = ...', 'token = ...' "
    "lines\n"
    "                     (else $ROLLGATE_CONFIG, ~/.config/rollgate/config)\n"
    "  --ca-file FILE     verify an https server against the CA certificates\n"
    "                     in FILE (else $ROLLGATE_CA_FILE, 'ca_file = ...')\n"
    "  --json             print the server's JSON instead of tables\n"
    "  --help             usage of any command\n";

static const char exit_help[] =
    "exit status: 0 ok, 1 the server refused, 2 usage error, 3 the server is\n"
    "unreachable or failing; failures print one line on stderr.\n";

int rg_cli_exit_status(int code, long http_status, bool usage)
{
    if (code == RG_OK)
        return RG_CLI_EXIT_OK;
    if (usage)
        return RG_CLI_EXIT_USAGE;
    if (http_status >= 400 && http_status < 500)
        return RG_CLI_EXIT_REFUSED;
    return RG_CLI_EXIT_UNAVAILABLE;
}

/* Appends s with control characters replaced by spaces. */
static int add_clean(rg_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char ch = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        if (rg_buf_add(out, &ch, 1))
            return RG_ETOOBIG;
    }
    return 0;
}

int rg_cli_error_line(rg_buf *out, const char *command, const char *code,
                      const char *msg, const char *field)
{
    int rc = rg_buf_adds(out, "rollgate: ");
    if (!rc && command && *command) {
        rc = add_clean(out, command);
        if (!rc)
            rc = rg_buf_adds(out, ": ");
    }
    if (!rc)
        rc = add_clean(out, code);
    if (!rc)
        rc = rg_buf_adds(out, ": ");
    if (!rc)
        rc = add_clean(out, msg && *msg ? msg : "failed");
    if (!rc && field && *field) {
        rc = rg_buf_adds(out, " (field: ");
        if (!rc)
            rc = add_clean(out, field);
        if (!rc)
            rc = rg_buf_adds(out, ")");
    }
    if (!rc)
        rc = rg_buf_adds(out, "\n");
    return rc;
}

/* Writes "command words" of c into out. */
static void command_name(const rg_cli_command *c, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", c->group, c->verb ? " " : "",
             c->verb ? c->verb : "");
}

/* Prints `rollgate help`. Returns 0 or negative with cli->err set. */
static int print_main_help(rg_cli *cli)
{
    FILE *out = cli->out;
    rg_cli_table t;
    rg_cli_table_init_kv(&t);
    for (size_t i = 0; i < N_TABLES; i++) {
        for (const rg_cli_command *c = tables[i]; c->group; c++) {
            char name[64];
            command_name(c, name, sizeof name);
            rg_cli_table_cellf(&t, "  %s", name);
            rg_cli_table_cell(&t, c->summary);
        }
    }
    fprintf(out,
            "rollgate %s - ship changes to fleets in waves\n\n"
            "usage: rollgate [global options] COMMAND [arguments]\n\n"
            "commands:\n",
            RG_VERSION);
    int rc = rg_cli_table_print(&t, out);
    rg_cli_table_release(&t);
    fprintf(out,
            "\n%s\n'rollgate COMMAND --help' shows a command's "
            "arguments.\n%s",
            global_help, exit_help);
    return rc ? rg_err_set(&cli->err, rc, "cannot print the help") : 0;
}

static void print_command_help(FILE *out, const rg_cli_command *c)
{
    char name[64];
    command_name(c, name, sizeof name);
    fprintf(out, "usage: rollgate %s%s%s\n\n%s\n", name,
            c->synopsis[0] ? " " : "", c->synopsis, c->summary);
    if (c->details[0])
        fprintf(out, "\n%s", c->details);
    fprintf(out, "\n%s", global_help);
}

static void print_group_help(FILE *out, const char *group)
{
    fprintf(out, "usage:\n");
    for (size_t i = 0; i < N_TABLES; i++) {
        for (const rg_cli_command *c = tables[i]; c->group; c++) {
            if (strcmp(c->group, group) == 0)
                fprintf(out, "  rollgate %s %s %s\n      %s\n", c->group,
                        c->verb, c->synopsis, c->summary);
        }
    }
    fprintf(out, "\n%s", global_help);
}

/* True when some command belongs to group. */
static bool group_exists(const char *group)
{
    for (size_t i = 0; i < N_TABLES; i++)
        for (const rg_cli_command *c = tables[i]; c->group; c++)
            if (strcmp(c->group, group) == 0)
                return true;
    return false;
}

/* The command named by words[0..n) (n is 1 or 2); *used gets how many
 * words name it. NULL when there is none. */
static const rg_cli_command *find_command(const char *const *words, size_t n,
                                          size_t *used)
{
    for (size_t i = 0; i < N_TABLES; i++) {
        for (const rg_cli_command *c = tables[i]; c->group; c++) {
            if (strcmp(c->group, words[0]) != 0)
                continue;
            if (!c->verb) {
                *used = 1;
                return c;
            }
            if (n >= 2 && strcmp(c->verb, words[1]) == 0) {
                *used = 2;
                return c;
            }
        }
    }
    return NULL;
}

/* Verbs of group, "create|list|show", into out. */
static void group_verbs(const char *group, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_TABLES; i++) {
        for (const rg_cli_command *c = tables[i]; c->group; c++) {
            if (strcmp(c->group, group) != 0 || !c->verb)
                continue;
            int w = snprintf(out + used, n - used, "%s%s", used ? "|" : "",
                             c->verb);
            if (w < 0 || (size_t)w >= n - used)
                return;
            used += (size_t)w;
        }
    }
}

static bool in_spec(const char *const *spec, const char *name)
{
    size_t len = strlen(name);
    for (; spec && *spec; spec++)
        if (strncmp(*spec, name, len) == 0 &&
            ((*spec)[len] == '\0' || (*spec)[len] == ':' ||
             (*spec)[len] == '='))
            return true;
    return false;
}

/* `rollgate help [WORDS]`. Returns 0 or a usage error. */
static int help(rg_cli *cli, const rg_cli_args *a)
{
    if (a->n_pos < 2)
        return print_main_help(cli);
    size_t used;
    const rg_cli_command *c = find_command(a->pos + 1, a->n_pos - 1, &used);
    if (c) {
        print_command_help(cli->out, c);
        return 0;
    }
    if (group_exists(a->pos[1])) {
        print_group_help(cli->out, a->pos[1]);
        return 0;
    }
    cli->command = "help";
    return rg__cli_usage(cli, "unknown command '%s' (try 'rollgate help')",
                         a->pos[1]);
}

/* Resolves the command, its arguments and the configuration, then runs
 * it (or prints help or the version instead). name (name_n bytes) receives
 * the command words for the error line. Returns 0 or negative with
 * cli->err (and cli->usage) set. */
static int dispatch(rg_cli *cli, int argc, char **argv, char *name,
                    size_t name_n)
{
    const char *const *specs[MAX_SPECS];
    size_t n_specs = 0;
    rg_cli_args all, sub;
    rg_cli_config cfg;
    int rc;
    specs[n_specs++] = global_opts;
    for (size_t i = 0; i < N_TABLES; i++) {
        for (const rg_cli_command *c = tables[i]; c->group; c++) {
            if (n_specs == MAX_SPECS)
                return rg_err_set(&cli->err, RG_EINTERNAL,
                                  "more than %d commands: raise MAX_SPECS",
                                  MAX_SPECS - 1);
            specs[n_specs++] = c->opts;
        }
    }

    /* `--version` alone: `release create --version N` owns the name. */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        fprintf(cli->out, "rollgate %s\n", RG_VERSION);
        return 0;
    }
    rg_cli_args_init(&all);
    all.as_typed = true; /* an alias means what the command says */
    rc = rg_cli_args_parse(&all, specs, n_specs, argc - 1, argv + 1, &cli->err);
    if (rc)
        return rg__cli_usage(cli, "%s (try 'rollgate help')", cli->err.msg);
    bool want_help = rg_cli_args_has(&all, "help");
    if (all.n_pos == 0 && want_help)
        return print_main_help(cli);
    if (all.n_pos == 0)
        return rg__cli_usage(cli, "missing command (try 'rollgate help')");
    if (strcmp(all.pos[0], "help") == 0)
        return help(cli, &all);
    size_t used = 0;
    const rg_cli_command *cmd = find_command(all.pos, all.n_pos, &used);
    if (!cmd && group_exists(all.pos[0])) {
        if (want_help) {
            print_group_help(cli->out, all.pos[0]);
            return 0;
        }
        char verbs[128];
        group_verbs(all.pos[0], verbs, sizeof verbs);
        snprintf(name, name_n, "%s", all.pos[0]);
        cli->command = name;
        if (all.n_pos < 2)
            return rg__cli_usage(cli, "missing subcommand: rollgate %s %s",
                                 all.pos[0], verbs);
        return rg__cli_usage(cli, "unknown subcommand '%s' (one of %s)",
                             all.pos[1], verbs);
    }
    if (!cmd)
        return rg__cli_usage(cli, "unknown command '%s' (try 'rollgate help')",
                             all.pos[0]);
    command_name(cmd, name, name_n);
    cli->command = name;
    if (want_help) {
        print_command_help(cli->out, cmd);
        return 0;
    }
    for (size_t i = 0; i < all.n_opts; i++) {
        char opt[64];
        snprintf(opt, sizeof opt, "%.*s", (int)all.opt_name_len[i],
                 all.opt_name[i]);
        if (!in_spec(global_opts, opt) && !in_spec(cmd->opts, opt))
            return rg__cli_usage(cli,
                                 "option '--%s' does not apply here (see "
                                 "'rollgate %s --help')",
                                 opt, name);
    }
    /* Again with the command's own options: its aliases resolved. */
    const char *const *own[] = {global_opts, cmd->opts};
    rg_cli_args_init(&sub);
    rc = rg_cli_args_parse(&sub, own, 2, argc - 1, argv + 1, &cli->err);
    if (rc)
        return rg__cli_usage(cli, "%s", cli->err.msg);
    sub.n_pos = all.n_pos - used;
    memmove(sub.pos, all.pos + used, sub.n_pos * sizeof sub.pos[0]);
    if (sub.n_pos < cmd->pos_min || sub.n_pos > cmd->pos_max)
        return rg__cli_usage(cli, "%s; usage: rollgate %s %s",
                             sub.n_pos < cmd->pos_min ? "missing argument"
                                                      : "too many arguments",
                             name, cmd->synopsis);

    rg_cli_config_in in = {
        .flag_url = rg_cli_args_get(&all, "server"),
        .flag_token = rg_cli_args_get(&all, "token"),
        .flag_config = rg_cli_args_get(&all, "config"),
        .flag_ca = rg_cli_args_get(&all, "ca-file"),
        .env_ca = getenv("ROLLGATE_CA_FILE"),
        .env_url = getenv("ROLLGATE_URL"),
        .env_token = getenv("ROLLGATE_TOKEN"),
        .env_config = getenv("ROLLGATE_CONFIG"),
        .home = getenv("HOME"),
    };
    if (rg_cli_config_resolve(&in, &cfg, &cli->err))
        return rg__cli_usage(cli, "%s", cli->err.msg);
    if (cmd->needs_token && !cfg.token[0])
        return rg__cli_usage(cli, "no token: give --token, set ROLLGATE_TOKEN, "
                                  "or put 'token = ...' in the config file");
    rc = rg_cli_http_init(&cli->http, cfg.url, cfg.token, &cli->err);
    if (!rc && cfg.ca_file[0])
        rc = rg_cli_http_set_ca(&cli->http, cfg.ca_file, &cli->err);
    if (rc)
        return rc;
    cli->json = rg_cli_args_has(&all, "json");
    cli->now_ms = rg_clock_now(rg_clock_system());
    return cmd->run(cli, &sub);
}

int rg_cli_run(int argc, char **argv, FILE *out, FILE *errout)
{
    rg_cli cli;
    char name[64] = "";
    memset(&cli, 0, sizeof cli);
    cli.out = out;
    rg_err_clear(&cli.err);
    int rc = dispatch(&cli, argc, argv, name, sizeof name);
    long status = cli.http.status;
    rg_cli_http_release(&cli.http);
    if (fflush(out) != 0 && rc == 0)
        rc = rg_err_set(&cli.err, RG_EIO, "cannot write the output");
    if (rc == 0)
        return RG_CLI_EXIT_OK;
    rg_buf line;
    rg_buf_init(&line, 4096);
    if (rg_cli_error_line(&line, cli.command,
                          cli.usage ? "usage" : rg_code_name(cli.err.code),
                          cli.err.msg, cli.err.field) == 0)
        fputs(line.data, errout);
    rg_buf_release(&line);
    if (cli.refused && !cli.usage)
        return RG_CLI_EXIT_REFUSED;
    return rg_cli_exit_status(rc, status, cli.usage);
}
