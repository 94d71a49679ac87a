/*
 * stopper.h - a background thread's stop signal and its timed waits:
 * the thread waits between rounds with rg_stopper_wait, which returns
 * early, false, once another thread called rg_stopper_stop. Waits use
 * CLOCK_MONOTONIC (a wall clock step changes nothing). Thread-safe.
 */
#ifndef RG_STOPPER_H
#define RG_STOPPER_H

#include <pthread.h>
#include <stdbool.h>

typedef struct rg_stopper {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} rg_stopper;

/* Initialises s, not stopped. Release with rg_stopper_release. */
void rg_stopper_init(rg_stopper *s);
void rg_stopper_release(rg_stopper *s);

/* Waits ms milliseconds or until stopped. Returns false when stopped. */
bool rg_stopper_wait(rg_stopper *s, int ms);

/* Whether s was stopped (no wait). */
bool rg_stopper_stopped(rg_stopper *s);

/* Stops s: every wait returns false from now on. */
void rg_stopper_stop(rg_stopper *s);

#endif
