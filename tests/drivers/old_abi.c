/*
 * old_abi.c - a test driver as one built against the driver ABI 3 header
 * declares itself: abi_version 3, and a vtable of ABI 3's shape (the
 * identity members, then 24 operations, the last ones since ABI 3). ABI 4
 * moved the dialect into the driver, so the loader must refuse it with a
 * message that says to rebuild it, never read it as an ABI 4 vtable.
 */
#include <stddef.h>

#include <dbmigrate/driver.h>

/* The vtable of ABI 3: identity first, then its 24 operations. */
struct old_abi_vtable {
	unsigned abi_version;
	size_t struct_size;
	const char *name;
	const char *description;
	unsigned caps;
	void (*ops[24])(void);
};

static const struct old_abi_vtable old_abi_driver = {
	.abi_version = 3,
	.struct_size = sizeof(struct old_abi_vtable),
	.name = "old_abi",
	.description = "a driver built for driver ABI 3",
};

const struct dbmigrate_driver *dbmigrate_driver_entry(void);

/* The entry point, returning the ABI-3 block as the loader sees it. */
__attribute__((visibility("default"))) const struct dbmigrate_driver *
dbmigrate_driver_entry(void)
{
	const void *p = &old_abi_driver;

	return p;
}
