/* cli.h — what every subcommand shares: the command table, exit codes and
 * printing helpers. One file per subcommand (cmd_*.c); each parses its own
 * options with getopt_long and calls the public API only. */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <stdio.h>

#include "pasalista.h"

/* Exit codes, documented in `pasalista --help`. */
enum {
    EXIT_OK = 0,        /* everything succeeded                              */
    EXIT_PARTIAL = 1,   /* done, but some inputs failed (each one reported)  */
    EXIT_USAGE = 2,     /* bad command line                                  */
    EXIT_FAILED = 3     /* nothing done: an error stopped the command        */
};

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* Print "pasalista: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print an error from the library and return EXIT_FAILED. */
int cli_fail(const pl_error *err);
/* Report a bad option and point at --help; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A JSON string literal on stdout (quotes and escapes). */
void cli_json_string(const char *s);

/* Progress for pl_progress_fn callbacks: a bar when stderr is a terminal,
 * one line per item otherwise. */
typedef struct cli_progress_state {
    const char *label;
    int quiet;
} cli_progress_state;
void cli_progress(void *ctx, int done, int total, const char *what);

int cmd_models(int argc, char **argv);
int cmd_roster(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_take(int argc, char **argv);
int cmd_identify(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_run_model(int argc, char **argv);
int cmd_gender(int argc, char **argv);
int cmd_class(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_student(int argc, char **argv);
int cmd_backup(int argc, char **argv);

#endif
