/*
 * preflight.c - coverage, then run, both in the sandbox; classification
 * of the outcome and its JSON form (preflight.h).
 */
#include "preflight/preflight.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sanitizer builds of the engine: abort on the first finding (a signal,
 * not exit status 1); no leak check (it needs ptrace, which the sandbox
 * refuses); a short report, so the stderr tail keeps its summary. */
static const char *const engine_env[] = {
    "ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:print_legend=0",
    "UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    NULL,
};

void rg_preflight_config_init(rg_preflight_config *cfg, const char *engine,
                              const char *corpus)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->engine = engine;
    cfg->corpus = corpus;
    cfg->limits = rg_sandbox_limits_default();
}

const char *rg_preflight_reason_name(rg_preflight_reason r)
{
    switch (r) {
    case RG_PREFLIGHT_CRASH:
        return "crash";
    case RG_PREFLIGHT_TIMEOUT:
        return "timeout";
    case RG_PREFLIGHT_MEMORY:
        return "memory";
    case RG_PREFLIGHT_EXIT:
        return "exit";
    case RG_PREFLIGHT_OUTPUT_LIMIT:
        return "output_limit";
    case RG_PREFLIGHT_NONE:
        break;
    }
    return NULL;
}

static bool sanitizer_report(const char *tail)
{
    return strstr(tail, "ERROR: AddressSanitizer") ||
           strstr(tail, "SUMMARY: AddressSanitizer") ||
           strstr(tail, "SUMMARY: UndefinedBehaviorSanitizer") ||
           strstr(tail, "runtime error:");
}

/* Copies a sandbox result's ending into out (stage names the command) and
 * returns true when the command failed. */
static bool classify(const char *stage, const rg_sandbox_result *sr,
                     const rg_sandbox_limits *lim, rg_preflight_result *out)
{
    out->signal = sr->signal;
    out->exit_code = sr->exited ? sr->exit_code : -1;
    memcpy(out->stderr_tail, sr->err_tail, sr->err_len + 1);
    out->duration_ms += sr->wall_ms;
    out->enforced &= sr->enforced;
    if (sr->notes[0])
        snprintf(out->notes, sizeof out->notes, "%s", sr->notes);

    if (sr->timed_out) {
        out->reason = RG_PREFLIGHT_TIMEOUT;
        snprintf(out->detail, sizeof out->detail,
                 "%s: wall-clock timeout of %" PRId64 " ms", stage,
                 lim->wall_ms);
    } else if (sr->cpu_exceeded) {
        out->reason = RG_PREFLIGHT_TIMEOUT;
        snprintf(out->detail, sizeof out->detail, "%s: CPU limit of %u s (%s)",
                 stage, lim->cpu_s, rg_signal_name(sr->signal));
    } else if (sr->memory_exhausted) {
        out->reason = RG_PREFLIGHT_MEMORY;
        snprintf(out->detail, sizeof out->detail,
                 "%s: memory exhausted (address space limit %" PRIu64 " bytes)",
                 stage, lim->as_bytes);
    } else if (sr->signal) {
        out->reason = RG_PREFLIGHT_CRASH;
        snprintf(out->detail, sizeof out->detail, "%s: killed by %s%s", stage,
                 rg_signal_name(sr->signal),
                 sanitizer_report(sr->err_tail) ? " (sanitizer report)" : "");
    } else if (sr->exit_code != 0 && sanitizer_report(sr->err_tail)) {
        out->reason = RG_PREFLIGHT_CRASH;
        snprintf(out->detail, sizeof out->detail,
                 "%s: sanitizer report, exit status %d", stage, sr->exit_code);
    } else if (sr->exit_code != 0) {
        out->reason = RG_PREFLIGHT_EXIT;
        snprintf(out->detail, sizeof out->detail, "%s: exit status %d", stage,
                 sr->exit_code);
    } else {
        return false;
    }
    snprintf(out->stage, sizeof out->stage, "%s", stage);
    return true;
}

/* Appends the file at path to f. */
static int append_file(FILE *f, const char *path, rg_err *err)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return rg_err_field(err, errno == ENOENT ? RG_ENOTFOUND : RG_EIO,
                            "corpus", "corpus '%s': %s", path, strerror(errno));
    char chunk[16384];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (fwrite(chunk, 1, n, f) != n) {
            rc = rg_err_set(err, RG_EIO, "preflight: cannot write events");
            break;
        }
    if (rc == 0 && ferror(in))
        rc = rg_err_set(err, RG_EIO, "corpus '%s': read error", path);
    fclose(in);
    return rc;
}

