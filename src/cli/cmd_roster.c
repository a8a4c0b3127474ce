/* cmd_roster.c — `pasalista roster import|show`: the class spreadsheet into
 * a photos folder that `pasalista enroll` reads, with a progress bar on a
 * terminal, a summary table and import-report.csv. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista roster import ROSTER [--photos DIR] [--jobs N] [options]\n"
           "       pasalista roster show ROSTER [options]\n"
           "\n"
           "Read the class spreadsheet (.xlsx, .ods or .csv; e.g. a Google Form's\n"
           "responses) and download every student's photo from its Google Drive or\n"
           "http(s) link into DIR/<Student_Name>/1.jpg, 2.jpg ... plus DIR/roster.csv\n"
           "(folder,name,student_id,email,gender,photos) and DIR/import-report.csv\n"
           "(student,link,status,reason,file,detail,row). Re-running skips what is\n"
           "already there, retries what failed, and never removes a good photo.\n"
           "'show' prints the students and links as read, downloading nothing.\n"
           "\n"
           "  --photos DIR          output folder (default: photos)\n"
           "  --jobs N              parallel downloads (default 8)\n"
           "  --name-col COL        name column: header text, letter (B) or number\n"
           "  --photo-col COL       photo column, the same way (default: found by header)\n"
           "  --sheet NAME          read this sheet (default: the first with a name column)\n"
           "  --timeout SEC         per download, in seconds (default 60)\n"
           "  --connect-timeout SEC (default 10)\n"
           "  --retries N           on 429, 5xx, timeouts and cut connections (default 4)\n"
           "  --backoff MS          first wait before a retry, doubled each time (default 500)\n"
           "  --max-size MB         largest photo accepted (default 25)\n"
           "  --min-side PX         smallest width/height accepted (default 64)\n"
           "  --refresh             download again even what is already there\n"
           "  --report FILE         write the report here (default DIR/import-report.csv)\n"
           "  --drive-base-url URL  where Drive downloads go (default https://drive.google.com)\n"
           "  --quiet               no progress output\n"
           "  -h, --help            this text\n"
           "\n"
           "Exit status: 0 every student has a photo; 1 some have none (see the report);\n"
           "2 bad command line; 3 the roster could not be read.\n");
}

typedef struct progress_ctx { int tty, quiet; } progress_ctx;

static void on_progress(void *user, const pl_import_progress *p)
{
    progress_ctx *c = user;
    if (c->quiet) return;
    const pl_import_item *it = p->item;
    if (c->tty) {
        int width = 30, fill = p->total ? p->done * width / p->total : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d  %.1f MB  %-30.30s", fill,
                "##############################", width - fill, "", p->done, p->total,
                (double)p->bytes / 1e6, p->student ? p->student : "");
        if (p->done == p->total) fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    if (!it) return;
    fprintf(stderr, "%d/%d %-10s %s", p->done, p->total, pl_import_status_name(it->status),
            p->student ? p->student : "");
    if (it->status == PL_IMPORT_FAILED)
        fprintf(stderr, ": %s: %s\n", pl_import_reason_name(it->reason), it->detail);
    else fprintf(stderr, " -> %s\n", it->file);
}

static void print_summary(const pl_roster *r, const pl_import_result *res, const char *path)
{
    printf("\nRoster %s%s%s%s: %d students (names: \"%s\", photos: \"%s\", header row %d)\n", path,
           r->sheet[0] ? ", sheet \"" : "", r->sheet, r->sheet[0] ? "\"" : "", r->n_rows,
           r->name_header, r->photo_header, r->header_row);
    printf("\n  %-26s %5s\n", "PHOTOS", "COUNT");
    printf("  %-26s %5d\n", "downloaded", res->downloaded);
    printf("  %-26s %5d\n", "skipped (already there)", res->skipped);
    printf("  %-26s %5d\n", "failed", res->failed);
    for (int k = 1; k < PL_REASON_COUNT; k++) {
        if (k == PL_REASON_DUPLICATE || !res->by_reason[k]) continue;
        printf("    %-24s %5d\n", pl_import_reason_name((pl_import_reason)k), res->by_reason[k]);
    }
    if (res->duplicates) printf("  %-26s %5d\n", "duplicates (flagged)", res->duplicates);
    printf("\nStudents without a photo: %d of %d\n", res->students_without_photo, r->n_rows);
    for (int i = 0, shown = 0; i < res->n_items && shown < 50; i++) {
        const pl_import_item *it = &res->items[i];
        int has = 0;
        for (int k = 0; k < res->n_items; k++) has |= res->items[k].student == it->student && res->items[k].file[0];
        if (has || it->status != PL_IMPORT_FAILED) continue;
        printf("  row %-5d %-30s %-18s %s\n", r->rows[it->student].row, r->rows[it->student].name,
               pl_import_reason_name(it->reason), it->detail);
        shown++;
    }
    for (int i = 0; i < res->n_items; i++)
        if (res->items[i].reason == PL_REASON_DUPLICATE)
            printf("  duplicate: %s: %s\n", r->rows[res->items[i].student].name, res->items[i].detail);
    printf("\nReport: %s\n", res->report_path);
}

static int show(const pl_roster *r, const char *drive_base)
{
    for (int i = 0; i < r->n_rows; i++) {
        const pl_roster_row *row = &r->rows[i];
        printf("row %-5d %s", row->row, row->name);
        if (row->student_id[0]) printf("  [%s]", row->student_id);
        printf("\n");
        if (!row->n_links) printf("          (no photo link)\n");
        for (int k = 0; k < row->n_links; k++) {
            char url[2048];
            pl_error e = {0};
            if (pl_drive_link_parse(row->links[k], drive_base, url, sizeof url, NULL, &e) == PL_OK)
                printf("          %s\n", url);
            else printf("          refused: %s\n", e.msg);
        }
    }
    return EXIT_OK;
}

int cmd_roster(int argc, char **argv)
{
    enum { O_NAME = 256, O_PHOTO, O_SHEET, O_TIMEOUT, O_CONNECT, O_RETRIES, O_BACKOFF, O_MAXSIZE,
           O_MINSIDE, O_REFRESH, O_REPORT, O_DRIVE, O_QUIET };
    static const struct option opts[] = {
        {"photos", required_argument, 0, 'p'}, {"jobs", required_argument, 0, 'j'},
        {"name-col", required_argument, 0, O_NAME}, {"photo-col", required_argument, 0, O_PHOTO},
        {"sheet", required_argument, 0, O_SHEET}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"connect-timeout", required_argument, 0, O_CONNECT},
        {"retries", required_argument, 0, O_RETRIES}, {"backoff", required_argument, 0, O_BACKOFF},
        {"max-size", required_argument, 0, O_MAXSIZE}, {"min-side", required_argument, 0, O_MINSIDE},
        {"refresh", no_argument, 0, O_REFRESH}, {"report", required_argument, 0, O_REPORT},
        {"drive-base-url", required_argument, 0, O_DRIVE}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    pl_roster_options ro = {0};
    pl_import_options io;
    pl_import_options_default(&io);
    const char *photos = "photos";
    progress_ctx pc = {isatty(2), 0};
    int c;
    optind = 1;
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help();
        return EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "import") && strcmp(argv[1], "show")))
        return cli_usage_error("roster", "expected 'import' or 'show'");
    const char *verb = argv[1];
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "hp:j:", opts, NULL)) != -1) {
        char *end = NULL;
        double v = optarg ? strtod(optarg, &end) : 0;
        int bad_num = optarg && (end == optarg || *end || v < 0);
        switch (c) {
        case 'p': photos = optarg; break;
        case 'j': if (bad_num || v < 1 || v > 64) return cli_usage_error("roster", "--jobs wants 1..64"); io.jobs = (int)v; break;
        case O_NAME: ro.name_col = optarg; break;
        case O_PHOTO: ro.photo_col = optarg; break;
        case O_SHEET: ro.sheet = optarg; break;
        case O_TIMEOUT: if (bad_num || v <= 0) return cli_usage_error("roster", "--timeout wants seconds"); io.timeout_ms = (long)(v * 1000); break;
        case O_CONNECT: if (bad_num || v <= 0) return cli_usage_error("roster", "--connect-timeout wants seconds"); io.connect_timeout_ms = (long)(v * 1000); break;
        case O_RETRIES: if (bad_num || v > 20) return cli_usage_error("roster", "--retries wants 0..20"); io.retries = (int)v; break;
        case O_BACKOFF: if (bad_num) return cli_usage_error("roster", "--backoff wants milliseconds"); io.backoff_ms = (long)v; break;
        case O_MAXSIZE: if (bad_num || v <= 0) return cli_usage_error("roster", "--max-size wants megabytes"); io.max_bytes = (long long)(v * 1048576); break;
        case O_MINSIDE: if (bad_num) return cli_usage_error("roster", "--min-side wants pixels"); io.min_side = (int)v; break;
        case O_REFRESH: io.refresh = 1; break;
        case O_REPORT: io.report_path = optarg; break;
        case O_DRIVE: io.drive_base_url = optarg; break;
        case O_QUIET: pc.quiet = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("roster", "unknown option");
        }
    }
    if (optind + 1 != argc) return cli_usage_error("roster", "give exactly one roster file");
    const char *path = argv[optind];
    pl_error err = {0};
    pl_roster r;
    if (pl_roster_read(path, &ro, &r, &err) != PL_OK) return cli_fail(&err);
    if (!strcmp(verb, "show")) {
        int rc = show(&r, io.drive_base_url);
        pl_roster_free(&r);
        return rc;
    }
    io.progress = on_progress;
    io.progress_user = &pc;
    pl_import_result res;
    pl_status st = pl_roster_import(&r, photos, &io, &res, &err);
    if (st != PL_OK) {
        pl_roster_free(&r);
        return cli_fail(&err);
    }
    print_summary(&r, &res, path);
    int rc = res.students_without_photo ? EXIT_PARTIAL : EXIT_OK;
    pl_import_result_free(&res);
    pl_roster_free(&r);
    return rc;
}
