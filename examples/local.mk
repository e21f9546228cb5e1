## examples/ - the demo set for other backends (scripts/demo sqlite).
EXTRA_DIST += examples
