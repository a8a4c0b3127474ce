/* cmd_identify.c — `pasalista identify DIR`: the most similar student for
 * every photo of a folder, right or wrong when the folders say who. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista identify DIR [--db FILE] [--model NAME] [--grid FILE.jpg] [--json]\n"
           "\n"
           "Label every photo in DIR with the enrolled student it most resembles and the\n"
           "similarity. When DIR has one subfolder per person, the folder name is the\n"
           "truth: each line also says right or wrong, and the totals are printed.\n"
           "\n"
           "  --db FILE      the database (default ./pasalista.db)\n"
           "  --model NAME   embedding network (default %s)\n"
           "  --grid FILE    write a grid image: each photo, truth, prediction, score\n"
           "  --threads N    compute threads (default: every core, at most 8)\n"
           "  --json         one JSON object\n"
           "\n"
           "Exit status: 0 done; 1 some photo unreadable or without a face; 2 bad\n"
           "command line; 3 nothing done.\n",
           pl_default_model());
}

int cmd_identify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},      {"model", required_argument, 0, 'm'},
        {"threads", required_argument, 0, 't'}, {"grid", required_argument, 0, 'g'},
        {"json", no_argument, 0, 'j'},          {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    pl_app_options o = {0};
    const char *grid = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.db_path = optarg; break;
        case 'm': o.model = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'g': grid = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("identify", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("identify", "give exactly one DIR");
    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    if (!app) return cli_fail(&err);
    pl_identify_result r;
    cli_progress_state progress = {"identifying", json};
    pl_status st = pl_identify(app, argv[optind], cli_progress, &progress, &r, &err);
    pl_app_close(app);
    if (st != PL_OK) return cli_fail(&err);
    if (grid && pl_identify_write_grid(&r, grid, &err) != PL_OK) {
        pl_identify_result_free(&r);
        return cli_fail(&err);
    }
    if (json) printf("{\"photos\":[");
    for (int i = 0; i < r.n_items; i++) {
        const pl_identify_item *it = &r.items[i];
        if (json) {
            printf("%s{\"path\":", i ? "," : "");
            cli_json_string(it->path);
            printf(",\"truth\":");
            cli_json_string(it->truth);
            printf(",\"predicted\":");
            cli_json_string(it->ok ? it->predicted : "");
            printf(",\"score\":%.4f,\"decision\":\"%s\",\"correct\":%s,\"error\":", it->score,
                   it->ok ? pl_decision_name(it->decision) : "error", it->correct ? "true" : "false");
            cli_json_string(it->error);
            printf("}");
        } else if (!it->ok) {
            printf("%-50s %-22s %s\n", it->path, it->truth, it->error);
        } else {
            printf("%-50s %-22s %-22s %.2f %-7s %s\n", it->path, it->truth, it->predicted, it->score,
                   pl_decision_name(it->decision),
                   it->truth[0] ? (it->correct ? "right" : "WRONG") : "");
        }
    }
    if (json)
        printf("],\"with_truth\":%d,\"correct\":%d,\"wrong\":%d,\"unreadable\":%d}\n", r.with_truth,
               r.correct, r.wrong, r.unreadable);
    else if (r.with_truth)
        printf("%d of %d right (%.1f%%); %d unreadable or without a face\n", r.correct, r.with_truth,
               100.0 * r.correct / r.with_truth, r.unreadable);
    int failed = r.unreadable;
    pl_identify_result_free(&r);
    return failed ? EXIT_PARTIAL : EXIT_OK;
}
