/*
 * webhook_sign.h - the signature on every webhook delivery
 * (docs/webhooks.md): HMAC-SHA256, keyed by the subscription's secret,
 * over "<t>.<body>" where t is the sending time in Unix seconds; sent as
 *
 *   X-Rollgate-Signature: t=<t>,v1=<64 lower-case hex digits>
 *
 * so a receiver checks the body and, from t, refuses replays. Pure;
 * thread-safe.
 */
#ifndef RG_WEBHOOK_SIGN_H
#define RG_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "t=" 20 digits ",v1=" 64 hex digits and the NUL, with room. */
#define RG_WEBHOOK_SIG_MAX 96

/* Writes the header value for body (len bytes) sent at t under secret
 * (NUL-terminated, its bytes the key) into out (RG_WEBHOOK_SIG_MAX
 * bytes). */
void rg_webhook_sign(const char *secret, int64_t t, const char *body,
                     size_t len, char out[RG_WEBHOOK_SIG_MAX]);

#endif
