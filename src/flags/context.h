/*
 * context.h - the Unleash context an evaluation reads: the standard fields,
 * any other top-level fields, the "properties", and what a pure evaluator
 * cannot find by itself (the time, randomness, the host name), given by the
 * caller. Every pointer is borrowed for the duration of one call.
 */
#ifndef RG_FLAGS_CONTEXT_H
#define RG_FLAGS_CONTEXT_H

#include "rollgate/flags.h" /* rg_flag_field */

#include <stddef.h>
#include <stdint.h>

typedef struct rg_flag_ctx {
    const char *user_id, *session_id, *remote_address;
    const char *environment, *app_name;
    const char *current_time;    /* ISO 8601; NULL: now_ms is the time */
    const rg_flag_field *fields; /* other top-level fields */
    size_t nfields;
    const rg_flag_field *props; /* "properties" */
    size_t nprops;
    double now_ms; /* the caller's clock, ms since the epoch */
    /* Uniform random 32-bit values for "random" stickiness and
     * gradualRolloutRandom; NULL: 0 (no randomness). */
    uint32_t (*random)(void *arg);
    void *random_arg;
    const char *hostname; /* for applicationHostname, lower-case; or NULL */
} rg_flag_ctx;

/* The standard fields, so that a parser can resolve a field name once. */
typedef enum rg_flag_field_id {
    RG_FIELD_OTHER = 0, /* found among fields, then props, by name */
    RG_FIELD_USER_ID,
    RG_FIELD_SESSION_ID,
    RG_FIELD_REMOTE_ADDRESS,
    RG_FIELD_ENVIRONMENT,
    RG_FIELD_APP_NAME,
    RG_FIELD_CURRENT_TIME,
} rg_flag_field_id;

/* Returns the id of a field name (RG_FIELD_OTHER for any other name). */
rg_flag_field_id rg_flag_field_of(const char *name);

/* Returns the context's value for field as the SDKs resolve it: the
 * top-level field, else the property of that name, else NULL. */
const char *rg_flag_ctx_value(const rg_flag_ctx *ctx, const char *field);

/* rg_flag_ctx_value with the field's id resolved beforehand
 * (id == rg_flag_field_of(field)). */
const char *rg_flag_ctx_get(const rg_flag_ctx *ctx, rg_flag_field_id id,
                            const char *field);

/* Returns a random value in [0, 2^32) from ctx->random, or 0. */
uint32_t rg_flag_ctx_random(const rg_flag_ctx *ctx);

#endif
