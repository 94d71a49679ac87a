/* daemon.c - see daemon.h. */
#include "daemon.h"
#include "reload.h"

#include "checkin.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "consumer.h"
#include "durable.h"
#include "flags/parse.h"
#include "flagstate.h"
#include "outbox.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CH (RG_AGENT_MAX_CHANNELS + RG_CHECKIN_MAX_DESIRED)
#define TICK_MS                                                                \
    1000            /* trial and consumer checks while something is on trial   \
                     */
#define FOLLOWUPS 3 /* quick check-ins in a row to deliver fresh events */
#define BUSY_TICK_MS                                                           \
    250 /* supervision while a transfer runs, at most this often */

typedef struct channel {
    rg_slots slots;
    rg_consumer consumer;
    bool has_consumer;
    bool has_desired;
    rg_desired desired;
} channel;

typedef struct agentd {
    rg_agent_config *conf; /* reloaded in place (reload.h) */
    const rg_daemon_opts *opts;
    rg_outbox outbox;
    rg_client client;
    json_t *notices;
    channel ch[MAX_CH];
    size_t nch;
    int failures, followups;
    int64_t interval_ms, next_checkin;
    int64_t busy_tick; /* monotonic ms of the last tick during a transfer */
    rg_root root;
    enum { TRUST_INSECURE, TRUST_PINNED, TRUST_PENDING, TRUST_REFUSING } trust;
    bool has_flags; /* flags_environment is configured */
    rg_flagstate flags;
    char flags_refused[256]; /* the server's last refusal, logged once */
} agentd;

static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGTERM || sig == SIGINT)
        stop_requested = 1;
    if (sig == SIGHUP)
        reload_requested = 1;
    if (write(wake_pipe[1], "x", 1) < 0) {
        /* pipe full: a wake-up is already pending */
    }
    errno = saved;
}

int64_t rg_jitter(int64_t ms)
{
    double f = 0.8 + 0.4 * ((double)randombytes_uniform(1000001) / 1e6);
    return (int64_t)((double)ms * f);
}

int64_t rg_backoff(int n, int64_t cap_ms)
{
    int64_t ms = 1000;
    for (int i = 1; i < n && ms < cap_ms; i++)
        ms *= 2;
    return ms < cap_ms ? ms : cap_ms;
}

/* The open channel name, or NULL. */
static channel *open_channel(agentd *d, const char *name)
{
    for (size_t i = 0; i < d->nch; i++)
        if (strcmp(d->ch[i].slots.name, name) == 0)
            return &d->ch[i];
    return NULL;
}

static channel *find_channel(agentd *d, const char *name, rg_err *err)
{
    channel *open = open_channel(d, name);
    if (open)
        return open;
    if (d->nch == MAX_CH) {
        rg_err_set(err, RG_ETOOBIG, "too many channels");
        return NULL;
    }
    channel *c = &d->ch[d->nch];
    memset(c, 0, sizeof *c);
    if (rg_slots_open(&c->slots, d->conf->state_dir, name, err) != 0)
        return NULL;
    d->nch++;
    return c;
}

static rg_trial_env trial_env(agentd *d, channel *c)
{
    return (rg_trial_env){d->conf->state_dir, &c->slots, &d->outbox,
                          d->conf->max_starts, NULL};
}

static rg_apply_env apply_env(agentd *d)
{
    return (rg_apply_env){d->conf,
                          &d->outbox,
                          d->opts->offline ? NULL : &d->client,
                          d->notices,
                          rg_clock_now(rg_clock_system()),
                          d->trust == TRUST_PINNED ? &d->root : NULL};
}

/* Prepares open channel c: its consumer (the configured one, or run's),
 * then its slots reconciled and its trial judged. Returns 0 or an rg_code. */
