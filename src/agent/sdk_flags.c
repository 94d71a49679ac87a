/* sdk_flags.c - include/rollgate/flags.h: the set in force, swapped by
 * pointer between two slots, each with a count of the evaluations reading
 * it.
 *
 * A reader takes the current slot i, counts itself in readers[i], and
 * checks that i is still current; if a refresh moved on meanwhile it
 * uncounts and tries again. A refresh (serialised by a mutex that readers
 * never take) installs the new set in the other slot once no reader
 * counts there, frees the set it replaces, and makes that slot current.
 * A reader therefore never waits, and a set is freed only after every
 * evaluation that could read it has finished. */
#include "rollgate/flags.h"

#include "common/file.h"
#include "common/json.h"
#include "flagstate.h"
#include "flags/eval.h"
#include "flags/parse.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct snapshot {
    rg_flagset *fs; /* NULL: no set (every flag off) */
    char stamp[RG_FLAGS_STAMP_MAX];
} snapshot;

struct rg_sdk {
    _Atomic(snapshot *) slot[2];
    atomic_long readers[2];
    atomic_int current;
    pthread_mutex_t refresh; /* writers only */
    char path[4096];         /* STATE/flags/active.json */
    struct stat seen;        /* the file as last loaded */
    bool seen_exists;
    char hostname[256];
};

static void copy_msg(char *msg, size_t msglen, const char *text)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", text);
}

static void snapshot_free(snapshot *s)
{
    if (s)
        rg_flagset_free(s->fs);
    free(s);
}

/* Reads and parses the file at path (missing: an empty snapshot). */
static snapshot *snapshot_load(const char *path, rg_err *err)
{
    rg_buf b;
    json_t *doc = NULL;
    snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        rg_err_set(err, RG_ENOMEM, "flags: out of memory");
        return NULL;
    }
    rg_buf_init(&b, RG_FLAGS_FILE_MAX);
    int rc = rg_file_read(path, &b, err);
    if (rc == RG_ENOTFOUND)
        rc = 0;
    else if (rc == 0 &&
             !(doc = rg_json_parse_object(b.data ? b.data : "", b.len, err)))
        rc = RG_EINVAL;
    if (rc == 0 && doc) {
        snprintf(s->stamp, sizeof s->stamp, "%s",
                 json_string_value(json_object_get(doc, "stamp"))
                     ? json_string_value(json_object_get(doc, "stamp"))
                     : "");
        rc = rg_flagset_parse(doc, RG_FLAGS_LENIENT, &s->fs, err);
    }
    json_decref(doc);
    rg_buf_release(&b);
    if (rc != 0) {
        snapshot_free(s);
        return NULL;
    }
    return s;
}

/* Takes a reference on the current snapshot; *i is its slot. */
static snapshot *acquire(rg_sdk *sdk, int *i)
{
    for (;;) {
        int k = atomic_load(&sdk->current);
        atomic_fetch_add(&sdk->readers[k], 1);
        if (atomic_load(&sdk->current) == k) {
            *i = k;
            return atomic_load(&sdk->slot[k]);
        }
        atomic_fetch_sub(&sdk->readers[k], 1);
    }
}

static void release(rg_sdk *sdk, int i)
{
    atomic_fetch_sub(&sdk->readers[i], 1);
}

