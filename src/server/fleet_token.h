/*
 * fleet_token.h - the fleet table's token index (internal to the
 * fleet_*.c files): token hash -> record, for artifact downloads and to
 * tell a foreign token (403) from an unknown one (401).
 *
 * An open-addressing table of (first 4 bytes of the token hash, ref) under
 * f->tok_lock; every candidate is checked against the record's current
 * token in constant time. Lock order: tok_lock before a shard's mutex.
 */
#ifndef RG_FLEET_TOKEN_H
#define RG_FLEET_TOKEN_H

#include "server/fleet_table.h"

/* Decodes a lower-case hex SHA-256 into out. Returns 0 or -1 when hex is
 * not one. */
int rg__fleet_token_from_hex(const char *hex,
                             uint8_t out[RG_FLEET_TOKEN_BYTES]);

/* Replaces record ref's old token (if had_old) by new_tok in the index.
 * Called with no shard locked. Returns 0 or RG_ENOMEM. */
int rg__fleet_tok_update(rg_fleet *f, bool had_old,
                         const uint8_t old_tok[RG__FLEET_TOKEN_KEPT],
                         const uint8_t new_tok[RG_FLEET_TOKEN_BYTES],
                         uint32_t ref);

/* Whether a record's token is t; its id is copied to id_out (RG_EPID_MAX+1
 * bytes, may be NULL). Called with no shard locked. */
bool rg__fleet_tok_find(rg_fleet *f, const uint8_t t[RG_FLEET_TOKEN_BYTES],
                        char *id_out);

#endif
