/* cmd_take.c — `pasalista take PHOTO...`: who is present. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista take PHOTO... [--class NAME [--date YYYY-MM-DD]] [--db FILE] [--out DIR]\n"
           "                      [--json] [--model NAME] [--threads N]\n"
           "\n"
           "Find every face in the class photos, match each one to an enrolled student\n"
           "(one face per student per photo) and say who is present, who is absent,\n"
           "which matches need a person to check, and which faces are unknown.\n"
           "\n"
           "  --class NAME   match only the students of this class and record the\n"
           "                 session (photos by hash, every face, each mark) in the\n"
           "                 database; more photos the same class and date add to it\n"
           "  --date D       the session's date, YYYY-MM-DD (default today)\n"
           "  --db FILE      the database (default ./pasalista.db)\n"
           "  --out DIR      write an annotated copy of each photo, contact-sheet.jpg\n"
           "                 (each face beside the student's enrollment photo) and\n"
           "                 attendance.csv into DIR; the photos are never modified\n"
           "  --json         one JSON object: present, absent, unknown, review, photos\n"
           "  --model NAME   embedding network used at enrollment (default %s)\n"
           "  --min-face N   smallest face to detect, in pixels (default 20)\n"
           "  --threads N    compute threads (default: every core, at most 8)\n"
           "  --gender[=M]   add each present student's gender ESTIMATE (M/F, P(male))\n"
           "                 and the class's counts, marked as an estimate; model M is a\n"
           "                 `gender` model name or trained file (default faceres). It\n"
           "                 never changes who is present. Off by default.\n"
           "\n"
           "Exit status: 0 done; 1 done but some photo could not be read; 2 bad command\n"
           "line; 3 nothing done.\n",
           pl_default_model());
}

static void print_table(const pl_take_result *r)
{
    printf("PRESENT (%d)\n", r->present);
    for (int s = 0; s < r->n_students; s++) {
        const pl_take_student *st = &r->students[s];
        if (st->status == PL_PRESENT)
            printf("  %-36s %.2f  %s\n", st->name, st->score, r->photos[st->photo].path);
    }
    printf("NEEDS REVIEW (%d)\n", r->review);
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *f = &r->faces[i];
        if (f->decision == PL_REVIEW)
            printf("  %-36s %.2f  %s  box %.0f,%.0f %.0fx%.0f\n", r->students[f->student].name, f->score,
                   r->photos[f->photo].path, f->x1, f->y1, f->x2 - f->x1 + 1, f->y2 - f->y1 + 1);
    }
    printf("ABSENT (%d)\n", r->absent);
    for (int s = 0; s < r->n_students; s++)
        if (r->students[s].status == PL_ABSENT) printf("  %s\n", r->students[s].name);
    printf("UNKNOWN FACES (%d)\n", r->unknown);
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *f = &r->faces[i];
        if (f->decision != PL_UNKNOWN) continue;
        printf("  %s  box %.0f,%.0f %.0fx%.0f", r->photos[f->photo].path, f->x1, f->y1, f->x2 - f->x1 + 1,
               f->y2 - f->y1 + 1);
        if (f->best_guess >= 0) printf("  (closest: %s %.2f)", r->students[f->best_guess].name, f->score);
        printf("\n");
    }
}

/* take --class: the session recorded, then the usual result. */
static void print_session(const pl_take_session *rec, const pl_take_result *r, int json)
{
    if (json) {
        printf("{\"class\":");
        cli_json_string(rec->cls);
        printf(",\"date\":\"%s\",\"session_created\":%s,\"photos_added\":%d,"
               "\"photos_already\":%d,\"faces_added\":%d,\"marks_changed\":%d,\"take\":",
               rec->date, rec->session_created ? "true" : "false", rec->photos_added,
               rec->photos_already, rec->faces_added, rec->marks_changed);
        fflush(stdout);
        pl_take_write_json(r, stdout);
        printf("}\n");
        return;
    }
    print_table(r);
    printf("SESSION %s %s: %s; %d photo(s) added, %d already there; %d face(s), %d mark(s) changed\n",
           rec->cls, rec->date, rec->session_created ? "new" : "added to", rec->photos_added,
           rec->photos_already, rec->faces_added, rec->marks_changed);
}