static int setup_channel(agentd *d, channel *c, rg_err *err)
{
    rg_trial_env te = trial_env(d, c);
    const rg_agent_channel_conf *cc =
        rg_agent_config_channel(d->conf, c->slots.name);
    const char *cmd = d->opts->consumer ? d->opts->consumer
                      : cc              ? cc->consumer
                                        : NULL;
    if (cmd && !d->opts->once) {
        rg_consumer_init(&c->consumer, cmd, &c->slots);
        c->consumer.flags = d->has_flags ? d->flags.active : NULL;
        c->has_consumer = true;
    }
    int rc = rg_slots_lock(&c->slots, err);
    if (rc == 0)
        rc = rg_slots_reconcile(&c->slots, err);
    if (rc == 0)
        rc = rg_trial_reconcile(&te, rg_clock_now(rg_clock_system()), err);
    rg_slots_unlock(&c->slots);
    return rc;
}

/* Startup: open and reconcile every configured channel. */
static int setup_channels(agentd *d, rg_err *err)
{
    for (size_t i = 0; i < d->conf->nchannels; i++) {
        const rg_agent_channel_conf *cc = &d->conf->channels[i];
        if (d->opts->channel && strcmp(cc->name, d->opts->channel) != 0)
            continue;
        if (!find_channel(d, cc->name, err))
            return err->code;
    }
    if (d->opts->channel && !find_channel(d, d->opts->channel, err))
        return err->code;
    for (size_t i = 0; i < d->nch; i++) {
        int rc = setup_channel(d, &d->ch[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* SIGHUP: the configuration file again (reload.h). A channel section it
 * adds is opened like those at start and installed from the next
 * check-in on; a shorter interval is due from now. */
static void reload(agentd *d)
{
    rg_err e;
    size_t added = 0;
    int64_t interval = d->conf->interval_ms;
    rg_err_clear(&e);
    if (rg_agent_reload(d->conf, d->opts->config_path, d->opts->insecure,
                        !d->opts->offline, &added, &e) != 0)
        return;
    for (size_t i = d->conf->nchannels - added; i < d->conf->nchannels; i++) {
        const char *name = d->conf->channels[i].name;
        channel *c = find_channel(d, name, &e);
        if (!c || setup_channel(d, c, &e) != 0)
            rg_error("reload: channel '%s': %s", name, e.msg);
    }
    int64_t now = rg_monotonic_ms();
    if (d->conf->interval_ms != interval && d->conf->interval_ms > 0 &&
        d->next_checkin > now + d->conf->interval_ms)
        d->next_checkin = now + rg_jitter(d->conf->interval_ms);
    if (added > 0)
        d->next_checkin = now;
}

/* A consumer that ran on the flag set on trial crashed: counted, and at
 * K the last known good set comes back (reported at the next check-in,
 * which is brought forward). */
static void flags_crashed(agentd *d, const channel *c, int st)
{
    char detail[96];
    bool reverted = false;
    rg_err e;
    if (!d->has_flags || !d->flags.trial[0] ||
        strcmp(c->consumer.loaded_flags, d->flags.trial) != 0)
        return;
    snprintf(detail, sizeof detail, "channel '%s': consumer %s %d",
             c->slots.name, WIFEXITED(st) ? "exited" : "killed by signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    if (rg_flagstate_crashed(&d->flags, d->conf->max_starts, detail,
                             rg_clock_now(rg_clock_system()), &reverted,
                             &e) != 0)
        rg_error("flags: %s", e.msg);
    if (reverted)
        d->next_checkin = rg_monotonic_ms();
}

static void reap(agentd *d)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < d->nch; i++) {
            channel *c = &d->ch[i];
            if (!c->has_consumer || c->consumer.pid != pid)
                continue;
            rg_err e;
            rg_trial_env te = trial_env(d, c);
            bool crash = !c->consumer.stopping;
            if (rg_consumer_exited(&c->consumer, &te, st, rg_monotonic_ms(),
                                   rg_clock_now(rg_clock_system()), &e) != 0)
                rg_error("channel '%s': %s", c->slots.name, e.msg);
            if (crash)
                flags_crashed(d, c, st);
        }
    }
}

/* Confirms the flag set on trial once every supervised consumer has run
 * on it for `settle` (at once when the agent supervises none; a consumer
 * whose channel has nothing installed yet does not run, and is not
 * waited for). */
