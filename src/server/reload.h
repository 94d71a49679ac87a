/*
 * reload.h - applies rollgated's configuration again while it serves
 * (SIGHUP; docs/operations.md, "Configuration file").
 *
 * The file and flags are read again (options.h). A file that does not
 * load changes nothing. Otherwise every changed live option is applied
 * at once, with srv->cfg_lock held for writing: a request or a tick sees
 * the old settings or the new ones, never a mix. A changed option that
 * takes a restart (listen, data, TLS files, threads...) is logged as not
 * applied and keeps its value. The access log is opened again even when
 * its setting did not change, so logrotate can move the file and signal.
 */
#ifndef RG_RELOAD_H
#define RG_RELOAD_H

#include "server/options.h"
#include "server/server.h"

/* Reloads opts's file and flags into srv (opened, serving) and opts (kept
 * equal to what is in effect). Logs each change applied, each restart
 * option not applied, or why nothing changed. Call from one thread at a
 * time (rollgated's main thread, on SIGHUP). Returns 0 or the error
 * (nothing changed). */
int rg_reload(rg_server *srv, rg_server_options *opts, rg_err *err);

#endif
