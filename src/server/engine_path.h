/*
 * engine_path.h - where rollgated finds a channel's preflight engine.
 *
 * A channel names its engine by absolute path or by program name. With
 * `--engine-dir DIR` a name is looked up in DIR only, so the engines a
 * server may run are chosen by its configuration, not by the PATH it was
 * started with; without it, a name is searched in rollgated's PATH
 * (docs/preflight.md).
 */
#ifndef RG_ENGINE_PATH_H
#define RG_ENGINE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves engine (an absolute path or a program name) against engine_dir
 * ("" or NULL: $PATH) into out (cap bytes). Returns true and fills out
 * when it names an executable file; false otherwise (out is then ""). */
bool rg_engine_resolve(const char *engine_dir, const char *engine, char *out,
                       size_t cap);

#endif
