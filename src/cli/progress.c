/* progress.c — a progress bar on a terminal, plain lines otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_progress(void *ctx, int done, int total, const char *what)
{
    cli_progress_state *p = ctx;
    if (!p || p->quiet) return;
    if (isatty(fileno(stderr))) {
        int width = 30, filled = total > 0 ? done * width / total : width;
        char bar[64];
        memset(bar, '#', (size_t)filled);
        memset(bar + filled, '.', (size_t)(width - filled));
        bar[width] = '\0';
        fprintf(stderr, "\r%s [%s] %d/%d %-40.40s", p->label, bar, done, total, what ? what : "");
        if (done >= total) fputc('\n', stderr);
        fflush(stderr);
    } else if (done < total && what && *what) {
        /* Not a terminal: one plain line per item, no control characters. */
        fprintf(stderr, "%s %d/%d %s\n", p->label, done + 1, total, what);
    }
}

void cli_json_string(const char *s) { pl_json_write_string(stdout, s); }
