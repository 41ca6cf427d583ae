/* Progress of a long sweep on stderr: a bar redrawn in place on a terminal, one line
 * per item otherwise (so logs of CI runs show what ran and when). stdout keeps only
 * the results. */
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PROGRESS_WIDTH 24

void bench_progress_begin(bench_progress *p, int total)
{
    p->total = total > 0 ? total : 1;
    p->done = 0;
    p->tty = isatty(STDERR_FILENO);
    p->start = bench_now_seconds();
}

/* Draws item i (0-based) with its label. */
static void progress_draw(bench_progress *p, int i, const char *label)
{
    double elapsed = bench_now_seconds() - p->start;
    i = i < p->total ? i : p->total - 1;
    if (p->tty) {
        char bar[PROGRESS_WIDTH + 1];
        int fill = (int)((long)i * PROGRESS_WIDTH / p->total);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(PROGRESS_WIDTH - fill));
        bar[PROGRESS_WIDTH] = 0;
        /* \033[K clears what a longer previous label left behind. */
        fprintf(stderr, "\r[%s] %d/%d %6.1fs %.60s\033[K", bar, i + 1, p->total, elapsed, label);
    } else {
        fprintf(stderr, "bench: [%d/%d] %.1fs %s\n", i + 1, p->total, elapsed, label);
    }
    fflush(stderr);
}

void bench_progress_step(bench_progress *p, const char *label)
{
    progress_draw(p, p->done++, label);
}

void bench_progress_skip(bench_progress *p)
{
    p->done++;
}

void bench_progress_note(bench_progress *p, const char *label)
{
    if (p->tty && p->done > 0)
        progress_draw(p, p->done - 1, label);
}

void bench_progress_clear(bench_progress *p)
{
    if (p->tty) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

void bench_progress_end(bench_progress *p)
{
    bench_progress_clear(p);
}
