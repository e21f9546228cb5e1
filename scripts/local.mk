## scripts/ - developer tools: the throwaway PostgreSQL server.
dist_noinst_SCRIPTS += scripts/devdb
