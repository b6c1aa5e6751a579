/* placeholder: to be replaced by the real suite */
#include "suites.h"

Suite *
semantics_suite(void)
{
	return suite_create("semantics");
}
