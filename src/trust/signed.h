/*
 * signed.h - signed documents and the reasons a document is refused.
 *
 *   {"signed": {...}, "signatures": [{"keyid": "<hex>", "sig": "<hex>"}, ...]}
 *
 * A signature signs the canonical JSON (canon.h) of "signed". Counting
 * (TUF's rule): a signature counts when its key id is one of the trusted
 * keys and it verifies; each key counts once however often it signed;
 * signatures by other keys and bad ones are noted but never count.
 */
#ifndef RG_TRUST_SIGNED_H
#define RG_TRUST_SIGNED_H

#include "key.h"

#include <jansson.h>

#define RG_MAX_SIGNATURES 64 /* per document */

/* Why a release (or a root) is refused; names in rg_trust_reason_name. */
typedef enum rg_trust_reason {
    RG_TRUST_OK = 0,
    RG_TRUST_MALFORMED,     /* "malformed": not a well-formed document */
    RG_TRUST_UNSIGNED,      /* "unsigned": no metadata or no signature */
    RG_TRUST_BAD_SIGNATURE, /* "bad_signature": a trusted key's signature
                               does not verify */
    RG_TRUST_UNKNOWN_KEY,   /* "unknown_key": signed by keys the root does
                               not list */
    RG_TRUST_THRESHOLD,     /* "too_few_signatures": valid, fewer than k */
    RG_TRUST_WRONG_CHANNEL, /* "wrong_channel": metadata of another channel */
    RG_TRUST_EXPIRED,       /* "expired" */
    RG_TRUST_ROLLBACK,      /* "rollback": version not above the highest */
    RG_TRUST_HASH_MISMATCH, /* "hash_mismatch" */
    RG_TRUST_SIZE_MISMATCH, /* "size_mismatch" */
    RG_TRUST_TOO_LONG,      /* "too_long": more bytes than signed */
    RG_TRUST_VERSION_MISMATCH, /* "version_mismatch": offered version is
                                  not the signed one */
} rg_trust_reason;

/* The stable snake_case name of r (see above). */
const char *rg_trust_reason_name(rg_trust_reason r);

typedef struct rg_sig_count {
    int valid;   /* distinct trusted keys with a valid signature */
    int bad;     /* trusted keys whose signature did not verify */
    int unknown; /* signatures by keys not trusted */
    int total;   /* signature entries */
    char first_bad[RG_KEYID_HEX];
    char first_unknown[RG_KEYID_HEX];
} rg_sig_count;

/* A new document {"signed": body, "signatures": []}; steals body. NULL
 * when out of memory. */
json_t *rg_signed_new(json_t *body);

/* Checks doc's shape ("signed" an object, "signatures" an array of at
 * most RG_MAX_SIGNATURES {"keyid","sig"} strings, nothing else). Returns 0
 * or RG_EINVAL naming what is wrong. */
int rg_signed_check_shape(const json_t *doc, rg_err *err);

/* Adds k's signature of doc's "signed" (replacing an earlier one by the
 * same key). k must hold its secret. Returns 0, RG_EINVAL or RG_ENOMEM. */
int rg_signed_add(json_t *doc, const rg_key *k, rg_err *err);

/* Counts doc's signatures against the nkeys trusted keys into *out.
 * Returns 0 or RG_EINVAL (bad shape). */
int rg_signed_count(const json_t *doc, const rg_key *keys, size_t nkeys,
                    rg_sig_count *out, rg_err *err);

/* Turns a count that falls short of threshold into the reason and a
 * message in err (the most specific first: a bad signature by a trusted
 * key, then signatures by unknown keys only, then none at all, else too
 * few). Returns RG_TRUST_OK when c->valid >= threshold. what names the
 * document in the message ("release 7", "root version 2"). */
rg_trust_reason rg_signed_verdict(const rg_sig_count *c, int threshold,
                                  const char *what, rg_err *err);

#endif
