/* cli_run.h — for tests that drive the pasalista command as a user would.
 *
 *     int rc = run("%s take %s --db %s", cli(), photo, db);
 *     CHECK_CONTAINS(out, "PRESENT");
 *
 * run() executes a shell command with stderr joined to stdout, keeps the
 * output in `out` and returns the exit status (128 when killed). cli() is
 * the binary under test: $PASALISTA_CLI (set by make test / make asan), or
 * build/pasalista. */
#ifndef PL_TEST_CLI_RUN_H
#define PL_TEST_CLI_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char out[1 << 17];

static const char *cli(void)
{
    const char *c = getenv("PASALISTA_CLI");
    return c ? c : "build/pasalista";
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#endif
