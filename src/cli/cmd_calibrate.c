/* cmd_calibrate.c — `pasalista calibrate`: a threshold from the enrolled
 * photos themselves, stored for `take`, and a warning about look-alikes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista calibrate [--db FILE] [--model NAME] [--far X] [--dry-run] [--json]\n"
           "\n"
           "Propose the match threshold for a target false-match rate from the enrolled\n"
           "photos alone: two photos of one student are a genuine pair, photos of two\n"
           "students an impostor pair. The accept threshold lets at most the target\n"
           "fraction of impostor pairs through; review is the same at 10x the rate.\n"
           "Students who score like one person (twins, siblings, or one person enrolled\n"
           "twice) are listed as look-alikes: no threshold separates them. The thresholds\n"
           "are stored in the database and `take` uses them.\n"
           "\n"
           "  --db FILE      the database (default ./pasalista.db)\n"
           "  --model NAME   embedding network (default %s)\n"
           "  --far X        target false-match rate (default 0.001)\n"
           "  --dry-run      propose only; store nothing\n"
           "  --json         one JSON object\n"
           "\n"
           "Exit status: 0 done; 1 done, but look-alike students were found; 2 bad\n"
           "command line; 3 nothing done.\n",
           pl_default_model());
}

static void print_json(const pl_calibration *c)
{
    printf("{\"model\":");
    cli_json_string(c->model);
    printf(",\"target_far\":%g,\"students\":%d,\"photos\":%d,\"genuine_pairs\":%d,\"impostor_pairs\":%d,"
           "\"accept\":%.4f,\"review\":%.4f,\"far\":%.6f,\"tar\":%.4f,\"old_accept\":%.4f,\"old_review\":%.4f,"
           "\"applied\":%s,\"lookalikes\":[",
           c->target_far, c->students, c->photos, c->n_genuine, c->n_impostor, c->accept, c->review, c->far, c->tar,
           c->old_accept, c->old_review, c->applied ? "true" : "false");
    for (int i = 0; i < c->n_lookalikes; i++) {
        printf("%s{\"a\":", i ? "," : "");
        cli_json_string(c->lookalikes[i].a);
        printf(",\"b\":");
        cli_json_string(c->lookalikes[i].b);
        printf(",\"score\":%.4f}", c->lookalikes[i].score);
    }
    printf("]}\n");
}

static void print_text(const pl_calibration *c)
{
    printf("model %s: %d students, %d photos: %d genuine pairs, %d impostor pairs\n", c->model, c->students,
           c->photos, c->n_genuine, c->n_impostor);
    printf("accept >= %.4f (was %.4f): false-match rate %.5f on the roster (target %g), "
           "genuine pairs accepted %.3f\n",
           c->accept, c->old_accept, c->far, c->target_far, c->tar);
    printf("review >= %.4f (was %.4f)\n", c->review, c->old_review);
    if (c->n_impostor * c->target_far < 10)
        printf("note: only %d impostor pairs: a rate of %g rests on %.1f of them; enroll more photos or\n"
               "      students for a finer estimate\n",
               c->n_impostor, c->target_far, c->n_impostor * c->target_far);
    if (c->n_genuine == 0)
        printf("note: no student has two photos, so nothing says how well a student matches themself\n");
    for (int i = 0; i < c->n_lookalikes; i++)
        printf("warning: look-alikes: %s and %s score %.3f, like one person; check their marks by hand\n",
               c->lookalikes[i].a, c->lookalikes[i].b, c->lookalikes[i].score);
    printf(c->applied ? "stored: take now uses these thresholds\n" : "not stored (--dry-run)\n");
}

int cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},   {"model", required_argument, 0, 'm'},
        {"far", required_argument, 0, 'f'},  {"dry-run", no_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    pl_app_options o = {0};
    double far = 1e-3;
    int json = 0, dry = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db_path = optarg; break;
        case 'm': o.model = optarg; break;
        case 'f': far = atof(optarg); break;
        case 'n': dry = 1; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("calibrate", "unknown option");
        }
    }
    if (optind != argc) return cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
    if (!(far > 0 && far < 1)) return cli_usage_error("calibrate", "--far must be in (0, 1)");
    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    if (!app) return cli_fail(&err);
    pl_calibration cal;
    pl_status st = pl_calibrate(app, far, !dry, &cal, &err);
    pl_app_close(app);
    if (st != PL_OK) return cli_fail(&err);
    if (json) print_json(&cal);
    else print_text(&cal);
    int status = cal.n_lookalikes ? EXIT_PARTIAL : EXIT_OK;
    pl_calibration_free(&cal);
    return status;
}
