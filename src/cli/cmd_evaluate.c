/* cmd_evaluate.c — `pasalista evaluate DATA`: detection, verification,
 * identification and attendance accuracy of one or more models on labelled
 * photos, as tables, JSON, or an HTML report with plots. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista evaluate DATA [--model A,B,...] [--out DIR] [--json]\n"
           "\n"
           "Measure pasalista on labelled photos. DATA holds identities/<person>/*.jpg and\n"
           "optionally groups/<name>.jpg with groups/<name>.json ground truth (faces[].bbox\n"
           "[x,y,w,h], faces[].identity, people_present). Each photo is detected once and\n"
           "embedded by every model named. Reported per model: ROC, AUC, EER, TAR at FAR\n"
           "1e-2 and 1e-3 with their thresholds; leave-one-out rank-1/rank-5 and the most\n"
           "confused people; attendance precision/recall per group photo at the built-in\n"
           "thresholds and at the threshold calibrated from the identity photos; time per\n"
           "face. Detection recall/precision at IoU 0.4 and 0.5, by face size.\n"
           "\n"
           "  --model LIST    comma-separated embedders (default %s)\n"
           "  --out DIR       write DIR/report.html (self-contained) and DIR/report.json\n"
           "  --far X         calibration target false-match rate (default 0.001)\n"
           "  --threads N     compute threads (default 2)\n"
           "  --max-people N  use only the first N people, by folder name (quick runs)\n"
           "  --max-photos N  use at most N photos per person (quick runs)\n"
           "  --max-groups N  use at most N group photos (quick runs)\n"
           "  --json          the whole result as one JSON object on stdout\n"
           "\n"
           "Exit status: 0 done; 1 a model or group photo failed (reported); 2 bad\n"
           "command line; 3 nothing done.\n",
           pl_default_model());
}

static void print_tables(const pl_eval_result *r)
{
    const pl_eval_detection *d = &r->det;
    printf("data %s: %d people, %d identity photos (%d used, %d skipped), %d group photos; %.0f s\n", r->data,
           r->n_identities, r->identity_photos, r->photos_used, r->n_skipped, r->n_groups, r->seconds);
    if (r->n_groups == 0)
        printf("no group photos (DATA/groups/NAME.jpg + NAME.json): detection and attendance not measured\n");
    else
        printf("detection: %d annotated faces, %d detections; IoU 0.4 recall %.3f precision %.3f; "
               "IoU 0.5 recall %.3f precision %.3f; %.0f ms/photo\n",
               d->annotated, d->detections, d->recall40, d->precision40, d->recall50, d->precision50,
               r->ms_detect_per_photo);
    for (int i = 0; i < PL_EVAL_N_SIZES; i++)
        if (d->size_annotated[i])
            printf("  %-10s %3d faces  recall@0.4 %.3f  recall@0.5 %.3f\n", d->size_label[i], d->size_annotated[i],
                   (double)d->size_found40[i] / d->size_annotated[i], (double)d->size_found50[i] / d->size_annotated[i]);
    printf("\n%-14s %6s %6s %13s %13s %6s %6s %13s %7s %13s %9s %8s\n", "model", "AUC", "EER", "TAR@1e-2(thr)",
           "TAR@1e-3(thr)", "rank1", "rank5", "att P/R", "cal thr", "att P/R cal", "FP rate", "ms/face");
    for (int i = 0; i < r->n_models; i++) {
        const pl_eval_model *m = &r->models[i];
        if (m->error[0]) {
            printf("%-14s error: %s\n", m->name, m->error);
            continue;
        }
        printf("%-14s %6.4f %6.3f %6.3f(%5.3f) %6.3f(%5.3f) %6.3f %6.3f %6.3f/%5.3f %7.3f %6.3f/%5.3f %9.5f %8.1f\n",
               m->name, m->ver.auc, m->ver.eer, m->ver.tar[0], m->ver.thr[0], m->ver.tar[1], m->ver.thr[1],
               m->ident.rank1, m->ident.rank5, m->att.precision, m->att.recall, m->cal_accept,
               m->att_cal.precision, m->att_cal.recall, m->att_cal.false_present_rate, m->ms_per_face);
    }
    for (int i = 0; i < r->n_models; i++) {
        const pl_eval_model *m = &r->models[i];
        if (m->error[0]) continue;
        printf("\n%s: built-in accept %.2f: tp %d, false present %d, missed %d, unknown faces %d\n", m->name,
               m->att.accept, m->att.tp, m->att.fp, m->att.fn, m->att.unknown);
        for (int g = 0; g < r->n_groups; g++) {
            const pl_eval_group_att *x = &m->att.groups[g];
            if (!x->fp && !x->fn) continue;
            printf("  %-28s", r->groups[g].name);
            if (x->fp) printf(" false present: %s;", x->false_present);
            if (x->fn) printf(" missed: %s", x->missed);
            printf("\n");
        }
        for (int c = 0; c < m->ident.n_confused && c < 3; c++)
            printf("  confused: %s taken for %s (%d times, %.3f)\n", r->identity[m->ident.confused[c].truth],
                   r->identity[m->ident.confused[c].predicted], m->ident.confused[c].count, m->ident.confused[c].score);
    }
}

int cmd_evaluate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},      {"out", required_argument, 0, 'o'},
        {"max-people", required_argument, 0, 'P'},
        {"far", required_argument, 0, 'f'},        {"threads", required_argument, 0, 't'},
        {"max-photos", required_argument, 0, 'p'}, {"max-groups", required_argument, 0, 'g'},
        {"json", no_argument, 0, 'j'},             {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    pl_eval_options o = {0};
    o.threads = 2;
    const char *out_dir = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hjm:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.models = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'f': o.target_far = atof(optarg); break;
        case 't': o.threads = atoi(optarg); break;
        case 'P': o.max_identities = atoi(optarg); break;
        case 'p': o.max_photos_per_identity = atoi(optarg); break;
        case 'g': o.max_groups = atoi(optarg); break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("evaluate", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("evaluate", "give exactly one DATA folder");
    if (o.target_far < 0 || o.target_far >= 1) return cli_usage_error("evaluate", "--far must be in (0, 1)");
    o.data = argv[optind];
    cli_progress_state progress = {"evaluating", json};
    o.progress = cli_progress;
    o.ctx = &progress;
    pl_error err = {0};
    pl_eval_result r;
    if (pl_evaluate(&o, &r, &err) != PL_OK) return cli_fail(&err);
    int status = EXIT_OK;
    if (out_dir && pl_eval_write_report(&r, out_dir, &err) != PL_OK) {
        cli_fail(&err);
        status = EXIT_PARTIAL;
    }
    if (json) pl_eval_write_json(&r, stdout);
    else print_tables(&r);
    if (out_dir && status == EXIT_OK && !json) printf("\nreport: %s/report.html\n", out_dir);
    for (int i = 0; i < r.n_models; i++) status = r.models[i].error[0] ? EXIT_PARTIAL : status;
    for (int g = 0; g < r.n_groups; g++) status = r.groups[g].error[0] ? EXIT_PARTIAL : status;
    pl_eval_result_free(&r);
    return status;
}
