## migrations/ - the demo set (the seed's examples).
EXTRA_DIST += migrations