/* Writes coverage events, then the corpus, to path. */
static int write_input(const char *path, const rg_buf *coverage,
                       const char *corpus, uint64_t *bytes, rg_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return rg_err_set(err, RG_EIO, "preflight: '%s': %s", path,
                          strerror(errno));
    int rc = 0;
    if (coverage->len &&
        fwrite(coverage->data, 1, coverage->len, f) != coverage->len)
        rc = rg_err_set(err, RG_EIO, "preflight: cannot write events");
    if (rc == 0 && coverage->len && coverage->data[coverage->len - 1] != '\n' &&
        fputc('\n', f) == EOF)
        rc = rg_err_set(err, RG_EIO, "preflight: cannot write events");
    if (rc == 0 && corpus)
        rc = append_file(f, corpus, err);
    long end = ftell(f);
    *bytes = end > 0 ? (uint64_t)end : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = rg_err_set(err, RG_EIO, "preflight: cannot write events");
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Makes path absolute (the sandboxed command runs elsewhere) and checks
 * that it can be read. *abs is malloc'd. */
static int absolute(const char *what, const char *path, char **abs, rg_err *err)
{
    *abs = realpath(path, NULL);
    if (!*abs || access(*abs, R_OK) != 0)
        return rg_err_field(err, errno == ENOENT ? RG_ENOTFOUND : RG_EIO, what,
                            "%s '%s': %s", what, path, strerror(errno));
    return 0;
}

int rg_preflight_run(const rg_preflight_config *cfg, const char *content_path,
                     rg_preflight_result *out, rg_err *err)
{
    int rc = 0;
    char *content = NULL, *corpus = NULL;
    char stage_dir[PATH_MAX] = "", input[PATH_MAX + 16];
    rg_sandbox_result sr;
    bool have_sr = false;
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    out->enforced = ~0u;
    if (!cfg->engine || !cfg->engine[0])
        return rg_err_field(err, RG_EINVAL, "engine", "no preflight engine");
    if ((rc = absolute("content", content_path, &content, err)) != 0 ||
        (cfg->corpus &&
         (rc = absolute("corpus", cfg->corpus, &corpus, err)) != 0))
        goto cleanup;

    const char *base = cfg->tmp_base ? cfg->tmp_base : "/tmp";
    int w =
        snprintf(stage_dir, sizeof stage_dir, "%s/rg-preflight-XXXXXX", base);
    if (w < 0 || (size_t)w >= sizeof stage_dir || !mkdtemp(stage_dir)) {
        rc = rg_err_set(err, RG_EIO, "preflight: staging dir under '%s': %s",
                        base, strerror(errno));
        stage_dir[0] = '\0';
        goto cleanup;
    }
    snprintf(input, sizeof input, "%s/events", stage_dir);

    /* 1. Coverage events of the content. */
    const char *cov_argv[] = {cfg->engine, "coverage",
                              content,     corpus ? "--corpus" : NULL,
                              corpus,      NULL};
    rg_sandbox_config sc = {.argv = cov_argv,
                            .env = engine_env,
                            .tmp_base = cfg->tmp_base,
                            .limits = cfg->limits};
    if ((rc = rg_sandbox_run(&sc, &sr, err)) != 0) {
        rg_sandbox_result_release(&sr);
        goto cleanup;
    }
    have_sr = true;
    if (classify("coverage", &sr, &cfg->limits, out))
        goto cleanup;
    if (sr.out_total > sr.out.len) {
        out->reason = RG_PREFLIGHT_OUTPUT_LIMIT;
        snprintf(out->stage, sizeof out->stage, "coverage");
        snprintf(out->detail, sizeof out->detail,
                 "coverage: %" PRIu64 " bytes of events, over the cap of %zu",
                 sr.out_total, cfg->limits.stdout_max);
        goto cleanup;
    }

    /* 2. The run's input: coverage, then the recorded corpus. */
    if ((rc = write_input(input, &sr.out, corpus, &out->events_bytes, err)) !=
        0)
        goto cleanup;
    rg_sandbox_result_release(&sr);
    have_sr = false;

    /* 3. The engine on every event; its matches are not kept. */
    const char *run_argv[] = {cfg->engine, "run", content, NULL};
    sc.argv = run_argv;
    sc.stdin_path = input;
    sc.limits.stdout_max = 0;
    if ((rc = rg_sandbox_run(&sc, &sr, err)) != 0) {
        rg_sandbox_result_release(&sr);
        goto cleanup;
    }
    have_sr = true;
    if (!classify("run", &sr, &cfg->limits, out))
        out->passed = true;
cleanup:
    if (have_sr)
        rg_sandbox_result_release(&sr);
    if (stage_dir[0])
        nftw(stage_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (out->enforced == ~0u)
        out->enforced = 0;
    free(content);
    free(corpus);
    return rc;
}

/* A JSON string of s; when s is not valid UTF-8 (a tail may start inside
 * a character), bytes outside printable ASCII become '?'. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char copy[RG_SANDBOX_TAIL_MAX + 1];
    size_t n = 0;
    for (; s[n] && n < sizeof copy - 1; n++) {
        unsigned char c = (unsigned char)s[n];
        copy[n] =
            (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? (char)c : '?';
    }
    copy[n] = '\0';
    return json_string(copy);
}

json_t *rg_preflight_result_json(const rg_preflight_result *r)
{
    const char *reason = rg_preflight_reason_name(r->reason);
    json_t *sandbox = json_pack(
        "{s:b, s:b, s:b, s:b, s:o}", "seccomp",
        (r->enforced & RG_SANDBOX_SECCOMP) != 0, "user_namespace",
        (r->enforced & RG_SANDBOX_USERNS) != 0, "network_namespace",
        (r->enforced & RG_SANDBOX_NETNS) != 0, "nproc_limit",
        (r->enforced & RG_SANDBOX_NPROC) != 0, "notes", text(r->notes));
    if (!sandbox)
        return NULL;
    return json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "status",
        r->passed ? "passed" : "failed", "reason",
        reason ? json_string(reason) : json_null(), "stage",
        r->stage[0] ? json_string(r->stage) : json_null(), "signal",
        r->signal ? json_string(rg_signal_name(r->signal)) : json_null(),
        "exit_code",
        r->exit_code >= 0 ? json_integer(r->exit_code) : json_null(),
        "stderr_tail", text(r->stderr_tail), "detail", text(r->detail),
        "duration_ms", (json_int_t)r->duration_ms, "sandbox", sandbox);
}
