/*
 * model.h - the Unleash client-features model in memory: a flag set holds
 * features (each with strategies, constraints, variants, dependencies) and
 * segments (shared constraint lists). Built by rg_flagset_parse (parse.h),
 * immutable afterwards, so any number of threads may evaluate one flag set
 * at once. Every string and array is owned by the flag set and freed by
 * rg_flagset_free.
 */
#ifndef RG_FLAGS_MODEL_H
#define RG_FLAGS_MODEL_H

#include "cidr.h"
#include "common/murmur3.h"
#include "context.h"
#include "regex.h"
#include "semver.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rg_flag_op {
    RG_OP_UNKNOWN = 0, /* evaluates to false, as in every Unleash SDK */
    RG_OP_IN,
    RG_OP_NOT_IN,
    RG_OP_STR_STARTS_WITH,
    RG_OP_STR_ENDS_WITH,
    RG_OP_STR_CONTAINS,
    RG_OP_NUM_EQ,
    RG_OP_NUM_GT,
    RG_OP_NUM_GTE,
    RG_OP_NUM_LT,
    RG_OP_NUM_LTE,
    RG_OP_DATE_AFTER,
    RG_OP_DATE_BEFORE,
    RG_OP_SEMVER_EQ,
    RG_OP_SEMVER_GT,
    RG_OP_SEMVER_GTE,
    RG_OP_SEMVER_LT,
    RG_OP_SEMVER_LTE,
    RG_OP_REGEX,
    RG_OP_IN_CIDR,
} rg_flag_op;

/* Fields in the order an evaluation reads them: what every operator reads
 * (and a SEMVER_* value) first, so that one evaluation touches few cache
 * lines; the rest after. */
typedef struct rg_flag_constraint {
    rg_flag_op op;
    rg_flag_field_id field; /* context_name resolved */
    bool inverted, case_insensitive, semver_ok;
    char *context_name; /* in the flag set's pool */
    char **values;      /* non-empty, trimmed (the SDK's cleanValues); the array
                           is the constraint's, the strings the pool's */
    size_t nvalues;
    rg_semver semver;  /* parsed value; semver_ok false if invalid */
    double num;        /* Number(value), NaN if not a number */
    double date_ms;    /* Date(value) in ms, NaN if not a date */
    char **lower;      /* values lower-cased, for caseInsensitive STR_* */
    char *value;       /* the single "value", or NULL */
    rg_flag_regex *re; /* compiled value; NULL if invalid */
    rg_cidr *cidrs;    /* the values that are valid ranges */
    size_t ncidrs;
} rg_flag_constraint;

typedef struct rg_flag_override {
    char *context_name;
    char **values;
    size_t nvalues;
} rg_flag_override;

typedef struct rg_flag_variant_def {
    char *name;
    int64_t weight;
    char *stickiness;   /* NULL when absent */
    char *payload_type; /* NULL when there is no payload */
    char *payload_value;
    rg_flag_override *overrides;
    size_t noverrides;
} rg_flag_variant_def;

typedef enum rg_flag_strategy_kind {
    RG_STRAT_UNKNOWN = 0, /* evaluates to false */
    RG_STRAT_DEFAULT,
    RG_STRAT_FLEXIBLE_ROLLOUT,
    RG_STRAT_USER_WITH_ID,
    RG_STRAT_GRADUAL_USER_ID,
    RG_STRAT_GRADUAL_SESSION_ID,
    RG_STRAT_GRADUAL_RANDOM,
    RG_STRAT_REMOTE_ADDRESS,
    RG_STRAT_APPLICATION_HOSTNAME,
} rg_flag_strategy_kind;

typedef struct rg_flag_param {
    char *name, *value; /* numbers are kept as their JSON text */
} rg_flag_param;

/* Fields in the order an evaluation reads them (see rg_flag_constraint):
 * a flexibleRollout reads the first 64 bytes, then its group's hash. */
typedef struct rg_flag_strategy {
    rg_flag_strategy_kind kind;
    rg_flag_field_id stick_field; /* stickiness resolved (a field name) */
    rg_flag_constraint *constraints;
    size_t nconstraints;
    size_t nsegments;
    size_t nvariants;
    double percentage; /* Number(rollout) or Number(percentage), NaN if none */
    const char *group_id; /* parameter groupId or NULL (into params) */
    bool has_group;       /* group_id is not empty (read without it) */
    bool stick_default,
        stick_random;        /* stickiness absent/"default", "random" */
    rg_murmur3 group_prefix; /* group_id (or "") ":" hashed (bucket.h) */
    rg_flag_variant_def *variants;
    int64_t *segments;      /* segment ids */
    const char *stickiness; /* parameter stickiness or NULL (into params) */
    char **list;            /* userIds, IPs or hostNames split on commas */
    size_t nlist;
    char *name;
    rg_flag_param *params;
    size_t nparams;
} rg_flag_strategy;

typedef struct rg_flag_dependency {
    char *feature;
    bool enabled; /* the parent must be enabled (true) or disabled */
    char **variants;
    size_t nvariants;
} rg_flag_dependency;

typedef struct rg_flag_feature {
    char *name;
    bool enabled;
    bool strategies_ok; /* false when "strategies" is not an array */
    rg_flag_strategy *strategies;
    size_t nstrategies;
    rg_flag_variant_def *variants;
    size_t nvariants;
    rg_flag_dependency *deps;
    size_t ndeps;
} rg_flag_feature;

typedef struct rg_flag_segment {
    int64_t id;
    rg_flag_constraint *constraints;
    size_t nconstraints;
} rg_flag_segment;

typedef struct rg_flag_index_slot {
    uint32_t feature; /* feature i + 1, 0: free */
    uint32_t hash;    /* the name's hash */
    uint32_t name;    /* where the name starts in index_names */
} rg_flag_index_slot;

typedef struct rg_flagset {
    int64_t version;
    rg_flag_feature *features; /* sorted by name, names unique */
    size_t nfeatures;
    /* The name index: open addressing over index_mask + 1 slots (a power
     * of 2); a slot holds feature i + 1 (0: free), the feature's name hash
     * and where its name starts in index_names, one block holding every
     * name, so a lookup reads one slot (one cache line) and that block. */
    rg_flag_index_slot *index;
    char *index_names;
    size_t index_mask;
    rg_flag_segment *segments; /* sorted by id, ids unique */
    size_t nsegments;
    /* owns the constraints' context names and values (strpool.h) */
    struct rg_flag_strpool *pool;
} rg_flagset;

/* Builds fs->index over fs->features (called once by the parser).
 * Returns 0 or RG_ENOMEM. */
int rg_flagset_index(rg_flagset *fs);

/* Returns the feature called name, or NULL: one hash of name, then
 * (almost always) one comparison. */
const rg_flag_feature *rg_flagset_feature(const rg_flagset *fs,
                                          const char *name);

/* Returns the segment with id, or NULL. */
const rg_flag_segment *rg_flagset_segment(const rg_flagset *fs, int64_t id);

/* Frees fs and everything it owns; NULL is a no-op. */
void rg_flagset_free(rg_flagset *fs);

#endif
