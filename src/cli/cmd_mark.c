/* cmd_mark.c — `pasalista mark`: a teacher corrects one student's mark. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista mark --class NAME --date YYYY-MM-DD STUDENT present|absent|excused|review\n"
           "                      [--note TEXT] [--by WHO] [--db FILE] [--json]\n"
           "\n"
           "Set a student's mark in a session by hand. The change is kept in the audit\n"
           "log (who, when, old and new mark, note), and what the photos said stays\n"
           "visible beside it in reports. A later `take` never overwrites it. A date\n"
           "with no session yet gets one (everyone else absent).\n"
           "\n"
           "  --class NAME  the class (required)\n"
           "  --date D      the session's date, YYYY-MM-DD (required)\n"
           "  --note TEXT   why (e.g. \"doctor's note\")\n"
           "  --by WHO      who made the change (default: your user name)\n"
           "  --db FILE     the database (default ./pasalista.db)\n"
           "  --json        print the change as JSON\n"
           "\n"
           "Exit status: 0 done; 2 bad command line; 3 nothing changed (unknown class or\n"
           "student, bad date, ...).\n");
}

static const char *user_name(void)
{
    const char *u = getenv("USER");
    if (u && *u) return u;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_name ? pw->pw_name : "unknown";
}

int cmd_mark(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"class", required_argument, 0, 'c'},
        {"date", required_argument, 0, 't'}, {"note", required_argument, 0, 'n'},
        {"by", required_argument, 0, 'b'},   {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *db = NULL, *cls = NULL, *date = NULL, *note = NULL, *by = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c': cls = optarg; break;
        case 't': date = optarg; break;
        case 'n': note = optarg; break;
        case 'b': by = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("mark", "unknown option");
        }
    }
    if (!cls) return cli_usage_error("mark", "--class is required");
    if (!date) return cli_usage_error("mark", "--date is required");
    if (argc - optind != 2) return cli_usage_error("mark", "give STUDENT and present|absent|excused|review");
    const char *student = argv[optind], *status = argv[optind + 1];
    if (!by) by = user_name();
    pl_error err = {0};
    char old[16] = "";
    if (pl_mark_set(db, cls, date, student, status, by, note, old, &err)) return cli_fail(&err);
    if (json) {
        printf("{\"class\":");
        cli_json_string(cls);
        printf(",\"date\":\"%s\",\"student\":", date);
        cli_json_string(student);
        printf(",\"old\":\"%s\",\"new\":\"%s\",\"by\":", old, status);
        cli_json_string(by);
        printf("}\n");
    } else {
        printf("%s %s %s: %s -> %s (by %s)\n", cls, date, student, old[0] ? old : "none", status, by);
    }
    return EXIT_OK;
}
