/* check_main.c - the one test runner: adds every suite and exits non-zero on
 * any failure. */
#include <stdlib.h>

#include "harness.h"
#include "suites.h"

int
main(void)
{
	h_scale_check_timeouts();
	SRunner *sr = srunner_create(http_suite());
	srunner_add_suite(sr, path_suite());
	srunner_add_suite(sr, mime_suite());
	srunner_add_suite(sr, response_suite());
	srunner_add_suite(sr, cond_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, server_suite());
	srunner_add_suite(sr, semantics_suite());
	srunner_add_suite(sr, daemon_suite());
	srunner_add_suite(sr, robust_suite());
	srunner_add_suite(sr, live_suite());
	srunner_add_suite(sr, livemode_suite());
	srunner_add_suite(sr, workers_suite());
	srunner_add_suite(sr, conformance_suite());
	srunner_add_suite(sr, logs_suite());
	srunner_add_suite(sr, pool_suite());
	srunner_add_suite(sr, fixes_suite());
	srunner_add_suite(sr, fileio_suite());
	srunner_add_suite(sr, responders_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, origin_suite());
	srunner_add_suite(sr, rules_suite());
	srunner_add_suite(sr, rules_site_suite());
	srunner_add_suite(sr, refusals_suite());
	srunner_add_suite(sr, upgrade_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
