"""PostgreSQL-specific tests: a package, so their module names never clash with the
SQLite tests of the same name one folder up."""
