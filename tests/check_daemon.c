/* placeholder: to be replaced by the real suite */
#include "suites.h"

Suite *
daemon_suite(void)
{
	return suite_create("daemon");
}
