/* redact.c - see redact.h. */
#include "common/redact.h"

#include <stdio.h>
#include <string.h>

void rg_url_redact(const char *url, char *out, size_t cap)
{
    const char *auth = strstr(url, "://");
    const char *at = auth ? strchr(auth + 3, '@') : NULL;
    const char *slash = auth ? strchr(auth + 3, '/') : NULL;
    const char *colon = auth ? strchr(auth + 3, ':') : NULL;
    if (at && (!slash || at < slash) && colon && colon < at)
        snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, cap, "%s", url);
}