static void flags_tick(agentd *d, int64_t mono)
{
    rg_err e;
    if (!d->has_flags || !d->flags.trial[0])
        return;
    for (size_t i = 0; i < d->nch; i++) {
        const rg_consumer *k = &d->ch[i].consumer;
        if (d->ch[i].has_consumer && rg_slots_active(&d->ch[i].slots) &&
            (strcmp(k->loaded_flags, d->flags.trial) != 0 ||
             rg_consumer_uptime(k, mono) < d->conf->settle_ms))
            return;
    }
    if (rg_flagstate_confirm(&d->flags, &e) != 0)
        rg_error("flags: %s", e.msg);
}

/* True when another live process (`rollgate-agent run`) supervises c. */
static bool supervised_elsewhere(const agentd *d, const channel *c)
{
    char p[RG_PATH_MAX];
    rg_buf b;
    bool live = false;
    if (d->opts->offline)
        return false;
    snprintf(p, sizeof p, "%s/supervisor.pid", c->slots.dir);
    rg_buf_init(&b, 32);
    if (rg_file_read(p, &b, NULL) == 0 && b.data) {
        long pid = strtol(b.data, NULL, 10);
        live = pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0;
    }
    rg_buf_release(&b);
    return live;
}

static void tick_channels(agentd *d)
{
    int64_t mono = rg_monotonic_ms();
    rg_apply_env ae = apply_env(d);
    for (size_t i = 0; i < d->nch; i++) {
        channel *c = &d->ch[i];
        rg_trial_env te = trial_env(d, c);
        rg_err e;
        bool ended = false;
        int64_t up = -1;
        if (c->has_consumer)
            up = rg_consumer_uptime(&c->consumer, mono);
        else if (supervised_elsewhere(d, c))
            up = 0; /* only the deadline: the supervisor judges */
        if (rg_apply_trial_tick(&ae, &c->slots, up, &ended, &e) != 0)
            rg_error("channel '%s': trial: %s", c->slots.name, e.msg);
        if (c->has_consumer &&
            rg_consumer_tick(&c->consumer, &te, mono, ae.now_ms, &e) != 0)
            rg_error("channel '%s': consumer: %s", c->slots.name, e.msg);
    }
    flags_tick(d, mono);
}

/* Called by the client throughout every transfer (client.h): consumers
 * stay supervised and trials judged while a download trickles, and a
 * stop request aborts the transfer (its bytes are kept for a resume). */
static int during_transfer(void *ud)
{
    agentd *d = ud;
    int64_t mono = rg_monotonic_ms();
    if (stop_requested)
        return 1;
    rg_sd_watchdog(); /* a trickling download is the loop making progress */
    if (mono - d->busy_tick >= BUSY_TICK_MS) {
        d->busy_tick = mono;
        reap(d);
        tick_channels(d);
    }
    return 0;
}

static void apply_all(agentd *d)
{
    rg_apply_env ae = apply_env(d);
    bool waiting = false;
    for (size_t i = 0; i < d->nch; i++) {
        channel *c = &d->ch[i];
        rg_apply_result res = RG_APPLY_IDLE;
        rg_err e;
        if (!c->has_desired)
            continue;
        if (rg_apply_step(&ae, &c->slots, &c->desired, &res, &e) != 0)
            rg_warn("channel '%s': apply release %lld: %s", c->slots.name,
                    (long long)c->desired.want.release, e.msg);
        waiting = waiting || res == RG_APPLY_WAITING;
    }
    /* Fresh events (applying, healthy, reverted) go out at once rather
     * than a whole interval later, a few times in a row at most. */
    if ((waiting || rg_outbox_count(&d->outbox) > 0) &&
        d->followups < FOLLOWUPS) {
        d->followups++;
        d->next_checkin = rg_monotonic_ms();
    } else {
        d->followups = 0;
    }
}

/* Loads the pinned root (docs/signing.md). A root pinned by digest that
 * cannot be fetched yet leaves the trust pending: nothing is applied
 * until it is here. A configured root that is wrong is an error. */
