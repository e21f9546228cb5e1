/*
 * bad_abi.c - a test driver from a future ABI: abi_version 99. The rest
 * of its block is garbage on purpose (struct_size 1, no operations), so
 * the loader's refusal shows it read the version before anything else.
 */
#include <dbmigrate/driver.h>

static const struct dbmigrate_driver bad_abi_driver = {
	.abi_version = 99,
	.struct_size = 1,
	.name = "bad_abi",
	.description = "a driver built for driver ABI 99",
};

DBMIGRATE_DRIVER_DEFINE(bad_abi_driver)
