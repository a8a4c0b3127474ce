/* cmd_class.c — `pasalista class create|list|add-students|show`: classes
 * and their rosters. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista class create NAME   [--db FILE]\n"
           "       pasalista class list          [--db FILE] [--json]\n"
           "       pasalista class add-students NAME SOURCE [--db FILE] [--json]\n"
           "       pasalista class show NAME     [--db FILE] [--json]\n"
           "\n"
           "Classes and their rosters. A student can be in several classes; the face\n"
           "gallery is shared by all of them.\n"
           "\n"
           "  create        make a class (and the database file, readable by you only)\n"
           "  list          every class with its number of students and sessions\n"
           "  add-students  put every student of SOURCE on the roster: an enrollment\n"
           "                folder (one subfolder per student), a flat folder of photos\n"
           "                named after the students, or the folder `roster import` wrote.\n"
           "                Students not enrolled yet are added without a face.\n"
           "  show          the roster with each student's totals, and the sessions\n"
           "\n"
           "  --db FILE     the database (default ./pasalista.db)\n"
           "  --json        print JSON instead of a table\n"
           "\n"
           "Exit status: 0 done; 2 bad command line; 3 nothing done (e.g. no such class).\n");
}

static int do_list(const char *db, int json)
{
    pl_error err = {0};
    pl_class_summary *c = NULL;
    int n = 0;
    if (pl_class_list(db, &c, &n, &err)) return cli_fail(&err);
    if (json) {
        printf("{\"classes\":[");
        for (int i = 0; i < n; i++) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_string(c[i].name);
            printf(",\"students\":%d,\"sessions\":%d,\"created\":\"%s\"}", c[i].n_students,
                   c[i].n_sessions, c[i].created);
        }
        printf("]}\n");
    } else {
        for (int i = 0; i < n; i++)
            printf("%-32s %4d students %4d sessions\n", c[i].name, c[i].n_students, c[i].n_sessions);
        if (n == 0) printf("no classes yet; see 'pasalista class create'\n");
    }
    free(c);
    return EXIT_OK;
}

static int do_add(const char *db, const char *cls, const char *source, int json)
{
    pl_error err = {0};
    pl_class_add_result r;
    if (pl_class_add_students(db, cls, source, &r, &err)) return cli_fail(&err);
    if (json)
    {
        printf("{\"class\":");
        cli_json_string(cls);
        printf(",\"listed\":%d,\"added\":%d,\"already\":%d,\"new_students\":%d}\n", r.listed,
               r.added, r.already, r.new_students);
    }
    else
        printf("%s: %d students listed, %d added, %d already on the roster, %d not enrolled yet\n",
               cls, r.listed, r.added, r.already, r.new_students);
    return EXIT_OK;
}

static int do_show(const char *db, const char *cls, int json)
{
    pl_error err = {0};
    pl_report r;
    if (pl_report_build(db, cls, NULL, NULL, &r, &err)) return cli_fail(&err);
    pl_status st = PL_OK;
    if (json) {
        st = pl_report_write(&r, 1, "json", "-", &err);
    } else {
        int on = 0;
        for (int i = 0; i < r.n_students; i++) on += r.students[i].on_roster;
        printf("class %s: %d students, %d sessions\n\nSTUDENTS\n", r.cls, on, r.n_sessions);
        for (int i = 0; i < r.n_students; i++) {
            const pl_report_student *s = &r.students[i];
            printf("  %-36s present %3d  absent %3d  excused %3d  review %3d", s->name, s->present,
                   s->absent, s->excused, s->review);
            if (!isnan(s->percent)) printf("  %5.1f%%", s->percent);
            printf("%s\n", s->on_roster ? "" : "  (not on the roster)");
        }
        printf("\nSESSIONS\n");
        for (int j = 0; j < r.n_sessions; j++) {
            const pl_report_session *se = &r.sessions[j];
            printf("  %s  %d photos  %d faces  present %d  absent %d  excused %d", se->date,
                   se->photos, se->faces, se->present, se->absent, se->excused);
            if (se->open_review) printf("  %d to review", se->open_review);
            printf("\n");
        }
    }
    pl_report_free(&r);
    return st ? cli_fail(&err) : EXIT_OK;
}

int cmd_class(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("class", "unknown option");
        }
    }
    int n = argc - optind;
    char **a = argv + optind;
    if (n < 1) return cli_usage_error("class", "give a subcommand: create, list, add-students or show");
    if (!strcmp(a[0], "list") && n == 1) return do_list(db, json);
    if (!strcmp(a[0], "create") && n == 2) {
        pl_error err = {0};
        int created = 0;
        if (pl_class_create(db, a[1], &created, &err)) return cli_fail(&err);
        printf(created ? "class %s created\n" : "class %s already exists\n", a[1]);
        return EXIT_OK;
    }
    if (!strcmp(a[0], "add-students") && n == 3) return do_add(db, a[1], a[2], json);
    if (!strcmp(a[0], "show") && n == 2) return do_show(db, a[1], json);
    return cli_usage_error("class", "'%s' with %d argument(s) is not a class command", a[0], n - 1);
}