static int load_trust(agentd *d, rg_err *err)
{
    bool pinned = false;
    int rc = rg_agent_trust_load(d->conf, d->opts->offline ? NULL : &d->client,
                                 &d->root, &pinned, err);
    if (rc == RG_EUNAVAIL || (rc == RG_ENOTFOUND && !d->conf->root)) {
        rg_warn("trust: %s; applying nothing until the pinned root is here",
                err->msg);
        d->trust = TRUST_PENDING;
        return 0;
    }
    if (rc != 0)
        return rc;
    d->trust = pinned              ? TRUST_PINNED
               : d->conf->insecure ? TRUST_INSECURE
                                   : TRUST_REFUSING;
    if (d->trust == TRUST_INSECURE)
        rg_warn("trust: no root pinned and insecure = true: releases are "
                "applied WITHOUT signature verification (development only; "
                "see docs/signing.md)");
    else if (d->trust == TRUST_REFUSING)
        rg_error("trust: no root pinned (root, root_sha256): refusing to apply "
                 "any release; set insecure = true only for development "
                 "(docs/agent.md)");
    else if (d->conf->insecure)
        rg_warn("trust: a root is pinned: insecure = true is ignored");
    return rg_agent_trust_mode_write(d->conf->state_dir,
                                     d->trust == TRUST_PINNED     ? "pinned"
                                     : d->trust == TRUST_INSECURE ? "insecure"
                                                                  : "refusing",
                                     err);
}

/* True when some desired release is not its channel's active one. */
static bool something_new(agentd *d)
{
    for (size_t i = 0; i < d->nch; i++) {
        rg_artifact_want m;
        channel *c = &d->ch[i];
        rg_slot_id a = rg_slots_active(&c->slots);
        if (c->has_desired &&
            (!a || rg_slots_meta(&c->slots, a, &m, NULL) != 0 ||
             m.release != c->desired.want.release))
            return true;
    }
    return false;
}

/* Before applying: a pending root is fetched, rotations are followed. */
static bool trust_ready(agentd *d)
{
    rg_err e;
    if (d->trust == TRUST_PENDING && load_trust(d, &e) != 0)
        rg_error("trust: %s", e.msg);
    if (d->trust == TRUST_PENDING || d->trust == TRUST_REFUSING)
        return false;
    if (d->trust == TRUST_PINNED && something_new(d) &&
        rg_agent_trust_update(d->conf, &d->client, &d->root, &e) != 0)
        rg_warn("trust: root update: %s", e.msg);
    return true;
}

/* True when the server refused the answer's flags ("error": the
 * environment is not one this endpoint may read); logs it as an error when
 * it is new, and once when the refusal ends. */
static bool flags_refused(agentd *d, const json_t *flags)
{
    const json_t *why = json_object_get(flags, "error");
    const char *msg = json_string_value(json_object_get(why, "message"));
    if (!why) {
        if (d->flags_refused[0])
            rg_info("flags: environment '%s' readable again",
                    d->conf->flags_env);
        d->flags_refused[0] = '\0';
        return false;
    }
    if (!msg)
        msg = "refused";
    if (strncmp(d->flags_refused, msg, sizeof d->flags_refused - 1) != 0)
        rg_error("flags: the server refuses environment '%s' "
                 "(flags_environment): %s; the flags in force stay",
                 d->conf->flags_env, msg);
    snprintf(d->flags_refused, sizeof d->flags_refused, "%s", msg);
    return true;
}

/* Takes the answer's "flags": reports the server stored, and a new set
 * (checked as an SDK reads it before it is taken). */
