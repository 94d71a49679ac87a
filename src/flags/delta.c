/* delta.c - see delta.h. */
#include "delta.h"

#include <string.h>

/* Removes from arr every object whose key equals match (by json_equal). */
static void remove_where(json_t *arr, const char *key, const json_t *match)
{
    for (size_t i = json_array_size(arr); i-- > 0;)
        if (json_equal(json_object_get(json_array_get(arr, i), key), match))
            json_array_remove(arr, i);
}

/* Replaces (or appends) item in state[list], matched on key. */
static int upsert(json_t *state, const char *list, const char *key,
                  json_t *item)
{
    json_t *arr = json_object_get(state, list);
    if (!json_is_array(arr)) {
        arr = json_array();
        if (!arr || json_object_set_new(state, list, arr))
            return RG_ENOMEM;
    }
    remove_where(arr, key, json_object_get(item, key));
    return json_array_append(arr, item) ? RG_ENOMEM : 0;
}

static int apply_one(json_t *state, const json_t *ev, rg_err *err, size_t i)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *feature = json_object_get(ev, "feature");
    json_t *segment = json_object_get(ev, "segment");
    if (type && strcmp(type, "hydration") == 0) {
        json_t *f = json_object_get(ev, "features");
        json_t *s = json_object_get(ev, "segments");
        if (json_object_set_new(state, "features",
                                json_is_array(f) ? json_copy(f)
                                                 : json_array()) ||
            json_object_set_new(state, "segments",
                                json_is_array(s) ? json_copy(s) : json_array()))
            return rg_err_set(err, RG_ENOMEM, "out of memory");
        return 0;
    }
    if (type && strcmp(type, "feature-updated") == 0 && json_is_object(feature))
        return upsert(state, "features", "name", feature);
    if (type && strcmp(type, "segment-updated") == 0 && json_is_object(segment))
        return upsert(state, "segments", "id", segment);
    if (type && strcmp(type, "feature-removed") == 0 &&
        json_is_string(json_object_get(ev, "featureName"))) {
        remove_where(json_object_get(state, "features"), "name",
                     json_object_get(ev, "featureName"));
        return 0;
    }
    if (type && strcmp(type, "segment-removed") == 0 &&
        json_is_integer(json_object_get(ev, "segmentId"))) {
        remove_where(json_object_get(state, "segments"), "id",
                     json_object_get(ev, "segmentId"));
        return 0;
    }
    return rg_err_field(err, RG_EINVAL, "events",
                        "events[%zu]: unknown or malformed event '%s'", i,
                        type ? type : "");
}

int rg_flags_delta_apply(json_t *state, const json_t *events, rg_err *err)
{
    if (!json_is_array(events))
        return rg_err_field(err, RG_EINVAL, "events",
                            "events: must be an array");
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        int rc = apply_one(state, ev, err, i);
        if (rc == RG_ENOMEM)
            return rg_err_set(err, RG_ENOMEM, "out of memory");
        if (rc)
            return rc;
    }
    return 0;
}
