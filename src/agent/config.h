/*
 * config.h - the agent's configuration file (format in docs/agent.md).
 *
 *   server = http://127.0.0.1:7400
 *   ca_file = /etc/rollgate/ca.pem   (https: the CA to verify the server)
 *   trust_root = /etc/rollgate/root.json  (pinned root metadata: signed
 *                                          releases; old spelling: root)
 *   trust_root_sha256 = <hex>    (or pin it by digest, fetched at start;
 *                                 old spelling: root_sha256)
 *   insecure = true                  (no root: apply unsigned; development)
 *   enrollment_key = <hex>
 *   state_dir = /var/lib/rollgate-agent
 *   flags_environment = production   (fetch this environment's flags)
 *   mirrors = http://cache.example:8080   (artifact caches, tried first)
 *   deltas = false                   (always download whole artifacts)
 *   [channel detections]
 *   consumer = exec /usr/bin/engine "$RG_CONTENT"
 *
 * `key = value` lines, `#` comments, `[channel NAME]` sections holding the
 * channel's hooks. Unknown keys are errors (typos must not pass silently).
 * The config owns every string in it: free with rg_agent_config_release.
 */
#ifndef RG_AGENT_CONFIG_H
#define RG_AGENT_CONFIG_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_AGENT_MAX_CHANNELS 32
#define RG_AGENT_MAX_TAGS 16
#define RG_AGENT_MAX_MIRRORS 4
#define RG_AGENT_MAX_STARTS_LIMIT 10 /* K is 1..10 (see outbox reserve) */

/* One [channel NAME] section: shell commands run with /bin/sh -c, or NULL. */
typedef struct rg_agent_channel_conf {
    char *name;     /* [a-z0-9._-]{1,64} */
    char *validate; /* on the staged content, before `applying` is queued */
    char *activate; /* after the switch */
    char *probe;    /* confirms the trial: exit 0 healthy, else revert */
    char *notify;   /* before applying: tells the endpoint what and why */
    char *consumer; /* long-running program the agent supervises */
} rg_agent_channel_conf;

typedef struct rg_agent_config {
    char *server;          /* base URL, no trailing slash */
    char *ca_file;         /* PEM CA bundle an https server is verified
                              against; NULL: the system's trust store */
    char *root;            /* pinned root metadata file, or NULL */
    char *root_sha256;     /* pinned digest of the root's canonical "signed"
                              (checks root, or fetches it), or NULL */
    bool insecure;         /* no root pinned: apply unverified releases
                              (development only; else nothing is applied) */
    int64_t clock_skew_ms; /* allowance on metadata expiry */
    char *enrollment_key;  /* may be NULL once a token exists */
    char *state_dir;
    char *endpoint_id;            /* default: contents of /etc/machine-id */
    char *os, *os_version, *arch; /* default: detected */
    char *tags[RG_AGENT_MAX_TAGS];
    size_t ntags;
    char *mirrors[RG_AGENT_MAX_MIRRORS]; /* base URLs tried before the
                                            server for artifacts the server
                                            offers at its own paths */
    size_t nmirrors;
    bool deltas; /* apply offered deltas (default); `deltas = false`: never */
    int64_t interval_ms;       /* 0: use the server's interval_s */
    int64_t backoff_max_ms;    /* cap of the exponential backoff */
    int64_t timeout_ms;        /* per HTTP request */
    int64_t max_artifact;      /* bytes; larger artifacts are refused */
    int64_t min_rate;          /* bytes/s a download must keep up over
                                  timeout_ms, else it is cut (and resumed) */
    int64_t trial_deadline_ms; /* unconfirmed trial reverts after this */
    int64_t settle_ms; /* a supervised consumer must stay up this long */
    int max_starts;    /* K: failed starts before reverting */
    char *log_level;
    char *flags_env; /* flags_environment: the flag environment to fetch
                        with each check-in, or NULL (no flags) */
    rg_agent_channel_conf channels[RG_AGENT_MAX_CHANNELS];
    size_t nchannels;
} rg_agent_config;

/* Parses text (NUL-terminated) into c, which it initialises with the
 * defaults first. Does not detect anything: missing endpoint id / os stay
 * NULL. Returns 0 or RG_EINVAL with "line N: ..." in err. On failure c is
 * released. */
int rg_agent_config_parse(const char *text, rg_agent_config *c, rg_err *err);

/* Reads and parses path, then fills what is missing: endpoint_id from
 * /etc/machine-id, os and os_version from /etc/os-release, arch from
 * uname(2). Requires server and state_dir. Returns 0 or an rg_code. */
int rg_agent_config_load(const char *path, rg_agent_config *c, rg_err *err);

/* Fills c->os and c->os_version (when NULL) from an os-release file
 * (ID= and VERSION_ID=); "linux" / "unknown" when it is missing. */
int rg_agent_config_detect_os(rg_agent_config *c, const char *os_release_path,
                              rg_err *err);

/* The section for channel name, or NULL when the config has none. */
const rg_agent_channel_conf *rg_agent_config_channel(const rg_agent_config *c,
                                                     const char *name);

/* Frees every string; c may then be parsed again. */
void rg_agent_config_release(rg_agent_config *c);

#endif
