/*
 * rollgate/flags.h - feature flags on the endpoint, in librollgate-agent
 * (link the static library rg_agent).
 *
 * The agent daemon receives the endpoint's flag set with each check-in
 * and keeps the one in force in STATE/flags/active.json (an Unleash
 * client-features document with "environment" and "stamp" added; a
 * program in another language may read that file, replaced by atomic
 * rename, directly: docs/agent.md). rg_sdk evaluates it in process with
 * Rollgate's Unleash-compatible evaluator: no network, no file access and
 * no allocation per evaluation (a thread's first REGEX constraint makes
 * the thread's PCRE2 match data, freed when the thread exits).
 *
 * Thread safety: any number of threads may evaluate at once while one of
 * them calls rg_sdk_refresh; evaluations never wait for a refresh (the
 * flag set in force is swapped by pointer; each set is freed once no
 * evaluation reads it). rg_sdk_open and rg_sdk_close are not concurrent
 * with anything else on the same handle.
 */
#ifndef ROLLGATE_FLAGS_H
#define ROLLGATE_FLAGS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A context field: a name and its value (both borrowed). */
typedef struct rg_flag_field {
    const char *name, *value;
} rg_flag_field;

/* What an evaluation is about, as Unleash's context. Every member may be
 * NULL; pointers are borrowed for the call only. */
typedef struct rg_flag_context {
    const char *user_id, *session_id, *remote_address;
    const char *environment, *app_name;
    const char *current_time;        /* ISO 8601; NULL: the system clock */
    const rg_flag_field *properties; /* any other field, by name */
    size_t nproperties;
} rg_flag_context;

#define RG_FLAG_VARIANT_NAME_MAX 256

/* A variant, copied out of the flag set (which a refresh may free). */
typedef struct rg_flag_variant_out {
    char name[RG_FLAG_VARIANT_NAME_MAX]; /* "disabled" when none */
    char payload_type[32];               /* "" when there is no payload */
    char *payload;       /* the caller's buffer for the payload, or NULL */
    size_t payload_cap;  /* its size; the copy is NUL-terminated */
    size_t payload_len;  /* the payload's full length */
    int enabled;         /* a variant was chosen */
    int feature_enabled; /* the feature is on */
} rg_flag_variant_out;

typedef struct rg_sdk rg_sdk;

/* Opens the flags of the agent whose state directory is state_dir and
 * loads the set in force (none yet is fine: every flag is off). Returns a
 * handle the caller closes with rg_sdk_close, or NULL with a message in
 * msg (msglen bytes; may be NULL/0) when out of memory or the set cannot
 * be read. */
rg_sdk *rg_sdk_open(const char *state_dir, char *msg, size_t msglen);

/* Loads the set in force again when its file changed since the last load
 * (one stat(2) when it did not); evaluations keep running on the old set
 * meanwhile. Returns 1 when a new set was loaded, 0 when unchanged, or a
 * negative code with a message (the old set stays in force). */
int rg_sdk_refresh(rg_sdk *sdk, char *msg, size_t msglen);

/* The stamp (the server's version) of the set in force, copied into out
 * (cap bytes); "" when there is none. */
void rg_sdk_stamp(rg_sdk *sdk, char *out, size_t cap);

/* Returns 1 when flag name is on for ctx (NULL: an empty context), 0 when
 * it is off or unknown. */
int rg_flag_enabled(rg_sdk *sdk, const char *name, const rg_flag_context *ctx);

/* Fills *out with flag name's variant for ctx (getVariant of Unleash).
 * Returns out->enabled. out->payload/payload_cap are the caller's. */
int rg_flag_variant(rg_sdk *sdk, const char *name, const rg_flag_context *ctx,
                    rg_flag_variant_out *out);

/* Frees the handle and its flag sets; no evaluation may be running. */
void rg_sdk_close(rg_sdk *sdk);

#ifdef __cplusplus
}
#endif

#endif
