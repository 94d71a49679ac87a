/* activation.c - see activation.h. */
#include "model/activation.h"

#include <string.h>

static const char *const names[] = {"none", "restart", "reboot"};
static const int64_t default_max_ms[] = {120000, 600000, 1800000};
#define N_KINDS ((int)(sizeof names / sizeof *names))

const char *rg_activation_name(int kind)
{
    return kind >= 0 && kind < N_KINDS ? names[kind] : "";
}

int rg_activation_parse(const char *name, int *kind, rg_err *err)
{
    for (int i = 0; i < N_KINDS; i++)
        if (strcmp(name, names[i]) == 0) {
            *kind = i;
            return 0;
        }
    return rg_err_field(err, RG_EINVAL, "activation.kind",
                        "activation '%.32s' is not one of none, restart, "
                        "reboot",
                        name);
}

int64_t rg_activation_default_max_ms(int kind)
{
    return kind >= 0 && kind < N_KINDS ? default_max_ms[kind] : 0;
}

int rg_activation_check(int kind, int64_t max_ms, rg_err *err)
{
    if (kind < 0 || kind >= N_KINDS)
        return rg_err_field(err, RG_EINVAL, "activation.kind",
                            "activation kind %d is not one of none, restart, "
                            "reboot",
                            kind);
    if (max_ms < RG_ACTIVATION_MAX_MS_MIN ||
        max_ms > RG_ACTIVATION_MAX_MS_LIMIT)
        return rg_err_field(err, RG_EINVAL, "activation.max_s",
                            "activation max %lld ms is not within 1 s..24 h",
                            (long long)max_ms);
    return 0;
}
