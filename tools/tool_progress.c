/* Progress on stderr for long model work. */
#include "tool_progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tool_progress_start(tool_progress *p, const char *what, int64_t total)
{
    p->what = what;
    p->total = total;
    p->start = p->last = tool_now();
    p->tty = isatty(STDERR_FILENO);
    p->shown = 0;
}

void tool_progress_update(tool_progress *p, int64_t done)
{
    double now = tool_now();
    double interval = p->tty ? 0.25 : 10.0;
    if (now - p->start < 1.0 || now - p->last < interval)
        return;
    p->last = now;
    double rate = done / (now - p->start);
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    fprintf(stderr, "%s%s: %lld/%lld tokens (%.0f%%), %.0f tok/s, %.0f s left%s",
            p->tty ? "\r" : "", p->what, (long long)done, (long long)p->total,
            p->total ? 100.0 * done / p->total : 100.0, rate, eta, p->tty ? "\033[K" : "\n");
    fflush(stderr);
    p->shown = 1;
}

void tool_progress_end(tool_progress *p)
{
    if (p->shown && p->tty)
        fputc('\n', stderr);
    p->shown = 0;
}
