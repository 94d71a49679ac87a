/*
 * main.c - rollgate-agent: the endpoint daemon and its subcommands.
 *
 *   rollgate-agent --config FILE [--insecure] [daemon]  check in, apply,
 * supervise rollgate-agent --config FILE once            one check-in and apply
 * pass rollgate-agent --config FILE run --channel X -- CMD [ARGS...]
 *   rollgate-agent --config FILE guard --channel X
 *   rollgate-agent --config FILE confirm --channel X
 *   rollgate-agent --config FILE status [--json]
 *   rollgate-agent --config FILE unquarantine SHA256
 *   rollgate-agent failpoints
 */
#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"
#include "config.h"
#include "daemon.h"
#include "failpoint.h"
#include "quarantine.h"
#include "rollgate/agent.h"
#include "status.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The synopsis (on a usage error) and, with full, what each command and
 * option does (--help; the man page rollgate-agent(8) is made of it). */
static void usage(FILE *f, bool full)
{
    fprintf(f,
            "usage: rollgate-agent --config FILE [--insecure] [daemon|once]\n"
            "       rollgate-agent --config FILE run --channel NAME -- CMD "
            "[ARGS...]\n"
            "       rollgate-agent --config FILE guard --channel NAME\n"
            "       rollgate-agent --config FILE confirm --channel NAME\n"
            "       rollgate-agent --config FILE status [--json]\n"
            "       rollgate-agent --config FILE unquarantine SHA256\n"
            "       rollgate-agent failpoints | --version\n");
    if (!full)
        return;
    fputs("\n"
          "  daemon        (the default) check in with the server every "
          "interval,\n"
          "                apply what it offers on the configured channels, "
          "run\n"
          "                trials, supervise the consumers; SIGTERM stops it "
          "and\n"
          "                its consumers; SIGHUP reads FILE again and applies "
          "what\n"
          "                can change live (docs/agent.md, \"Reloading the\n"
          "                configuration\"); a broken file changes nothing\n"
          "  once          one check-in and apply pass, then exit (1: the "
          "check-in\n"
          "                failed)\n"
          "  run           supervise CMD as channel NAME's consumer, with no\n"
          "                check-ins: count its starts during a trial, revert "
          "after\n"
          "                K failed ones\n"
          "  guard         count one start of NAME's trial before a "
          "consumer that\n"
          "                the agent does not supervise loads its content "
          "(its\n"
          "                unit's ExecStartPre); reverts after K\n"
          "  confirm       confirm NAME's trial: the consumer works on the "
          "new\n"
          "                content\n"
          "  status        installed releases, trial, quarantine, notices, "
          "outbox\n"
          "                and last server contact (--json: as JSON)\n"
          "  unquarantine  allow the quarantined release of digest SHA256 "
          "again\n"
          "  failpoints    list the compiled-in fail points (tests)\n"
          "  --config FILE the configuration: `key = value` lines and "
          "[channel\n"
          "                NAME] sections (docs/agent.md); only the channels "
          "it\n"
          "                names are installed\n"
          "  --insecure    as `insecure = true`: with no trust root pinned, "
          "apply\n"
          "                releases without verifying signatures "
          "(development)\n"
          "\n"
          "Exit status: 0 done, 1 failed (the reason on stderr), 2 usage or "
          "a\n"
          "configuration file that does not load.\n",
          f);
}

/* Joins argv into one shell command, each word single-quoted. */
static char *shell_join(int argc, char **argv)
{
    rg_buf b;
    rg_buf_init(&b, 64 * 1024);
    int rc = rg_buf_adds(&b, "exec");
    for (int i = 0; rc == 0 && i < argc; i++) {
        rc = rg_buf_adds(&b, " '");
        for (const char *p = argv[i]; rc == 0 && *p; p++)
            rc = *p == '\'' ? rg_buf_adds(&b, "'\\''") : rg_buf_add(&b, p, 1);
        if (rc == 0)
            rc = rg_buf_adds(&b, "'");
    }
    if (rc != 0) {
        rg_buf_release(&b);
        return NULL;
    }
    return rg_buf_detach(&b);
}

