/* cmd_backup.c — `pasalista backup FILE`: a consistent copy of the database
 * while other commands keep running. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista backup FILE [--db FILE]\n"
           "\n"
           "Copy the whole database into FILE (readable by you only; replaced if it\n"
           "exists) with SQLite's online backup: the copy is consistent even while\n"
           "other pasalista commands are writing.\n"
           "\n"
           "  --db FILE   the database (default ./pasalista.db)\n"
           "\n"
           "Exit status: 0 done; 2 bad command line; 3 no copy made.\n");
}

int cmd_backup(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("backup", "unknown option");
        }
    }
    if (argc - optind != 1) return cli_usage_error("backup", "give the FILE to write");
    pl_error err = {0};
    if (pl_backup(db, argv[optind], &err)) return cli_fail(&err);
    printf("backed up to %s\n", argv[optind]);
    return EXIT_OK;
}