static void take_flags(agentd *d, const json_t *flags)
{
    rg_err e;
    bool taken = false;
    rg_flagset *check = NULL;
    const json_t *set = json_object_get(flags, "set");
    const char *stamp = json_string_value(json_object_get(flags, "stamp"));
    const char *env = json_string_value(json_object_get(flags, "environment"));
    if (!d->has_flags || !flags || flags_refused(d, flags))
        return;
    if (json_is_array(json_object_get(flags, "stored")) &&
        rg_flagstate_stored(&d->flags, json_object_get(flags, "stored"), &e))
        rg_error("flags: %s", e.msg);
    if (!set || !stamp || !env || strcmp(env, d->conf->flags_env) != 0)
        return;
    if (rg_flagset_parse(set, RG_FLAGS_LENIENT, &check, &e) != 0) {
        rg_warn("flags: set '%s' refused: %s", stamp, e.msg);
        return;
    }
    rg_flagset_free(check);
    if (rg_flagstate_offer(&d->flags, env, stamp, set, &taken, &e) != 0)
        rg_error("flags: %s", e.msg);
    else if (!taken)
        rg_debug("flags: set '%s' not taken (refused before, or in force)",
                 stamp);
}

static void checkin(agentd *d)
{
    rg_checkin_result r;
    rg_err e;
    int64_t mono = rg_monotonic_ms();
    json_t *flags = d->has_flags
                        ? rg_flagstate_report(&d->flags, d->conf->flags_env)
                        : NULL;
    int rc =
        rg_checkin(d->conf, &d->client, &d->outbox, d->trust == TRUST_INSECURE,
                   flags, rg_clock_now(rg_clock_system()), &r, &e);
    json_decref(flags);
    if (rc != 0) {
        d->failures++;
        int64_t wait =
            rg_jitter(rg_backoff(d->failures, d->conf->backoff_max_ms));
        rg_warn("check-in failed (%d in a row, next in %lld ms): %s",
                d->failures, (long long)wait, e.msg);
        rg_sd_status("check-in failed (%d in a row, next in %lld s): %s",
                     d->failures, (long long)(wait / 1000), e.msg);
        d->next_checkin = mono + wait;
        d->followups = 0;
        return;
    }
    d->failures = 0;
    if (r.interval_ms > 0)
        d->interval_ms = r.interval_ms;
    int64_t interval =
        d->conf->interval_ms ? d->conf->interval_ms : d->interval_ms;
    d->next_checkin = mono + rg_jitter(interval);
    rg_sd_status("checking in with %s every %lld s; the last one worked",
                 d->conf->server, (long long)(interval / 1000));
    json_decref(d->notices);
    d->notices = json_incref(r.notices);
    take_flags(d, r.flags);
    for (size_t i = 0; i < d->nch; i++)
        d->ch[i].has_desired = false;
    for (size_t i = 0; i < r.ndesired; i++) {
        /* Only the channels opened at start (configured, or run's
         * --channel) are installed, whatever the server offers. */
        channel *c = open_channel(d, r.channels[i]);
        if (!c) {
            rg_debug("channel '%s' is offered but not configured: ignored",
                     r.channels[i]);
            continue;
        }
        c->has_desired = true;
        c->desired = r.desired[i];
    }
    rg_checkin_result_release(&r);
    if (trust_ready(d))
        apply_all(d);
}

static int64_t next_wait(agentd *d)
{
    int64_t mono = rg_monotonic_ms();
    int64_t wait = d->opts->offline ? 60000 : d->next_checkin - mono;
    int64_t wd = rg_sd_watchdog_period_ms();
    if (wd > 0 && wait > wd)
        wait = wd;
    for (size_t i = 0; i < d->nch; i++) {
        channel *c = &d->ch[i];
        char p[RG_PATH_MAX];
        snprintf(p, sizeof p, "%s/trial.json", c->slots.dir);
        if (c->has_consumer || rg__exists(p))
            wait = wait < TICK_MS ? wait : TICK_MS;
        if (c->has_consumer) {
            int64_t w = rg_consumer_wake_in(&c->consumer, mono);
            if (w >= 0 && w < wait)
                wait = w;
        }
    }
    return wait < 0 ? 0 : wait;
}

