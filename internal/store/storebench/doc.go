// Package storebench measures the stores side by side: every benchmark
// runs the same work on the SQLite store and on the PostgreSQL store in
// one run, so the README's table compares like with like. It has only
// benchmarks; sizes come from WHODUNIT_BENCH_* variables (see
// docs/postgres.md) so that the default run stays short.
package storebench
