/*
 * preflight.h - run a release's content through the real engine, in the
 * sandbox (sandbox.h), before any endpoint sees it.
 *
 * One call, rg_preflight_run, does it all:
 *   1. `ENGINE coverage CONTENT [--corpus CORPUS]` (sandboxed: it parses
 *      the untrusted content) prints the coverage events: for every
 *      template instance, events that drive each non-wildcard criterion,
 *      also cut to the shorter field counts the sensor really sends (the
 *      2024 incident's blind spot; docs/engine.md);
 *   2. the input of the run is those events followed by the recorded
 *      corpus (when the channel registered one);
 *   3. `ENGINE run CONTENT < INPUT` (sandboxed) interprets every event.
 * The content passes when both commands exit 0. Any other ending fails
 * it, with a reason: a crash (a signal, or a sanitizer report), a
 * timeout (wall clock or CPU), memory exhaustion (sandbox.h's heuristic),
 * a non-zero exit, or coverage output over the stdout cap; plus the
 * signal, the exit status and the tail of stderr.
 *
 * The engine is any program with rollgate-engine's `coverage` and `run`
 * commands. The sandbox sets ASAN_OPTIONS and UBSAN_OPTIONS so that a
 * sanitizer build of the engine aborts (SIGABRT) on its first finding
 * instead of exiting 1; such a build needs limits.as_bytes = 0 (ASan
 * reserves terabytes of address space).
 *
 * Thread-safe; holds no global state. Each call creates and removes its
 * own staging directory under tmp_base.
 */
#ifndef RG_PREFLIGHT_PREFLIGHT_H
#define RG_PREFLIGHT_PREFLIGHT_H

#include "common/err.h"
#include "preflight/sandbox.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What a channel registers, plus the sandbox's limits. Strings are
 * borrowed for the duration of the call. */
typedef struct rg_preflight_config {
    const char *engine;       /* engine program: a path or a name in PATH */
    const char *corpus;       /* recorded events file, or NULL */
    const char *tmp_base;     /* staging and working dirs; NULL: "/tmp" */
    rg_sandbox_limits limits; /* for each of the two engine commands */
} rg_preflight_config;

typedef enum rg_preflight_reason {
    RG_PREFLIGHT_NONE = 0,         /* passed */
    RG_PREFLIGHT_CRASH = 1,        /* killed by a signal, or a sanitizer
                                      report */
    RG_PREFLIGHT_TIMEOUT = 2,      /* wall-clock timeout or CPU limit */
    RG_PREFLIGHT_MEMORY = 3,       /* memory exhausted */
    RG_PREFLIGHT_EXIT = 4,         /* non-zero exit status */
    RG_PREFLIGHT_OUTPUT_LIMIT = 5, /* coverage output over the stdout cap */
} rg_preflight_reason;

/* The outcome of a preflight: a plain value, nothing to free. */
typedef struct rg_preflight_result {
    bool passed;
    rg_preflight_reason reason;
    char stage[16]; /* the engine command that failed ("coverage",
                       "run"), or "" when passed */
    int signal;     /* the signal that ended the command, or 0 */
    int exit_code;  /* its exit status when it exited, else -1 */
    char stderr_tail[RG_SANDBOX_TAIL_MAX + 1]; /* of the failed command
                             (of `run` when passed) */
    char detail[256];      /* one line: "run: killed by SIGSEGV" ... */
    int64_t duration_ms;   /* both commands, wall clock */
    uint64_t events_bytes; /* bytes of input fed to `run` */
    unsigned enforced;     /* RG_SANDBOX_* layers in place for every run */
    char notes[256];       /* the sandbox's notes on missing layers */
} rg_preflight_result;

/* Fills cfg with engine and corpus (borrowed; corpus may be NULL) and
 * rg_sandbox_limits_default(). */
void rg_preflight_config_init(rg_preflight_config *cfg, const char *engine,
                              const char *corpus);

/* Runs the preflight of the content file at content_path and fills *out.
 * Returns 0 whenever the engine ran, whether the content passed or
 * failed (see out->passed). Returns a negative rg_code when the preflight
 * itself could not be carried out: RG_EINVAL (no engine), RG_ENOTFOUND
 * (engine, content or corpus missing), RG_EIO (sandbox or staging
 * failure, or the engine could not be executed), RG_ENOMEM; *out is then
 * zeroed apart from what was known. Thread-safe. */
int rg_preflight_run(const rg_preflight_config *cfg, const char *content_path,
                     rg_preflight_result *out, rg_err *err);

/* Stable name of a reason: "crash", "timeout", "memory", "exit",
 * "output_limit", or NULL for RG_PREFLIGHT_NONE. */
const char *rg_preflight_reason_name(rg_preflight_reason r);

/* The API form of a result (a new reference; the caller decrefs; NULL on
 * allocation failure):
 *   {"status": "passed"|"failed", "reason": "crash"|...|null,
 *    "stage": "run"|"coverage"|null, "signal": "SIGSEGV"|null,
 *    "exit_code": 1|null, "stderr_tail": "...", "detail": "...",
 *    "duration_ms": 12,
 *    "sandbox": {"seccomp": true, "user_namespace": true,
 *                "network_namespace": true, "nproc_limit": false,
 *                "notes": "..."}} */
json_t *rg_preflight_result_json(const rg_preflight_result *r);

#endif
