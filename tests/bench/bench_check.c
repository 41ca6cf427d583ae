/* bench_check: validates the files `ssmrt bench` writes.
 *
 *   bench_check json FILE [REQUIRED_OPS [FIELDS]]   (comma lists; "-" for none)
 *   bench_check svg FILE MIN_POLYLINES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_check.h"

static const char *check_arg(int argc, char **argv, int i)
{
    return i < argc && strcmp(argv[i], "-") ? argv[i] : NULL;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "json"))
        return bench_check_json(argv[2], check_arg(argc, argv, 3), check_arg(argc, argv, 4));
    if (argc == 4 && !strcmp(argv[1], "svg"))
        return bench_check_svg(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: bench_check json FILE [OPS [FIELDS]] | svg FILE MIN_POLYLINES\n");
    return 2;
}
