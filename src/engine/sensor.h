/*
 * sensor.h - the sample sensor: the fixed corpus of recorded events that
 * ships inside rollgate-engine.
 *
 * It stands for what the endpoint's sensor really supplies: proc_exec
 * events with 20 fields and net_conn events with 6 (field lists in
 * docs/engine.md), plus lines any engine must survive (a comment, a blank
 * line, an unknown event type, a value of the wrong type). Selftest runs
 * it, and the field counts it carries are the counts coverage truncates
 * generated events to (supply.h). Static data; thread-safe.
 */
#ifndef RG_ENGINE_SENSOR_H
#define RG_ENGINE_SENSOR_H

#include <stddef.h>

/* The recorded event lines (no newlines); *n receives their number. */
const char *const *rg_sensor_events(size_t *n);

#endif
