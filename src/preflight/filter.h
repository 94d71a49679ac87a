/*
 * filter.h - the sandbox's seccomp program (internal to src/preflight).
 *
 * Built with libseccomp in the parent, before fork, and exported as raw
 * BPF so that the child installs it with two system calls and no
 * allocation (fork in a threaded process allows only async-signal-safe
 * calls until execve). The rules are listed in sandbox.h.
 */
#ifndef RG_PREFLIGHT_FILTER_H
#define RG_PREFLIGHT_FILTER_H

#include "common/err.h"

#include <linux/filter.h>

/* A BPF program; owns insns. */
typedef struct rg__filter {
    struct sock_filter *insns;
    unsigned short len;
} rg__filter;

/* Builds the filter into *f. Returns 0, RG_EUNAVAIL when this build has
 * no libseccomp (err says so), or RG_EIO/RG_ENOMEM when libseccomp
 * fails. On failure *f is empty. Thread-safe. */
int rg__filter_build(rg__filter *f, rg_err *err);

/* Frees the program; f is empty again. */
void rg__filter_release(rg__filter *f);

#endif
