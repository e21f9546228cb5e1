## scripts/ - developer tools: the throwaway PostgreSQL server.
dist_noinst_SCRIPTS += scripts/devdb scripts/deps scripts/check scripts/test-summary scripts/demo
