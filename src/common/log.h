/*
 * log.h - one-line, timestamped log records on stderr.
 *
 *   2026-11-26T03:40:00Z info rollgated: listening on 127.0.0.1:7400
 *
 * The level threshold and program name are process-wide; set the name once
 * at start-up (rg_log_init) before threads start; the level may change at
 * any time (rg_log_set_level: a reload). rg_log itself is thread-safe
 * (each record is written with a single write(2)).
 */
#ifndef RG_LOG_H
#define RG_LOG_H

typedef enum rg_log_level {
    RG_LOG_DEBUG = 0,
    RG_LOG_INFO = 1,
    RG_LOG_WARN = 2,
    RG_LOG_ERROR = 3,
} rg_log_level;

/* Sets the program name shown in each record and the minimum level.
 * prog must outlive the process (a literal or argv[0]). */
void rg_log_init(const char *prog, rg_log_level min);

/* Changes the minimum level; thread-safe. */
void rg_log_set_level(rg_log_level min);

/* "debug", "info", "warn", "error" for a level, "?" for anything else. */
const char *rg_log_level_name(int level);

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int rg_log_level_parse(const char *s);

void rg_log(rg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define rg_debug(...) rg_log(RG_LOG_DEBUG, __VA_ARGS__)
#define rg_info(...) rg_log(RG_LOG_INFO, __VA_ARGS__)
#define rg_warn(...) rg_log(RG_LOG_WARN, __VA_ARGS__)
#define rg_error(...) rg_log(RG_LOG_ERROR, __VA_ARGS__)

#endif