static int install_signals(rg_err *err)
{
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return rg_err_set(err, RG_EIO, "pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int write_supervisor_pid(agentd *d, rg_err *err)
{
    char pid[32];
    channel *c = &d->ch[0];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    return rg_file_write_durable(c->slots.dir, "supervisor.pid", pid, (size_t)n,
                                 0600, err);
}

/* Config loaded, channels opened and recovered (slots reconciled, trials
 * judged), trust loaded: tells systemd the agent is ready. */
static void notify_ready(const agentd *d)
{
    size_t consumers = 0;
    for (size_t i = 0; i < d->nch; i++)
        consumers += d->ch[i].has_consumer;
    if (d->opts->offline)
        rg_sd_ready("supervising channel %s offline", d->opts->channel);
    else
        rg_sd_ready("%zu channels (%zu consumers), server %s, trust %s", d->nch,
                    consumers, d->conf->server,
                    d->trust == TRUST_PINNED     ? "pinned"
                    : d->trust == TRUST_INSECURE ? "insecure"
                    : d->trust == TRUST_PENDING  ? "pending"
                                                 : "refusing");
}

int rg_daemon_run(rg_agent_config *conf, const rg_daemon_opts *opts,
                  rg_err *err)
{
    static agentd d; /* large (channel table): not on the stack */
    int rc = 0;
    memset(&d, 0, sizeof d);
    d.conf = conf;
    d.opts = opts;
    d.interval_ms = 60000;
    if ((rc = rg_outbox_open(&d.outbox, conf->state_dir, err)) != 0)
        return rc;
    if ((rc = rg_client_init(&d.client, conf->server, conf->timeout_ms,
                             conf->max_artifact, err)) != 0)
        return rc;
    if (conf->ca_file &&
        (rc = rg_client_set_ca(&d.client, conf->ca_file, err)) != 0)
        goto cleanup;
    d.client.min_rate = conf->min_rate;
    d.client.mirrors = conf->mirrors;
    d.client.n_mirrors = conf->nmirrors;
    d.client.progress = during_transfer;
    d.client.progress_ud = &d;
    d.has_flags = conf->flags_env != NULL;
    if (d.has_flags &&
        (rc = rg_flagstate_open(&d.flags, conf->state_dir, err)) != 0)
        goto cleanup;
    if (rg_consumer_subreaper() != 0)
        rg_warn("cannot become the subreaper of the consumers (%s): what "
                "they fork is killed with them but not reaped by the agent",
                strerror(errno));
    if ((rc = install_signals(err)) != 0 || (rc = setup_channels(&d, err)) != 0)
        goto cleanup;
    if (!opts->offline && (rc = load_trust(&d, err)) != 0)
        goto cleanup;
    if (opts->offline && (rc = write_supervisor_pid(&d, err)) != 0)
        goto cleanup;
    d.next_checkin = rg_monotonic_ms();
    if (!opts->once)
        notify_ready(&d);
    while (!stop_requested) {
        rg_sd_watchdog();
        if (reload_requested && opts->config_path) {
            reload_requested = 0;
            rg_sd_reloading("reloading the configuration");
            reload(&d);
            notify_ready(&d);
        }
        reap(&d);
        tick_channels(&d);
        if (!opts->offline && rg_monotonic_ms() >= d.next_checkin) {
            checkin(&d);
            if (opts->once) {
                if (d.failures > 0)
                    rc = rg_err_set(err, RG_EUNAVAIL, "check-in failed");
                break;
            }
            continue; /* follow-ups may be due at once */
        }
        struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};
        poll(&pfd, 1, (int)next_wait(&d));
        char buf[64];
        while (read(wake_pipe[0], buf, sizeof buf) > 0)
            ;
    }
    rg_info("stopping");
    rg_sd_stopping("stopping: ending the consumers");
cleanup:
    for (size_t i = 0; i < d.nch; i++)
        if (d.ch[i].has_consumer)
            rg_consumer_stop(&d.ch[i].consumer);
    if (opts->offline && d.nch > 0)
        rg__remove_durable(d.ch[0].slots.dir, "supervisor.pid", NULL);
    json_decref(d.notices);
    rg_client_release(&d.client);
    return rc;
}
