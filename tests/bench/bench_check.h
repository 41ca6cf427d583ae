/* Output checkers of the `ssmrt bench` tests. Each returns 0 if the file passes and
 * prints why otherwise. */
#ifndef SSMRT_TEST_BENCH_CHECK_H
#define SSMRT_TEST_BENCH_CHECK_H

/* require_ops, fields: comma lists (may be NULL). */
int bench_check_json(const char *path, const char *require_ops, const char *fields);
int bench_check_svg(const char *path, int min_polylines);

#endif
