/* placeholder: to be replaced by the real suite */
#include "suites.h"

Suite *
server_suite(void)
{
	return suite_create("server");
}
