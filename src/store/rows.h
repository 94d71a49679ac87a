/*
 * rows.h - how each store record maps to a table row, shared by every
 * backend (internal to src/store).
 *
 * A record type is described once, as the ordered list of its columns:
 * name, C type, offset in the record and, for text, the field's capacity.
 * A backend's SELECT for a record type names that row map's columns in
 * that order; the backend reads a result row into an array of rg__val (one
 * per column) and rg__row_read copies it into the record, checking that
 * stored text fits. Parameters are passed the same way, as rg__val arrays
 * made with the RG__INT / RG__TEXT / RG__REF / RG__VALS macros. A backend
 * is therefore its SQL dialect plus a connection: it moves rg__val arrays
 * to and from its driver and writes no per-field code.
 */
#ifndef RG_STORE_ROWS_H
#define RG_STORE_ROWS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* The most columns a row map has (the release row has 22). */
#define RG__ROW_COLS_MAX 32

typedef enum rg__vtype { RG__V_NULL, RG__V_INT, RG__V_TEXT } rg__vtype;

/* One parameter or one column of a result row. Text is borrowed: from
 * the caller for parameters, from the driver's row for results (valid
 * until the backend steps or resets its statement). */
typedef struct rg__val {
    rg__vtype type;
    int64_t i;     /* RG__V_INT */
    const char *s; /* RG__V_TEXT, NUL-terminated */
    size_t len;    /* RG__V_TEXT read from a row: its length in bytes */
} rg__val;

#define RG__INT(x) ((rg__val){RG__V_INT, (int64_t)(x), NULL, 0})
/* Text; a NULL pointer binds SQL NULL. */
#define RG__TEXT(x) ((rg__val){RG__V_TEXT, 0, (x), 0})
/* A reference id where 0 means none: SQL NULL. */
#define RG__REF(x)                                                             \
    ((rg__val){(x) ? RG__V_INT : RG__V_NULL, (int64_t)(x), NULL, 0})
/* A preflight spec's four columns, as parameters. */
#define RG__SPEC_VALS(p)                                                       \
    RG__TEXT((p)->engine), RG__TEXT((p)->corpus), RG__INT((p)->timeout_s),     \
        RG__INT((p)->memory_mb)
/* An array of parameters and its length, as two arguments. */
#define RG__VALS(...)                                                          \
    (const rg__val[]){__VA_ARGS__},                                            \
        sizeof((const rg__val[]){__VA_ARGS__}) / sizeof(rg__val)

typedef enum rg__ctype {
    RG__C_I64,  /* int64_t; SQL NULL reads as 0 */
    RG__C_REF,  /* int64_t id of another row, 0: none, stored as NULL */
    RG__C_U64,  /* uint64_t, stored as a signed 64-bit integer */
    RG__C_INT,  /* int */
    RG__C_U32,  /* uint32_t */
    RG__C_BOOL, /* bool, stored 0 or 1 */
    RG__C_TEXT, /* char[cap]: NUL-terminated, must fit */
    RG__C_PTR,  /* const char *, borrowed from the row; NULL reads as "" */
    RG__C_PLAN, /* rg_plan, stored as its JSON text (read only) */
} rg__ctype;

/* Where a column's value comes from when a row is inserted. */
typedef enum rg__cfrom {
    RG__FROM_REC,   /* the record: bound by rg__row_vals */
    RG__FROM_DB,    /* the database assigns it (a generated id) */
    RG__FROM_JOIN,  /* another table (a release's channel name) */
    RG__FROM_LATER, /* the column's default; later updates set it */
} rg__cfrom;

typedef struct rg__col {
    const char *name; /* the column, for messages */
    rg__ctype type;
    rg__cfrom from;
    size_t off; /* where the field is in the record */
    size_t cap; /* RG__C_TEXT: the field's size in bytes */
} rg__col;

typedef struct rg__rowmap {
    const char *what; /* the record, for messages: "release" */
    const rg__col *cols;
    size_t n;
} rg__rowmap;

/* The row of each record type, column by column in the order a backend
 * selects them; its INSERT names the RG__FROM_REC columns in the same
 * order (docs/architecture.md, "The store"). */
