/* flag_floor.c - see flag_floor.h. */
#include "server/flag_floor.h"

#include "common/buf.h"
#include "flags/share.h"
#include "model/exposure.h"

#include <stdlib.h>
#include <string.h>

/* What the two scans gather. */
typedef struct floor_scan {
    const char *name;
    rg_exposure_params xp;
    uint32_t ns;      /* strata known when the scan began */
    uint64_t *size;   /* endpoints per stratum */
    uint32_t *lowest; /* ns * RG_EXPOSURE_MAX_PER_STRATUM buckets */
    size_t *n_lowest; /* per stratum */
    uint32_t *share;  /* per stratum: the raised share (second scan) */
    uint32_t above;   /* buckets below this are on without the floor */
    char **ids;
    size_t n, cap;
    int oom;
} floor_scan;

static int first_scan(void *ctx, const rg_fleet_view *v)
{
    floor_scan *x = ctx;
    if (v->stratum >= x->ns)
        return 0; /* a stratum newer than the scan: the next floor's */
    x->size[v->stratum]++;
    rg_exposure_track_lowest(
        &x->lowest[v->stratum * RG_EXPOSURE_MAX_PER_STRATUM],
        &x->n_lowest[v->stratum], x->xp.min_per_stratum,
        rg_flag_share_bucket(x->name, v->id));
    return 0;
}

static int second_scan(void *ctx, const rg_fleet_view *v)
{
    floor_scan *x = ctx;
    uint32_t b = rg_flag_share_bucket(x->name, v->id);
    if (v->stratum >= x->ns || b < x->above || b >= x->share[v->stratum])
        return 0;
    char *id = strdup(v->id);
    if (!id || rg_array_reserve((void **)&x->ids, &x->cap, x->n + 1,
                                sizeof *x->ids) < 0) {
        free(id);
        x->oom = 1;
        return 1;
    }
    x->ids[x->n++] = id;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rg_flag_floor(rg_fleet *fleet, const char *name, const rg_plan *plan,
                  int wave, uint32_t share_ppm, uint32_t from_pct, char ***ids,
                  size_t *n, rg_err *err)
{
    floor_scan x = {.name = name, .ns = rg_fleet_strata(fleet)};
    uint32_t wave_pct = rg_flag_share_percent(share_ppm);
    rg_exposure_params_default(&x.xp);
    x.above =
        (wave_pct > from_pct ? wave_pct : from_pct) * RG_FLAG_SHARE_STEP_PPM;
    x.size = calloc(x.ns + 1, sizeof *x.size);
    x.lowest = calloc((size_t)x.ns * RG_EXPOSURE_MAX_PER_STRATUM + 1,
                      sizeof *x.lowest);
    x.n_lowest = calloc(x.ns + 1, sizeof *x.n_lowest);
    x.share = calloc(x.ns + 1, sizeof *x.share);
    if (x.size && x.lowest && x.n_lowest && x.share) {
        rg_fleet_scan(fleet, first_scan, &x);
        for (uint32_t s = 0; s < x.ns; s++)
            x.share[s] = rg_exposure_stratum_share(
                &x.xp, plan, wave, share_ppm, x.size[s],
                &x.lowest[s * RG_EXPOSURE_MAX_PER_STRATUM], x.n_lowest[s]);
        rg_fleet_scan(fleet, second_scan, &x);
    } else {
        x.oom = 1;
    }
    free(x.size);
    free(x.lowest);
    free(x.n_lowest);
    free(x.share);
    if (x.oom) {
        rg_flag_floor_free(x.ids, x.n);
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    }
    if (x.n)
        qsort(x.ids, x.n, sizeof *x.ids, by_id);
    *ids = x.ids;
    *n = x.n;
    return 0;
}

void rg_flag_floor_free(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

bool rg_flag_floor_has(char *const *ids, size_t n, const char *id)
{
    return n && bsearch(&id, ids, n, sizeof *ids, by_id) != NULL;
}
