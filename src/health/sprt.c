/* sprt.c - see sprt.h. */
#include "sprt.h"

#include <math.h>

int rg_sprt_thresholds(double alpha, double beta, double *upper, double *lower,
                       rg_err *err)
{
    if (!(alpha > 0.0 && alpha < 0.5))
        return rg_err_field(err, RG_EINVAL, "alpha",
                            "sprt: alpha %g must be in (0, 0.5)", alpha);
    if (!(beta > 0.0 && beta < 0.5))
        return rg_err_field(err, RG_EINVAL, "beta",
                            "sprt: beta %g must be in (0, 0.5)", beta);
    *upper = log((1.0 - beta) / alpha);
    *lower = log(beta / (1.0 - alpha));
    return 0;
}

double rg_sprt_step(double p0, double p1, bool event)
{
    return event ? log(p1 / p0) : log1p(-p1) - log1p(-p0);
}

double rg_sprt_llr(double p0, double p1, uint64_t events, uint64_t trials)
{
    double e = (double)events, q = (double)(trials - events);
    double llr = 0.0;
    if (events > 0)
        llr += e * rg_sprt_step(p0, p1, true);
    if (trials > events)
        llr += q * rg_sprt_step(p0, p1, false);
    return llr;
}

rg_sprt_decision rg_sprt_decide(double llr, double upper, double lower)
{
    if (llr >= upper)
        return RG_SPRT_ACCEPT_H1;
    if (llr <= lower)
        return RG_SPRT_ACCEPT_H0;
    return RG_SPRT_CONTINUE;
}
