/* cmd_enroll.c — `pasalista enroll SOURCE`: put the students' faces in the
 * gallery, saying for every photo what happened to it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista enroll SOURCE [--db FILE] [--model NAME] [--threads N] [--json] [--quiet]\n"
           "\n"
           "Enroll every student of SOURCE, which is one of:\n"
           "  - a folder with one subfolder per student: 'Ana María Pérez/1.jpg', ...\n"
           "  - a flat folder of photos named after the students: 'Ana María Pérez.jpg'\n"
           "  - the folder written by 'pasalista roster import'\n"
           "\n"
           "Every photo is checked (readable, exactly one face, big, sharp and bright\n"
           "enough) and reported with the reason when refused. A student with no usable\n"
           "photo is not enrolled. Re-running adds only what is new.\n"
           "\n"
           "  --db FILE      the database (default ./pasalista.db; created if missing)\n"
           "  --model NAME   embedding network (default %s; see 'pasalista models')\n"
           "  --min-face N   smallest face to detect, in pixels (default 20)\n"
           "  --threads N    compute threads (default: every core, at most 8)\n"
           "  --json         one JSON object with every photo's outcome\n"
           "  --quiet        no progress, only the summary\n"
           "\n"
           "Exit status: 0 all photos usable or already enrolled; 1 some photo or\n"
           "student failed (each is listed); 2 bad command line; 3 nothing done.\n",
           pl_default_model());
}

static const char *status_word(pl_enroll_status s)
{
    switch (s) {
    case PL_ENROLL_ADDED: return "added";
    case PL_ENROLL_ALREADY: return "already";
    case PL_ENROLL_REJECTED: return "rejected";
    case PL_ENROLL_ERROR: return "error";
    }
    return "?";
}

static void print_json(const pl_enroll_result *r)
{
    printf("{\"students\":%d,\"students_ok\":%d,\"students_failed\":%d,\"added\":%d,\"already\":%d,"
           "\"rejected\":%d,\"errors\":%d,\"photos\":[",
           r->students, r->students_ok, r->students_failed, r->added, r->already, r->rejected, r->errors);
    for (int i = 0; i < r->n_items; i++) {
        const pl_enroll_item *it = &r->items[i];
        printf("%s{\"student\":", i ? "," : "");
        cli_json_string(it->student);
        printf(",\"path\":");
        cli_json_string(it->path);
        printf(",\"status\":\"%s\",\"reason\":", status_word(it->status));
        cli_json_string(it->reason);
        printf("}");
    }
    printf("]}\n");
}

static void print_table(const pl_enroll_result *r)
{
    for (int i = 0; i < r->n_items; i++) {
        const pl_enroll_item *it = &r->items[i];
        if (it->status == PL_ENROLL_ADDED || it->status == PL_ENROLL_ALREADY) continue;
        fprintf(stderr, "%-8s %s: %s\n", status_word(it->status), it->path[0] ? it->path : it->student,
                it->reason);
    }
    printf("%d students: %d enrolled, %d with no usable photo\n", r->students, r->students_ok,
           r->students_failed);
    printf("%d photos: %d added, %d already enrolled, %d rejected, %d unreadable\n", r->n_items, r->added,
           r->already, r->rejected, r->errors);
}

int cmd_enroll(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"model", required_argument, 0, 'm'},
        {"threads", required_argument, 0, 't'}, {"min-face", required_argument, 0, 'f'},
        {"json", no_argument, 0, 'j'},          {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    pl_app_options o = {0};
    o.create_db = 1;
    int json = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hqj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db_path = optarg; break;
        case 'm': o.model = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'f': o.min_face = atoi(optarg); break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("enroll", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("enroll", "give exactly one SOURCE folder");
    if (o.threads < 0 || o.threads > 256) return cli_usage_error("enroll", "--threads must be 1..256");

    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    if (!app) return cli_fail(&err);
    pl_enroll_result r;
    cli_progress_state progress = {"enrolling", quiet || json};
    pl_status st = pl_enroll(app, argv[optind], cli_progress, &progress, &r, &err);
    pl_app_close(app);
    if (st != PL_OK) return cli_fail(&err);
    if (json) print_json(&r);
    else print_table(&r);
    int failed = r.rejected + r.errors + r.students_failed;
    pl_enroll_result_free(&r);
    return failed ? EXIT_PARTIAL : EXIT_OK;
}
