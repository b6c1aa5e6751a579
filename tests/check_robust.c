/* placeholder: to be replaced by the real suite */
#include "suites.h"

Suite *
robust_suite(void)
{
	return suite_create("robust");
}
