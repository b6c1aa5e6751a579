/* suites.h - every Check suite of the test runner. One tests/check_<module>.c
 * file defines each; tests/check_main.c runs them all (CK_RUN_SUITE=name
 * selects one, CK_FORK=no runs them in-process for gdb). */
#ifndef SHS_TESTS_SUITES_H
#define SHS_TESTS_SUITES_H

#include <check.h>

Suite *http_suite(void);      /* tests/check_http.c: request parser, chunked skipper */
Suite *path_suite(void);      /* tests/check_path.c: normalise, encode, open beneath root */
Suite *mime_suite(void);      /* tests/check_mime.c */
Suite *response_suite(void);  /* tests/check_response.c: dates, reasons, header buffer */
Suite *server_suite(void);    /* tests/check_server.c: the real binary over real sockets */
Suite *semantics_suite(void); /* tests/check_semantics.c: validators, ranges, listings, ... */
Suite *daemon_suite(void);    /* tests/check_daemon.c: daemon, pidfile, logs, systemd, install */
Suite *robust_suite(void);    /* tests/check_robust.c: hostile clients, overload, faults */
Suite *live_suite(void);      /* tests/check_live.c: script placement, 404 suggestions */
Suite *livemode_suite(void);  /* tests/check_livemode.c: --live, --dev, --spa over sockets */
Suite *cond_suite(void);      /* tests/check_cond.c: ETag, dates, conditionals, Range parser */
Suite *options_suite(void);   /* tests/check_options.c: the command line, from tables */
Suite *workers_suite(void);   /* tests/check_workers.c: --workers master, restarts, signals */
Suite *conformance_suite(void); /* tests/check_conformance.c: RFC 9110/9112 over sockets */
Suite *logs_suite(void);      /* tests/check_logs.c: log stalls, long lines, chroot reopen, logrotate */
Suite *pool_suite(void);      /* tests/check_pool.c: request buffers borrowed per request */
Suite *fixes_suite(void);     /* tests/check_fixes.c: issue 11 (stale cache, listings, startup) */
Suite *fileio_suite(void);    /* tests/check_fileio.c: whole-file pread helper */
Suite *cli_suite(void);        /* tests/check_cli.c: the command line and --check, real binary */
Suite *upgrade_suite(void);   /* tests/check_upgrade.c: SIGUSR2 binary upgrade (issue 16) */
Suite *responders_suite(void); /* tests/check_responders.c: responders from tables, no socket */
Suite *origin_suite(void);    /* tests/check_origin.c: issue 17 (ETags, Cache-Control, health, lame duck) */
Suite *rules_suite(void);      /* tests/check_rules.c: _redirects/_headers parser and matcher */
Suite *rules_site_suite(void); /* tests/check_rules_site.c: the sample site tests/rules-site */
Suite *refusals_suite(void);   /* tests/check_refusals.c: issue 12 refusals explained, --follow-symlinks, sidecar-only */

#endif
