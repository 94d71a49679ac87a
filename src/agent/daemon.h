/*
 * daemon.h - the agent's main loop: check-ins (interval with +-20%
 * jitter, capped exponential backoff while the server is unreachable),
 * the apply pipeline of every channel, trial checks, and the supervised
 * consumers. Single-threaded; sleeps in poll(2) on a self-pipe woken by
 * SIGCHLD/SIGTERM/SIGINT/SIGHUP, so it never busy-loops; SIGTERM stops the
 * consumers and returns; SIGHUP reads the configuration file again
 * (reload.h) between two passes of the loop.
 */
#ifndef RG_AGENT_DAEMON_H
#define RG_AGENT_DAEMON_H

#include "config.h"

#include <stdbool.h>

typedef struct rg_daemon_opts {
    bool offline;            /* `run`: no check-ins, only supervise + trial */
    bool once;               /* one check-in and apply pass, then return */
    const char *channel;     /* `run`: the one channel to supervise */
    const char *consumer;    /* `run`: command overriding the config's */
    const char *config_path; /* read again on SIGHUP (reload.h); NULL:
                                SIGHUP is ignored */
    bool insecure;           /* --insecure was given (kept on a reload) */
} rg_daemon_opts;

/* Runs until SIGTERM/SIGINT (or one pass with opts->once); conf is
 * changed in place by a reload (the caller still releases it). Returns 0 on a
 * clean stop, or an rg_code when the state directory is unusable (or, with
 * opts->once, when the check-in failed). */
int rg_daemon_run(rg_agent_config *conf, const rg_daemon_opts *opts,
                  rg_err *err);

/* Jitters ms by a uniformly random factor in [0.8, 1.2]. */
int64_t rg_jitter(int64_t ms);

/* Backoff after n consecutive failures: 1 s * 2^(n-1), capped at cap_ms. */
int64_t rg_backoff(int n, int64_t cap_ms);

#endif
