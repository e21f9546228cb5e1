/*
 * no_entry.c - a test shared object that is not a driver: it exports a
 * function, but not dbmigrate_driver_entry (only a near miss of it), so
 * the loader must refuse it for the missing entry point.
 */
#include <dbmigrate/driver.h>

int dbmigrate_driver(void);

/* A near miss of the entry point's name; never called. */
__attribute__((visibility("default"))) int dbmigrate_driver(void)
{
	return DBMIGRATE_DRIVER_ABI_VERSION;
}