int main(int argc, char **argv)
{
    const char *config = NULL, *channel = NULL, *cmd = NULL;
    bool json = false, insecure = false;
    int i = 1, rc = 0, first_cmd_arg = argc;
    char *consumer = NULL;
    rg_agent_config conf;
    rg_err err;
    memset(&conf, 0, sizeof conf);
    rg_err_clear(&err);
    rg_log_init("rollgate-agent", RG_LOG_INFO);
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--channel") == 0 && i + 1 < argc) {
            channel = argv[++i];
        } else if (strcmp(argv[i], "--insecure") == 0) {
            insecure = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("rollgate-agent %s\n", RG_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout, true);
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            first_cmd_arg = i + 1;
            break;
        } else if (argv[i][0] != '-' && !cmd) {
            cmd = argv[i];
        } else if (argv[i][0] != '-' && cmd &&
                   strcmp(cmd, "unquarantine") == 0 && !channel) {
            channel = argv[i]; /* the digest */
        } else {
            usage(stderr, false);
            return 2;
        }
    }
    if (!cmd)
        cmd = "daemon";
    if (strcmp(cmd, "failpoints") == 0) {
        for (const char *const *n = rg_failpoint_names(); *n; n++)
            printf("%s\n", *n);
        return 0;
    }
    if (!rg_failpoint_env_ok()) {
        fprintf(stderr,
                "rollgate-agent: RG_FAILPOINT names no compiled-in point\n");
        return 2;
    }
    if (!config) {
        usage(stderr, false);
        return 2;
    }
    if (rg_crypto_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "rollgate-agent: library initialisation failed\n");
        return 1;
    }
    if ((rc = rg_agent_config_load(config, &conf, &err)) != 0) {
        fprintf(stderr, "rollgate-agent: %s\n", err.msg);
        return 2;
    }
    conf.insecure = conf.insecure || insecure;
    if (conf.log_level)
        rg_log_init("rollgate-agent",
                    (rg_log_level)rg_log_level_parse(conf.log_level));
    char msg[256];
    if (strcmp(cmd, "daemon") == 0 || strcmp(cmd, "once") == 0) {
        rg_daemon_opts o = {.once = strcmp(cmd, "once") == 0,
                            .config_path = config,
                            .insecure = insecure};
        rc = rg_daemon_run(&conf, &o, &err);
    } else if (strcmp(cmd, "run") == 0 && channel && first_cmd_arg < argc) {
        consumer = shell_join(argc - first_cmd_arg, argv + first_cmd_arg);
        rg_daemon_opts o = {.offline = true,
                            .channel = channel,
                            .consumer = consumer,
                            .config_path = config,
                            .insecure = insecure};
        rc = consumer ? rg_daemon_run(&conf, &o, &err) : RG_ENOMEM;
    } else if (strcmp(cmd, "guard") == 0 && channel) {
        int reverted = 0;
        rc = rg_agent_trial_start(conf.state_dir, channel, conf.max_starts,
                                  &reverted, msg, sizeof msg);
        snprintf(err.msg, sizeof err.msg, "%s", msg);
        if (rc == 0)
            printf("channel %s: %s\n", channel, msg);
    } else if (strcmp(cmd, "confirm") == 0 && channel) {
        rc = rg_agent_trial_confirm(conf.state_dir, channel, NULL, msg,
                                    sizeof msg);
        snprintf(err.msg, sizeof err.msg, "%s", msg);
    } else if (strcmp(cmd, "status") == 0) {
        json_t *st = rg_agent_status(conf.state_dir);
        if (!st) {
            rc = rg_err_set(&err, RG_ENOMEM, "out of memory");
        } else if (json) {
            json_dumpf(st, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
            printf("\n");
        } else {
            rg_agent_status_print(stdout, st);
        }
        json_decref(st);
    } else if (strcmp(cmd, "unquarantine") == 0 && channel) {
        rc = rg_quarantine_lift(conf.state_dir, channel, &err);
    } else {
        usage(stderr, false);
        rc = 2;
    }
    if (rc != 0 && rc != 2)
        fprintf(stderr, "rollgate-agent: %s\n", err.msg);
    free(consumer);
    rg_agent_config_release(&conf);
    curl_global_cleanup();
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}
