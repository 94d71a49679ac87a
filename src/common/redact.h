/*
 * redact.h - a URL as messages may show it: its password hidden.
 */
#ifndef RG_REDACT_H
#define RG_REDACT_H

#include <stddef.h>

/* url into out (cap bytes, always NUL-terminated, cut to fit) with the
 * password of its user part (scheme://user:PASSWORD@host...) replaced by
 * "***"; a URL without one is copied as it is. */
void rg_url_redact(const char *url, char *out, size_t cap);

#endif