/* Installs s as the current snapshot (caller holds sdk->refresh). */
static void install(rg_sdk *sdk, snapshot *s)
{
    int next = 1 - atomic_load(&sdk->current);
    while (atomic_load(&sdk->readers[next]) > 0)
        sched_yield(); /* evaluations that began before the last swap */
    snapshot_free(atomic_exchange(&sdk->slot[next], s));
    atomic_store(&sdk->current, next);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int rg_sdk_refresh(rg_sdk *sdk, char *msg, size_t msglen)
{
    struct stat st;
    rg_err err;
    int rc = 0;
    rg_err_clear(&err);
    pthread_mutex_lock(&sdk->refresh);
    bool exists = stat(sdk->path, &st) == 0;
    if (exists == sdk->seen_exists && (!exists || same_file(&st, &sdk->seen)))
        goto done;
    snapshot *s = snapshot_load(sdk->path, &err);
    if (!s) {
        rc = err.code ? err.code : RG_EIO;
        copy_msg(msg, msglen, err.msg);
        goto done;
    }
    install(sdk, s);
    sdk->seen = st;
    sdk->seen_exists = exists;
    rc = 1;
done:
    pthread_mutex_unlock(&sdk->refresh);
    return rc;
}

rg_sdk *rg_sdk_open(const char *state_dir, char *msg, size_t msglen)
{
    rg_sdk *sdk = calloc(1, sizeof *sdk);
    if (!sdk) {
        copy_msg(msg, msglen, "flags: out of memory");
        return NULL;
    }
    pthread_mutex_init(&sdk->refresh, NULL);
    if (snprintf(sdk->path, sizeof sdk->path, "%s/flags/active.json",
                 state_dir) >= (int)sizeof sdk->path) {
        copy_msg(msg, msglen, "flags: state_dir too long");
        rg_sdk_close(sdk);
        return NULL;
    }
    if (gethostname(sdk->hostname, sizeof sdk->hostname - 1) != 0)
        sdk->hostname[0] = '\0';
    for (char *h = sdk->hostname; *h; h++)
        *h = (char)tolower((unsigned char)*h);
    sdk->seen_exists = true; /* with a zero stat, differs from any file:
                                the first refresh loads (or installs an
                                empty set when there is no file) */
    if (rg_sdk_refresh(sdk, msg, msglen) < 0) {
        rg_sdk_close(sdk);
        return NULL;
    }
    return sdk;
}

void rg_sdk_stamp(rg_sdk *sdk, char *out, size_t cap)
{
    int i;
    snapshot *s = acquire(sdk, &i);
    snprintf(out, cap, "%s", s ? s->stamp : "");
    release(sdk, i);
}

/* xorshift64*, per thread: randomness for "random" stickiness. */
static uint32_t thread_random(void *arg)
{
    static _Thread_local uint64_t x;
    (void)arg;
    if (!x)
        x = (uint64_t)(uintptr_t)&x ^ (uint64_t)time(NULL) ^
            0x9e3779b97f4a7c15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545f4914f6cdd1du) >> 32);
}

static rg_flag_ctx to_ctx(const rg_sdk *sdk, const rg_flag_context *c)
{
    static const rg_flag_context none;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!c)
        c = &none;
    return (rg_flag_ctx){
        .user_id = c->user_id,
        .session_id = c->session_id,
        .remote_address = c->remote_address,
        .environment = c->environment,
        .app_name = c->app_name,
        .current_time = c->current_time,
        .props = c->properties,
        .nprops = c->nproperties,
        .now_ms = (double)ts.tv_sec * 1e3 + (double)(ts.tv_nsec / 1000000),
        .random = thread_random,
        .hostname = sdk->hostname[0] ? sdk->hostname : NULL,
    };
}

int rg_flag_enabled(rg_sdk *sdk, const char *name, const rg_flag_context *ctx)
{
    int i;
    rg_flag_ctx c = to_ctx(sdk, ctx);
    snapshot *s = acquire(sdk, &i);
    bool on = s && s->fs && name && rg_flags_enabled(s->fs, name, &c);
    release(sdk, i);
    return on;
}

static void copy_variant(const rg_flag_result *r, rg_flag_variant_out *out)
{
    snprintf(out->name, sizeof out->name, "%s", r->name);
    snprintf(out->payload_type, sizeof out->payload_type, "%s",
             r->payload_type ? r->payload_type : "");
    out->payload_len = r->payload_value ? strlen(r->payload_value) : 0;
    if (out->payload && out->payload_cap)
        snprintf(out->payload, out->payload_cap, "%s",
                 r->payload_value ? r->payload_value : "");
    out->enabled = r->enabled;
    out->feature_enabled = r->feature_enabled;
}

int rg_flag_variant(rg_sdk *sdk, const char *name, const rg_flag_context *ctx,
                    rg_flag_variant_out *out)
{
    int i;
    rg_flag_result r = {.name = "disabled"};
    rg_flag_ctx c = to_ctx(sdk, ctx);
    snapshot *s = acquire(sdk, &i);
    if (s && s->fs && name)
        rg_flags_variant(s->fs, name, &c, &r);
    copy_variant(&r, out); /* before release: r points into the set */
    release(sdk, i);
    return out->enabled;
}

void rg_sdk_close(rg_sdk *sdk)
{
    if (!sdk)
        return;
    snapshot_free(atomic_load(&sdk->slot[0]));
    snapshot_free(atomic_load(&sdk->slot[1]));
    pthread_mutex_destroy(&sdk->refresh);
    free(sdk);
}
