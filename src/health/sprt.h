/*
 * sprt.h - Wald's one-sample sequential probability ratio test (SPRT) for
 * Bernoulli observations: the textbook primitives the health gate is built
 * from.
 *
 * H0: each observation is an event (e.g. "endpoint silent") with
 * probability p0; H1: with probability p1 > p0. After every observation the
 * log likelihood ratio llr = log P(data | H1) / P(data | H0) moves by
 * log(p1/p0) for an event and log((1-p1)/(1-p0)) for a non-event. Wald's
 * thresholds: stop for H1 when llr >= A = log((1-beta)/alpha), stop for H0
 * when llr <= B = log(beta/(1-alpha)), continue in between. Wald's test is
 * valid for one fixed pair (p0, p1); the gate itself uses the anytime-valid
 * mixture version in msprt.h.
 *
 * Pure functions of their arguments; thread-safe; no allocation.
 */
#ifndef RG_SPRT_H
#define RG_SPRT_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rg_sprt_decision {
    RG_SPRT_CONTINUE = 0,  /* B < llr < A: keep observing */
    RG_SPRT_ACCEPT_H0 = 1, /* llr <= B */
    RG_SPRT_ACCEPT_H1 = 2, /* llr >= A */
} rg_sprt_decision;

/* Wald's thresholds for error rates alpha (P(accept H1 | H0)) and beta
 * (P(accept H0 | H1)), both in (0, 0.5): *upper = log((1-beta)/alpha),
 * *lower = log(beta/(1-alpha)). Returns 0, or RG_EINVAL naming "alpha" or
 * "beta" when out of range (outputs untouched). */
int rg_sprt_thresholds(double alpha, double beta, double *upper, double *lower,
                       rg_err *err);

/* The llr increment of one observation: log(p1/p0) when event is true,
 * log((1-p1)/(1-p0)) otherwise. p0 and p1 must be in (0, 1). */
double rg_sprt_step(double p0, double p1, bool event);

/* The llr of `events` events among `trials` observations (events <=
 * trials), in any order: the sum of rg_sprt_step over them. p0 and p1 must
 * be in (0, 1). */
double rg_sprt_llr(double p0, double p1, uint64_t events, uint64_t trials);

/* Wald's decision for llr against thresholds upper > 0 > lower. */
rg_sprt_decision rg_sprt_decide(double llr, double upper, double lower);

#endif
