/* engine_path.c - a channel's preflight engine: an absolute path, or a
 * name found in --engine-dir (or else in $PATH). */
#include "server/engine_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes DIR/NAME into out when it fits and is executable. */
static bool try_candidate(const char *dir, size_t dir_len, const char *name,
                          char *out, size_t cap)
{
    int w = snprintf(out, cap, "%.*s/%s", (int)dir_len, dir, name);
    return dir_len > 0 && w > 0 && (size_t)w < cap && access(out, X_OK) == 0;
}

bool rg_engine_resolve(const char *engine_dir, const char *engine, char *out,
                       size_t cap)
{
    if (engine[0] == '/') {
        int w = snprintf(out, cap, "%s", engine);
        if (w > 0 && (size_t)w < cap && access(out, X_OK) == 0)
            return true;
    } else if (engine_dir && engine_dir[0]) {
        if (try_candidate(engine_dir, strlen(engine_dir), engine, out, cap))
            return true;
    } else {
        const char *path = getenv("PATH");
        for (const char *p = path ? path : ""; *p;) {
            size_t n = strcspn(p, ":");
            if (try_candidate(p, n, engine, out, cap))
                return true;
            p += n;
            if (*p)
                p++;
        }
    }
    if (cap)
        out[0] = '\0';
    return false;
}
