/* cmd_models.c — `pasalista models`: every model file, its source, size and
 * status. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista models [--verify] [--json]\n"
           "\n"
           "List the pretrained model files pasalista uses, the npm package each\n"
           "comes from, its size and its status (ok, missing, corrupt).\n"
           "\n"
           "  --verify   check every file's sha256 (default: size only)\n"
           "  --json     machine-readable output\n"
           "  -h, --help this text\n"
           "\n"
           "Models folder: %s (set PASALISTA_MODELS to use another).\n"
           "Missing or corrupt files: run 'make models' in the source tree.\n",
           pl_models_dir());
}

static const char *status_word(pl_model_status s)
{
    return s == PL_MODEL_OK ? "ok" : s == PL_MODEL_MISSING ? "missing" : "corrupt";
}

int cmd_models(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verify", no_argument, 0, 'v'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int verify = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': verify = 1; break;
        case 'j': json = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("models", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);

    pl_error err = {0};
    pl_model_file *files;
    int n;
    if (pl_model_files_list(verify, &files, &n, &err) != PL_OK) return cli_fail(&err);
    int bad = 0;
    if (json) printf("{\"models_dir\":\"%s\",\"files\":[", pl_models_dir());
    else printf("%-52s %-38s %10s  %s\n", "FILE", "SOURCE (npm)", "BYTES", "STATUS");
    for (int i = 0; i < n; i++) {
        const pl_model_file *m = &files[i];
        bad += m->status != PL_MODEL_OK;
        if (json)
            printf("%s{\"file\":\"%s\",\"package\":\"%s\",\"bytes\":%lld,\"sha256\":\"%s\",\"status\":\"%s\"}",
                   i ? "," : "", m->file, m->package, m->bytes, m->sha256, status_word(m->status));
        else
            printf("%-52s %-38s %10lld  %s\n", m->file, m->package, m->bytes, status_word(m->status));
    }
    if (json) printf("]}\n");
    else if (bad) fprintf(stderr, "\n%d of %d model files are missing or corrupt: run 'make models'.\n", bad, n);
    free(files);
    return bad ? EXIT_PARTIAL : EXIT_OK;
}
