/* cmd_export.c — `pasalista export --npz FILE`: the gallery for NumPy. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista export --npz FILE [--db FILE]\n"
           "\n"
           "Write the enrolled gallery as a NumPy .npz: for each model M, M.names (one\n"
           "student name per row) and M.embeddings (rows x dims, float32).\n"
           "numpy.load(FILE) reads it without pickle.\n"
           "\n"
           "  --npz FILE   where to write\n"
           "  --db FILE    the database (default ./pasalista.db)\n");
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"npz", required_argument, 0, 'n'},
                                         {"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pl_app_options o = {0};
    const char *npz = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': npz = optarg; break;
        case 'd': o.db_path = optarg; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("export", "unknown option");
        }
    }
    if (!npz) return cli_usage_error("export", "--npz FILE is required");
    if (optind < argc) return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    if (!app) return cli_fail(&err);
    pl_status st = pl_export_npz(app, npz, &err);
    pl_app_close(app);
    if (st != PL_OK) return cli_fail(&err);
    printf("wrote %s\n", npz);
    return EXIT_OK;
}
