## man/ - the manual page.
dist_man1_MANS = man/dbmigrate.1
