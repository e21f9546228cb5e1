/*
 * bad_size.c - a test driver whose vtable claims to end after its
 * identity fields: the right ABI, its own name, but a struct_size too
 * small to hold the operations of ABI 4.
 */
#include <stddef.h>

#include <dbmigrate/driver.h>

static const struct dbmigrate_driver bad_size_driver = {
	.abi_version = DBMIGRATE_DRIVER_ABI_VERSION,
	.struct_size = offsetof(struct dbmigrate_driver, open),
	.name = "bad_size",
	.description = "a driver with a truncated vtable",
};

DBMIGRATE_DRIVER_DEFINE(bad_size_driver)
