/* cmd_report.c — `pasalista report`: the attendance matrix of a class. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista report [--class NAME]... [--from D] [--to D]\n"
           "                        --format csv|xlsx|html|json [--out FILE] [--db FILE]\n"
           "\n"
           "The students x dates matrix of a class: each mark (a manual correction shows\n"
           "what the photos said beside it), each student's totals and attendance\n"
           "percentage (present / (present + absent + review); excused days are not\n"
           "counted), and the sessions whose review items are still open.\n"
           "\n"
           "  --class NAME   the class; repeat for several (default: every class;\n"
           "                 CSV takes exactly one)\n"
           "  --from D       first date, YYYY-MM-DD (default: the first session)\n"
           "  --to D         last date, YYYY-MM-DD (default: the last session)\n"
           "  --format F     csv, xlsx (one sheet per class, frozen header row),\n"
           "                 html (one self-contained page) or json (default csv)\n"
           "  --out FILE     write to FILE (default: standard output; xlsx needs FILE)\n"
           "  --db FILE      the database (default ./pasalista.db)\n"
           "\n"
           "Exit status: 0 done; 2 bad command line; 3 nothing written.\n");
}

/* Every class when none was named. */
static int all_classes(const char *db, const char ***names, int *n, pl_class_summary **list)
{
    pl_error err = {0};
    if (pl_class_list(db, list, n, &err)) return cli_fail(&err);
    if (*n == 0) {
        cli_error("no classes yet; see 'pasalista class create'");
        return EXIT_FAILED;
    }
    *names = calloc((size_t)*n, sizeof **names);
    if (!*names) return EXIT_FAILED;
    for (int i = 0; i < *n; i++) (*names)[i] = (*list)[i].name;
    return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"class", required_argument, 0, 'c'},
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 't'},
        {"format", required_argument, 0, 'F'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db = NULL, *from = NULL, *to = NULL, *format = "csv", *out = NULL;
    const char **names = calloc((size_t)argc, sizeof *names);
    int n = 0, c, ret = EXIT_OK;
    if (!names) return EXIT_FAILED;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': names[n++] = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'F': format = optarg; break;
        case 'o': out = optarg; break;
        case 'h': help(); free(names); return EXIT_OK;
        default: free(names); return cli_usage_error("report", "unknown option");
        }
    }
    if (optind < argc) {
        free(names);
        return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    }
    pl_class_summary *list = NULL;
    if (n == 0) {
        free(names);
        names = NULL;
        if ((ret = all_classes(db, &names, &n, &list)) != EXIT_OK) {
            free(list);
            return ret;
        }
    }
    pl_report *reports = calloc((size_t)n, sizeof *reports);
    pl_error err = {0};
    int built = 0;
    pl_status st = reports ? PL_OK : PL_ERR_NOMEM;
    for (; built < n && !st; built++) st = pl_report_build(db, names[built], from, to, &reports[built], &err);
    if (!st) st = pl_report_write(reports, n, format, out, &err);
    if (st) ret = cli_fail(&err);
    for (int i = 0; reports && i < n; i++) pl_report_free(&reports[i]);
    free(reports);
    free(names);
    free(list);
    return ret;
}