extern const rg__rowmap rg__audit_row;         /* rg_audit_rec */
extern const rg__rowmap rg__channel_row;       /* rg_channel_rec */
extern const rg__rowmap rg__release_row;       /* rg_release_rec */
extern const rg__rowmap rg__root_row;          /* rg_root_rec */
extern const rg__rowmap rg__rollout_row;       /* rg_rollout_rec */
extern const rg__rowmap rg__decision_row;      /* rg_decision_rec */
extern const rg__rowmap rg__token_row;         /* rg_token_rec */
extern const rg__rowmap rg__enroll_key_row;    /* rg_enroll_key_rec */
extern const rg__rowmap rg__endpoint_row;      /* rg_endpoint_rec */
extern const rg__rowmap rg__event_row;         /* rg_event_rec */
extern const rg__rowmap rg__endpoint_tail_row; /* rg_endpoint_tail */
extern const rg__rowmap rg__event_tail_row;    /* rg_event_tail */
extern const rg__rowmap rg__offer_row;         /* rg_offer_rec */
extern const rg__rowmap rg__heads_row;         /* rg_tail_heads */
extern const rg__rowmap rg__flag_revert_row;   /* rg_flag_revert_rec */
extern const rg__rowmap rg__policy_row;        /* rg_policy_rec */
extern const rg__rowmap rg__flag_row;          /* rg_flag_rec */
extern const rg__rowmap rg__flag_rollout_row;  /* rg_flag_rollout_rec */
extern const rg__rowmap rg__client_token_row;  /* rg_client_token_rec */
extern const rg__rowmap rg__segment_row;       /* rg_segment_rec */
extern const rg__rowmap rg__webhook_row;       /* rg_webhook_rec */
extern const rg__rowmap rg__delivery_row;      /* rg_delivery_rec */
extern const rg__rowmap rg__attempt_row;       /* rg_attempt_rec */

/* A due delivery and its subscription's url and secret (the delivery's
 * columns, then those two). */
typedef struct rg__due {
    rg_delivery_rec d;
    rg_webhook_rec w;
} rg__due;
extern const rg__rowmap rg__due_row;

/* What queries that return no whole record read: up to two integers, a
 * word, or a text borrowed from the row, in the maps below. */
typedef struct rg__scalars {
    int64_t a, b;
    char word[64];
    const char *text;
} rg__scalars;
extern const rg__rowmap rg__int_row;      /* a */
extern const rg__rowmap rg__int2_row;     /* a, b */
extern const rg__rowmap rg__word_row;     /* word */
extern const rg__rowmap rg__word_int_row; /* word, a */
extern const rg__rowmap rg__text_row;     /* text */

/* A channel as a new release needs it: id, the newest version on it (0:
 * none), its preflight spec. */
typedef struct rg__release_channel {
    int64_t id;
    int64_t max_version;
    rg_preflight_spec spec;
} rg__release_channel;
extern const rg__rowmap rg__release_channel_row;

/* A release as a new rollout needs it: its channel and version, and the
 * channel's current release and that one's version (0: none). */
typedef struct rg__rollout_base {
    int64_t channel_id;
    char channel[RG_NAME_MAX + 1];
    int64_t version;
    int64_t current_id;
    int64_t current_version;
} rg__rollout_base;
extern const rg__rowmap rg__rollout_base_row;

/* Whether column c is read as text (RG__C_TEXT, _PTR, _PLAN) rather than
 * as an integer: what a backend asks its driver for. */
bool rg__col_is_text(const rg__col *c);

/* Copies row vals[0 .. m->n) into the record at rec. Fields of type
 * RG__C_PTR then borrow the row's text. Returns 0, or RG_EIO when stored
 * text does not fit its field or a stored plan does not parse (the
 * database was written by something else); rec may then be partly
 * written. */
int rg__row_read(const rg__rowmap *m, const rg__val *vals, void *rec,
                 rg_err *err);

/* Fills vals with the RG__FROM_REC columns of the record at rec, in the
 * map's order, for an INSERT; text is borrowed from rec. Returns how many
 * (at most m->n). A plan column is not bound: a rollout binds its plan as
 * JSON text itself. */
size_t rg__row_vals(const rg__rowmap *m, const void *rec, rg__val *vals);

#endif
