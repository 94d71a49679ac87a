/*
 * web.h - the dashboard's files (docs/dashboard.md): rollgated serves the
 * directory the build or `make install` filled (index.html, the app's ES
 * modules and styles, the npm packages they use) at `/` and `/ui/NAME`,
 * with the dashboard's security headers (a Content-Security-Policy that
 * allows no inline script or style and no framing, nosniff, no referrer)
 * and revalidated caching (ETag of size and modification time; 304 to a
 * matching If-None-Match). Nothing is fetched from elsewhere at run time.
 */
#ifndef RG_WEB_H
#define RG_WEB_H

#include "server/server.h"

#include <stddef.h>

/* The headers of every dashboard answer: a static list of name, value
 * pairs ended by NULL (rg_resp.headers). */
extern const char *const rg_web_headers[];

/* Finds the default dashboard directory next to the running binary: DIR/web
 * (the build tree, where rollgated is DIR/rollgated) or
 * DIR/../share/rollgate/web (an installed prefix, rollgated in
 * PREFIX/sbin), the first that holds an index.html. Writes its path to out
 * (cap bytes). Returns 0, or RG_ENOTFOUND with out "" when neither does. */
int rg_web_default_dir(char *out, size_t cap);

/* GET / (index.html) and GET /ui/{name}: one file of srv->cfg.web_dir.
 * Names are one path segment of letters, digits, '.', '-' and '_' not
 * starting with '.'; anything else, or a file that is not there, is 404. */
void rg_api_web_file(rg_server *srv, rg_req *req, rg_resp *resp);

#endif
