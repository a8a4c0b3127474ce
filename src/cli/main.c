/* main.c — the pasalista command: dispatch to one subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command commands[] = {
    {"roster", cmd_roster, "import the class spreadsheet and download the photos"},
    {"enroll", cmd_enroll, "enroll students' faces from their photos"},
    {"take", cmd_take, "take attendance from class photos"},
    {"identify", cmd_identify, "name the person in every photo of a folder"},
    {"class", cmd_class, "create classes and their rosters, show one"},
    {"mark", cmd_mark, "correct a student's mark by hand (kept in the audit log)"},
    {"report", cmd_report, "attendance matrix of a class: csv, xlsx, html or json"},
    {"student", cmd_student, "list students, record consent, forget a student"},
    {"backup", cmd_backup, "consistent copy of the database while it is in use"},
    {"evaluate", cmd_evaluate, "measure accuracy on labelled photos, compare models"},
    {"calibrate", cmd_calibrate, "threshold from the enrolled photos; warn about look-alikes"},
    {"gender", cmd_gender, "estimate gender from faces; train and evaluate gender models"},
    {"export", cmd_export, "write the enrolled gallery as a NumPy .npz"},
    {"models", cmd_models, "list the pretrained model files and check them"},
    {"run-model", cmd_run_model, "run any supported model file on a .npy tensor"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pasalista: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(const pl_error *err)
{
    cli_error("%s", err->msg[0] ? err->msg : pl_status_name(err->code));
    return EXIT_FAILED;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pasalista %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'pasalista %s --help'.\n", command);
    va_end(ap);
    return EXIT_USAGE;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pasalista COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "Take class attendance from photos, on this computer.\n"
            "\n"
            "Commands:\n");
    for (int i = 0; i < n_commands; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'pasalista COMMAND --help' for a command's options.\n"
            "\n"
            "Exit status: 0 success; 1 done but some inputs failed; 2 bad command line;\n"
            "3 an error stopped the command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("pasalista %s\n", pl_version());
        return EXIT_OK;
    }
    for (int i = 0; i < n_commands; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'; see 'pasalista --help'", name);
    return EXIT_USAGE;
}
