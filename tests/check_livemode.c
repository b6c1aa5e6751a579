/* placeholder: to be replaced by the real suite */
#include "suites.h"

Suite *
livemode_suite(void)
{
	return suite_create("livemode");
}
