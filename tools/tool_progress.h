/* A progress line on stderr for long model work (`ssmrt run`, `ssmrt eval`). Nothing
 * is printed for work that finishes within a second. On a terminal the line is
 * rewritten in place; otherwise (logs, CI) a full line is written every 10 s. */
#ifndef SSMRT_TOOL_PROGRESS_H
#define SSMRT_TOOL_PROGRESS_H

#include <stdint.h>

typedef struct tool_progress {
    const char *what;
    int64_t total;
    double start, last;
    int tty, shown;
} tool_progress;

double tool_now(void); /* CLOCK_MONOTONIC seconds */
void tool_progress_start(tool_progress *p, const char *what, int64_t total);
/* done tokens of total. */
void tool_progress_update(tool_progress *p, int64_t done);
/* Ends the line if one was shown. */
void tool_progress_end(tool_progress *p);

#endif