/* take --gender: an estimate, labelled as one, never a decision. */
static void print_gender(const pl_take_result *r, const pl_take_gender *g, int json)
{
    if (json) {
        printf(",\"gender_estimate\":{\"note\":\"estimate from the face; not used for attendance\","
               "\"model\":");
        cli_json_string(g->model);
        printf(",\"present\":{\"M\":%d,\"F\":%d},\"review\":{\"M\":%d,\"F\":%d},\"students\":[",
               g->male, g->female, g->review_male, g->review_female);
        for (int s = 0, k = 0; s < r->n_students; s++) {
            if (g->p_male[s] < 0) continue;
            printf("%s{\"name\":", k++ ? "," : "");
            cli_json_string(r->students[s].name);
            printf(",\"status\":\"%s\",\"gender_estimate\":\"%s\",\"p_male\":%.4f}",
                   pl_decision_name(r->students[s].status), pl_gender_label(g->p_male[s]),
                   g->p_male[s]);
        }
        printf("]}}\n");
        return;
    }
    printf("GENDER ESTIMATE (model %s; from the face, not used for attendance)\n", g->model);
    for (int s = 0; s < r->n_students; s++)
        if (g->p_male[s] >= 0)
            printf("  %-36s %s (estimate, P(male) %.2f)%s\n", r->students[s].name,
                   pl_gender_label(g->p_male[s]), g->p_male[s],
                   r->students[s].status == PL_REVIEW ? "  [needs review]" : "");
    printf("  present: %d M, %d F (estimated)", g->male, g->female);
    if (g->review_male + g->review_female)
        printf("; needs review: %d M, %d F", g->review_male, g->review_female);
    printf("\n");
}

int cmd_take(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"model", required_argument, 0, 'm'},
        {"threads", required_argument, 0, 't'}, {"min-face", required_argument, 0, 'f'},
        {"out", required_argument, 0, 'o'},     {"json", no_argument, 0, 'j'},
        {"class", required_argument, 0, 'c'},   {"date", required_argument, 0, 'D'},
        {"gender", optional_argument, 0, 'G'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    pl_app_options o = {0};
    const char *out_dir = NULL, *cls = NULL, *date = NULL;
    const char *gender = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hjo:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db_path = optarg; break;
        case 'm': o.model = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'f': o.min_face = atoi(optarg); break;
        case 'o': out_dir = optarg; break;
        case 'j': json = 1; break;
        case 'c': cls = optarg; break;
        case 'D': date = optarg; break;
        case 'G': gender = optarg ? optarg : pl_gender_default_model(); break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("take", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("take", "give at least one PHOTO");
    if (o.threads < 0 || o.threads > 256) return cli_usage_error("take", "--threads must be 1..256");
    if (date && !cls) return cli_usage_error("take", "--date needs --class");

    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    if (!app) return cli_fail(&err);
    pl_take_result r;
    pl_take_session rec = {0};
    const char *const *photos = (const char *const *)argv + optind;
    pl_status st = cls ? pl_take_class(app, cls, date, photos, argc - optind, &r, &rec, &err)
                       : pl_take(app, photos, argc - optind, &r, &err);
    if (st == PL_OK && out_dir) st = pl_take_write_outputs(app, &r, out_dir, &err);
    pl_app_close(app);
    pl_take_gender gr = {0};
    if (st == PL_OK && gender) st = pl_take_gender_estimate(&r, gender, o.threads, &gr, &err);
    if (st != PL_OK) {
        if (r.photos) pl_take_result_free(&r);
        return cli_fail(&err);
    }
    for (int p = 0; p < r.n_photos; p++)
        if (!r.photos[p].ok) cli_error("%s", r.photos[p].error);
    if (gender && json) printf("{\"take\":");
    fflush(stdout);
    if (cls) print_session(&rec, &r, json);
    else if (json) pl_take_write_json(&r, stdout);
    else print_table(&r);
    if (gender) print_gender(&r, &gr, json);
    pl_take_gender_free(&gr);
    int failed = r.photos_failed;
    pl_take_result_free(&r);
    return failed ? EXIT_PARTIAL : EXIT_OK;
}
