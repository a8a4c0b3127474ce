/* cmd_student.c — `pasalista student list|consent|forget`: the people, their
 * consent, and deleting everything biometric about one of them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista student list [--db FILE] [--json]\n"
           "       pasalista student consent NAME yes|no [--date YYYY-MM-DD] [--db FILE]\n"
           "       pasalista student forget NAME [--keep-attendance] [--db FILE]\n"
           "\n"
           "  list               every student: usable photos, embeddings, classes, consent\n"
           "  consent            record that the student (or guardian) agreed to face\n"
           "                     processing (yes) or withdrew it (no), and when (default today)\n"
           "  forget             delete the student's photos, face crops and embeddings,\n"
           "                     their faces in class photos, and take them off every class;\n"
           "                     their attendance marks go too unless --keep-attendance.\n"
           "                     The database is then compacted so the deleted bytes cannot\n"
           "                     be recovered from the file.\n"
           "\n"
           "  --db FILE          the database (default ./pasalista.db)\n"
           "  --json             print JSON instead of a table (list)\n"
           "\n"
           "Exit status: 0 done; 2 bad command line; 3 nothing changed.\n");
}

static int do_list(const char *db, int json)
{
    pl_error err = {0};
    pl_student_summary *s = NULL;
    int n = 0;
    if (pl_student_list(db, &s, &n, &err)) return cli_fail(&err);
    if (json) printf("{\"students\":[");
    for (int i = 0; i < n; i++) {
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_string(s[i].name);
            printf(",\"photos\":%d,\"embeddings\":%d,\"classes\":%d,\"consent\":%s,\"consent_date\":",
                   s[i].photos, s[i].embeddings, s[i].classes, s[i].consent ? "true" : "false");
            cli_json_string(s[i].consent_date);
            printf("}");
        } else {
            printf("%-36s %3d photos %3d classes  consent %s%s%s\n", s[i].name, s[i].photos,
                   s[i].classes, s[i].consent ? "yes" : "no", s[i].consent_date[0] ? " " : "",
                   s[i].consent_date);
        }
    }
    if (json) printf("]}\n");
    free(s);
    return EXIT_OK;
}

int cmd_student(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"date", required_argument, 0, 't'},
                                         {"keep-attendance", no_argument, 0, 'k'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *date = NULL;
    int json = 0, keep = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 't': date = optarg; break;
        case 'k': keep = 1; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("student", "unknown option");
        }
    }
    int n = argc - optind;
    char **a = argv + optind;
    pl_error err = {0};
    if (n < 1) return cli_usage_error("student", "give a subcommand: list, consent or forget");
    if (!strcmp(a[0], "list") && n == 1) return do_list(db, json);
    if (!strcmp(a[0], "consent") && n == 3) {
        int yes = !strcmp(a[2], "yes");
        if (!yes && strcmp(a[2], "no") != 0) return cli_usage_error("student", "consent is yes or no");
        if (pl_student_consent(db, a[1], yes, date, &err)) return cli_fail(&err);
        printf("%s: consent %s\n", a[1], yes ? "given" : "withdrawn");
        return EXIT_OK;
    }
    if (!strcmp(a[0], "forget") && n == 2) {
        if (pl_student_forget(db, a[1], keep, &err)) return cli_fail(&err);
        printf("%s: forgotten (photos, face crops and embeddings deleted%s; database compacted)\n",
               a[1], keep ? "; attendance marks kept" : ", attendance marks too");
        return EXIT_OK;
    }
    return cli_usage_error("student", "'%s' with %d argument(s) is not a student command", a[0], n - 1);
}
