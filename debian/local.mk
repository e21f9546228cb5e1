## debian/ - the Debian packaging, shipped in the release tarball so that
## `dpkg-buildpackage -us -uc -b` works from an unpacked tarball too.
## Files are listed one by one: a build inside the tree leaves debris in
## debian/ (tmp/, files, *.substvars...) that must never be distributed.
EXTRA_DIST += \
	debian/changelog \
	debian/control \
	debian/copyright \
	debian/rules \
	debian/source/format \
	debian/tests/control \
	debian/tests/example \
	debian/dbmigrate.docs \
	debian/dbmigrate.install \
	debian/dbmigrate-driver-mock.install \
	debian/dbmigrate-driver-postgres.install \
	debian/dbmigrate-driver-sqlite.install \
	debian/dbmigrate-driver-mysql.install \
	debian/libdbmigrate0.install \
	debian/libdbmigrate0.symbols \
	debian/libdbmigrate-dev.docs \
	debian/libdbmigrate-dev.examples \
	debian/libdbmigrate-dev.install
