/*
 * reload.h - rollgate-agent reads its configuration file again on SIGHUP
 * (docs/agent.md, "Reloading the configuration").
 *
 * The file is loaded the way it was at start (config.h). A file that does
 * not load changes nothing. Otherwise each setting is compared with the one
 * in effect and logged like rollgated's reload (common/kv.h,
 * rg_kv_reload_note): the live ones are applied at once (log_level,
 * interval, backoff_max, trial_deadline, settle, max_starts, clock_skew,
 * and the validate, activate, probe and notify hooks of a configured
 * channel), every other one changed is logged as taking a restart and
 * keeps its value. A [channel NAME] section the running agent does not
 * have is added (the caller opens the channel and installs it from the
 * next check-in on); a section removed, or a changed consumer, takes a
 * restart.
 */
#ifndef RG_AGENT_RELOAD_H
#define RG_AGENT_RELOAD_H

#include "common/err.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* Loads path into a new configuration (insecure: --insecure was given, as
 * at start) and applies to cur what a reload applies; *added receives how
 * many channel sections were appended to cur (cur->channels[nchannels -
 * *added ..]), add_channels false: none (`run` supervises one channel).
 * Logs every change and "reload: N settings applied". Returns 0, or the
 * load's error (logged, cur unchanged). */
int rg_agent_reload(rg_agent_config *cur, const char *path, bool insecure,
                    bool add_channels, size_t *added, rg_err *err);

#endif
