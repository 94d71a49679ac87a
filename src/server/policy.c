/* policy.c - see policy.h. */
#include "policy.h"

#include "common/json.h"

#include <stdio.h>
#include <string.h>

const char *const rg_policy_keys[RG_POLICY_KEYS] = {"os", "os_version", "arch",
                                                    "hw", "region"};

/* A selector value: 1..RG_FLEET_ATTR_MAX bytes without control
 * characters. */
static bool value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RG_FLEET_ATTR_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int parse_attrs(const json_t *o, rg_policy_selector *out, rg_err *err)
{
    if (!json_is_object(o) || json_object_size(o) == 0)
        return rg_err_field(err, RG_EINVAL, "selector.attribute",
                            "selector.attribute must be an object with at "
                            "least one of os, os_version, arch, hw, region");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        int k = -1;
        for (int i = 0; i < RG_POLICY_KEYS && k < 0; i++)
            if (strcmp(key, rg_policy_keys[i]) == 0)
                k = i;
        if (k < 0)
            return rg_err_field(err, RG_EINVAL, "selector.attribute",
                                "selector.attribute: unknown key '%.64s' "
                                "(os, os_version, arch, hw, region)",
                                key);
        const char *s = json_string_value(v);
        if (!s || !value_ok(s)) {
            char field[64];
            snprintf(field, sizeof field, "selector.attribute.%s", key);
            return rg_err_field(err, RG_EINVAL, field,
                                "%s must be a string of 1..%d bytes", field,
                                RG_FLEET_ATTR_MAX);
        }
        snprintf(out->attr[k], sizeof out->attr[k], "%s", s);
    }
    return 0;
}

int rg_policy_selector_parse(const json_t *v, rg_policy_selector *out,
                             rg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return rg_err_field(err, RG_EINVAL, "selector",
                            "selector must be an object: {\"tag\": ...} or "
                            "{\"attribute\": {...}}");
    const json_t *tag = json_object_get(v, "tag");
    const json_t *attr = json_object_get(v, "attribute");
    const char *key;
    const json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (strcmp(key, "tag") != 0 && strcmp(key, "attribute") != 0)
            return rg_err_field(err, RG_EINVAL, "selector",
                                "selector: unknown field '%.64s' (tag or "
                                "attribute)",
                                key);
    }
    if ((tag != NULL) == (attr != NULL))
        return rg_err_field(err, RG_EINVAL, "selector",
                            "selector needs exactly one of tag and attribute");
    if (attr)
        return parse_attrs(attr, out, err);
    const char *s = json_string_value(tag);
    if (!s || !value_ok(s))
        return rg_err_field(err, RG_EINVAL, "selector.tag",
                            "selector.tag must be a string of 1..%d bytes",
                            RG_FLEET_ATTR_MAX);
    snprintf(out->tag, sizeof out->tag, "%s", s);
    return 0;
}

json_t *rg_policy_selector_json(const rg_policy_selector *s)
{
    if (s->tag[0])
        return json_pack("{s:s}", "tag", s->tag);
    json_t *a = json_object();
    for (int i = 0; a && i < RG_POLICY_KEYS; i++)
        if (s->attr[i][0] && json_object_set_new(a, rg_policy_keys[i],
                                                 json_string(s->attr[i]))) {
            json_decref(a);
            return NULL;
        }
    return a ? json_pack("{s:o}", "attribute", a) : NULL;
}

bool rg_policy_matches(const rg_policy_selector *s, const rg_fleet_attrs *a)
{
    if (s->tag[0]) {
        for (size_t i = 0; i < a->n_tags; i++)
            if (strcmp(a->tags[i], s->tag) == 0)
                return true;
        return false;
    }
    const char *have[RG_POLICY_KEYS] = {a->os, a->os_version, a->arch, a->hw,
                                        a->region};
    bool any = false;
    for (int i = 0; i < RG_POLICY_KEYS; i++) {
        if (!s->attr[i][0])
            continue;
        if (strcmp(s->attr[i], have[i]) != 0)
            return false;
        any = true;
    }
    return any;
}

int rg_policy_mode_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "n-1") == 0)
        return RG_POLICY_N1;
    if (strcmp(name, "pin") == 0)
        return RG_POLICY_PIN;
    return -1;
}

const char *rg_policy_mode_name(int mode)
{
    return mode == RG_POLICY_N1 ? "n-1" : mode == RG_POLICY_PIN ? "pin" : "?";
}

bool rg_policy_precedes(int mode_a, int64_t id_a, int mode_b, int64_t id_b)
{
    if (mode_a != mode_b)
        return mode_a == RG_POLICY_PIN;
    return id_a < id_b;
}
