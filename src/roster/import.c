/* import.c — a roster into a photos folder: one folder per student named
 * from the folded name (told apart when two fold alike), each link
 * downloaded (fetch.c), checked by its bytes (image module), and renamed
 * into place only when it is good, so an earlier good photo is never lost.
 * A state file remembers what came from which link, so a second run skips
 * it; roster.csv and import-report.csv are written at the end.
 *
 * Layout of photos_dir:
 *   <Folder>/<n>.<jpg|png|webp|heic>   photo n of the student (1-based)
 *   roster.csv          folder,name,student_id,email,gender,photos
 *   import-report.csv   student,link,status,reason,file,detail,row
 *   .import-state.tsv   folder, n, sha256, file, link of each good photo
 *   .partial/           downloads in progress, <folder>.<n>.<url hash>.part;
 *                       an interrupted run's are resumed (removed when empty)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "roster/roster.h"
#include "util/csv.h"
#include "util/fs.h"
#include "util/sha256.h"

#define FOLDER_MAX 80

void pl_import_options_default(pl_import_options *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 8;
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 60000;
    o->retries = 4;
    o->backoff_ms = 500;
    o->max_bytes = 25LL << 20;
    o->max_redirects = 10;
    o->min_side = 64;
}

const char *pl_import_reason_name(pl_import_reason r)
{
    static const char *names[PL_REASON_COUNT] = {
        "", "no_link", "bad_link", "not_public", "not_found", "http_error", "timeout",
        "network", "too_large", "not_image", "unsupported_format", "undecodable", "too_small",
        "io_error", "duplicate"};
    return r >= 0 && r < PL_REASON_COUNT ? names[r] : "?";
}

const char *pl_import_status_name(pl_import_status s)
{
    return s == PL_IMPORT_DOWNLOADED ? "downloaded" : s == PL_IMPORT_SKIPPED ? "skipped" : "failed";
}

/* ---- the state file of earlier runs ------------------------------------------ */

typedef struct prior { char folder[96]; int index; char sha[65], file[512]; char *link; } prior;
typedef struct state { prior *v; int n; } state;

static void state_free(state *s)
{
    for (int i = 0; i < s->n; i++) free(s->v[i].link);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Missing or unreadable state just means "nothing known": download again. */
static void state_load(const char *dir, state *s)
{
    char path[1100];
    memset(s, 0, sizeof *s);
    if (!pl_path_join(path, sizeof path, dir, ".import-state.tsv")) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fields[5], *save = NULL, *p = line;
        int k = 0;
        for (; k < 5 && (fields[k] = strtok_r(p, "\t", &save)); k++) p = NULL;
        if (k != 5 || strlen(fields[0]) >= 96 || strlen(fields[2]) != 64) continue;
        prior *v = realloc(s->v, (size_t)(s->n + 1) * sizeof *v);
        if (!v) break;
        s->v = v;
        prior *e = &s->v[s->n];
        snprintf(e->folder, sizeof e->folder, "%s", fields[0]);
        e->index = atoi(fields[1]);
        snprintf(e->sha, sizeof e->sha, "%s", fields[2]);
        snprintf(e->file, sizeof e->file, "%s", fields[3]);
        if (strstr(e->file, "..") || e->file[0] == '/' || !(e->link = strdup(fields[4]))) continue;
        s->n++;
    }
    fclose(f);
}

static const prior *state_find(const state *s, const char *folder, int index)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (s->v[i].index == index && !strcmp(s->v[i].folder, folder)) return &s->v[i];
    return NULL;
}

static void clean_tsv(FILE *f, const char *s, char end);

/* ---- one import --------------------------------------------------------------- */

typedef struct importer {
    const pl_roster *roster;
    const char *dir;
    const pl_import_options *o;
    pl_import_result *res;
    state prior;
    pl_fetch *jobs;        /* downloads; jobs[k].tag = index of its item */
    int n_jobs, done;
    long long bytes;
    FILE *journal;         /* state lines appended as photos land, so an
                              interrupted run is not downloaded again */
} importer;

/* Distinct folder names, in roster order; case-insensitive because macOS
 * and Windows folders are. */
static void assign_folders(importer *im)
{
    const pl_roster *r = im->roster;
    for (int i = 0; i < r->n_rows; i++) {
        char base[FOLDER_MAX];
        if (!pl_name_fold(r->rows[i].name, base, sizeof base))
            snprintf(base, sizeof base, "row_%d", r->rows[i].row);
        char *f = im->res->folders[i];
        snprintf(f, 96, "%s", base);
        for (int k = 2;; k++) {
            int clash = 0;
            for (int j = 0; j < i && !clash; j++) clash = !strcasecmp(im->res->folders[j], f);
            if (!clash) break;
            snprintf(f, 96, "%s_%d", base, k);
        }
    }
}

static void progress(importer *im, const pl_import_item *it)
{
    im->done++;
    if (!im->o->progress) return;
    pl_import_progress p = {im->done, im->res->n_items, im->bytes, it,
                            it ? im->roster->rows[it->student].name : NULL};
    im->o->progress(im->o->progress_user, &p);
}

static void set_fail(pl_import_item *it, pl_import_reason r, const char *detail)
{
    it->status = PL_IMPORT_FAILED;
    it->reason = r;
    snprintf(it->detail, sizeof it->detail, "%.250s", detail);
}

/* Is the downloaded file a photo we can use? Fills format and sha256. */
static pl_import_reason check_photo(const importer *im, const char *path, pl_import_item *it,
                                    pl_content *kind)
{
    uint8_t *data;
    size_t len;
    pl_error e = {0};
    if (pl_read_file(path, (size_t)im->o->max_bytes + 1, &data, &len, &e)) {
        snprintf(it->detail, sizeof it->detail, "%.250s", e.msg);
        return PL_REASON_IO;
    }
    pl_import_reason r = PL_REASON_NONE;
    *kind = pl_content_sniff(data, len);
    pl_image_info info;
    pl_image img = {0};
    switch (*kind) {
    case PL_CONTENT_JPEG: case PL_CONTENT_PNG: case PL_CONTENT_WEBP: case PL_CONTENT_HEIF:
        if (pl_image_probe(data, len, "download", &info, &e) != PL_OK) {
            r = PL_REASON_UNDECODABLE;
            snprintf(it->detail, sizeof it->detail, "%.250s", e.msg);
        } else if (info.w < im->o->min_side || info.h < im->o->min_side) {
            r = PL_REASON_TOO_SMALL;
            snprintf(it->detail, sizeof it->detail, "%dx%d pixels, smaller than %dx%d", info.w,
                     info.h, im->o->min_side, im->o->min_side);
        } else if (pl_image_decode_max(data, len, "download", 256, &img, NULL, &e) != PL_OK) {
            r = PL_REASON_UNDECODABLE;
            snprintf(it->detail, sizeof it->detail, "%.250s", e.msg);
        } else {
            snprintf(it->detail, sizeof it->detail, "%s %dx%d", pl_content_ext(*kind), info.w, info.h);
        }
        pl_image_free(&img);
        break;
    case PL_CONTENT_GIF: case PL_CONTENT_BMP: case PL_CONTENT_TIFF:
        r = PL_REASON_UNSUPPORTED;
        snprintf(it->detail, sizeof it->detail, "a %s image; save the photo as JPEG or PNG",
                 *kind == PL_CONTENT_GIF ? "GIF" : *kind == PL_CONTENT_BMP ? "BMP" : "TIFF");
        break;
    case PL_CONTENT_HTML:
        r = PL_REASON_NOT_IMAGE;
        snprintf(it->detail, sizeof it->detail, "an HTML page, not a photo");
        break;
    default:
        r = PL_REASON_NOT_IMAGE;
        snprintf(it->detail, sizeof it->detail, "not an image (%s)",
                 *kind == PL_CONTENT_TEXT ? "text" : len ? "unknown bytes" : "empty file");
    }
    if (!r) {
        pl_sha256_hex(data, len, it->sha256);
        it->bytes = (long long)len;
    }
    free(data);
    return r;
}

/* Remove n.<other ext> left by an earlier run once n.<ext> is in place. */
static void remove_other_exts(const char *folder_path, int index, const char *keep_ext)
{
    static const char *exts[] = {"jpg", "png", "webp", "heic"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(exts[i], keep_ext)) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%d.%s", folder_path, index, exts[i]);
        unlink(p);
    }
}

/* The earlier photo of this item, when a new download failed. */
static void keep_prior(importer *im, pl_import_item *it)
{
    const prior *p = state_find(&im->prior, im->res->folders[it->student], it->index);
    char full[1200];
    if (!p || !pl_path_join(full, sizeof full, im->dir, p->file) || !pl_file_exists(full)) return;
    snprintf(it->file, sizeof it->file, "%s", p->file);
    snprintf(it->sha256, sizeof it->sha256, "%s", p->sha);
    size_t l = strlen(it->detail);
    snprintf(it->detail + l, sizeof it->detail - l, "; the earlier photo is kept");
}

static void place(importer *im, pl_fetch *j)
{
    pl_import_item *it = &im->res->items[j->tag];
    pl_content kind = PL_CONTENT_UNKNOWN;
    pl_import_reason r = check_photo(im, j->path, it, &kind);
    if (r) {
        it->status = PL_IMPORT_FAILED;
        it->reason = r;
        unlink(j->path);
        keep_prior(im, it);
        return;
    }
    const char *folder = im->res->folders[it->student], *ext = pl_content_ext(kind);
    char dir[1100], rel[512], full[1200];
    pl_error e = {0};
    snprintf(rel, sizeof rel, "%s/%d.%s", folder, it->index, ext);
    if (!pl_path_join(dir, sizeof dir, im->dir, folder) || pl_mkdirs(dir, 0755, &e) ||
        !pl_path_join(full, sizeof full, im->dir, rel) || rename(j->path, full) != 0) {
        set_fail(it, PL_REASON_IO, e.msg[0] ? e.msg : strerror(errno));
        unlink(j->path);
        keep_prior(im, it);
        return;
    }
    remove_other_exts(dir, it->index, ext);
    it->status = PL_IMPORT_DOWNLOADED;
    it->reason = PL_REASON_NONE;
    snprintf(it->format, sizeof it->format, "%s", kind == PL_CONTENT_JPEG ? "jpeg" : ext);
    snprintf(it->file, sizeof it->file, "%s", rel);
    if (im->journal) {
        fprintf(im->journal, "%s\t%d\t%s\t%s\t", folder, it->index, it->sha256, it->file);
        clean_tsv(im->journal, it->link, '\n');
        fflush(im->journal);
    }
}

static void on_fetched(void *user, pl_fetch *f)
{
    importer *im = user;
    pl_import_item *it = &im->res->items[f->tag];
    it->http_code = f->http_code;
    it->attempts = f->attempts;
    im->bytes += f->bytes;
    if (f->ok) place(im, f);
    else {
        set_fail(it, f->reason, f->detail);
        keep_prior(im, it);
    }
    progress(im, it);
}

/* Items: one per link, or one "no link" per student without any. */
static pl_status make_items(importer *im, pl_error *err)
{
    const pl_roster *r = im->roster;
    int n = 0;
    for (int i = 0; i < r->n_rows; i++) n += r->rows[i].n_links ? r->rows[i].n_links : 1;
    im->res->items = calloc((size_t)n + 1, sizeof *im->res->items);
    im->jobs = calloc((size_t)n + 1, sizeof *im->jobs);
    if (!im->res->items || !im->jobs) return pl_fail(err, PL_ERR_NOMEM, "out of memory for %d photos", n);
    for (int i = 0; i < r->n_rows; i++) {
        const pl_roster_row *row = &r->rows[i];
        for (int k = 0; k < (row->n_links ? row->n_links : 1); k++) {
            pl_import_item *it = &im->res->items[im->res->n_items++];
            it->student = i;
            it->index = k + 1;
            it->link = row->n_links ? row->links[k] : "";
        }
    }
    return PL_OK;
}

/* Settle what needs no download; queue the rest. */
static pl_status plan(importer *im, pl_error *err)
{
    char partial[1100];
    if (!pl_path_join(partial, sizeof partial, im->dir, ".partial"))
        return pl_fail(err, PL_ERR_ARG, "%s: path too long", im->dir);
    for (int i = 0; i < im->res->n_items; i++) {
        pl_import_item *it = &im->res->items[i];
        const char *folder = im->res->folders[it->student];
        pl_error e = {0};
        if (!*it->link) {
            set_fail(it, PL_REASON_NO_LINK, "the photo cell is empty");
            progress(im, it);
            continue;
        }
        if (pl_drive_link_parse(it->link, im->o->drive_base_url, it->url, sizeof it->url, NULL, &e)) {
            set_fail(it, PL_REASON_BAD_LINK, e.msg);
            keep_prior(im, it);
            progress(im, it);
            continue;
        }
        const prior *p = im->o->refresh ? NULL : state_find(&im->prior, folder, it->index);
        char full[1200], sha[65];
        /* Same link, file still there: skip. A file replaced by hand since
         * (different bytes) is the teacher's choice and is kept too. */
        if (p && !strcmp(p->link, it->link) && pl_path_join(full, sizeof full, im->dir, p->file) &&
            pl_sha256_file(full, sha, NULL) == PL_OK) {
            it->status = PL_IMPORT_SKIPPED;
            snprintf(it->file, sizeof it->file, "%s", p->file);
            snprintf(it->sha256, sizeof it->sha256, "%s", sha);
            snprintf(it->detail, sizeof it->detail, "%s",
                     strcmp(sha, p->sha) ? "already there (changed by hand since the import; kept)"
                                         : "already downloaded");
            it->bytes = pl_file_size(full);
            progress(im, it);
            continue;
        }
        pl_fetch *j = &im->jobs[im->n_jobs++];
        j->tag = i;
        snprintf(j->url, sizeof j->url, "%s", it->url);
        char h[65];
        pl_sha256_hex(it->url, strlen(it->url), h);
        snprintf(j->path, sizeof j->path, "%.900s/%.90s.%d.%.12s.part", partial, folder, it->index, h);
    }
    if (im->n_jobs && pl_mkdirs(partial, 0755, err)) return err ? err->code : PL_ERR_IO;
    return PL_OK;
}

/* Identical bytes under two students: the same photo uploaded twice, or a
 * link pasted into the wrong row. Both are flagged; the files stay. */
static void flag_duplicates(importer *im)
{
    pl_import_result *res = im->res;
    for (int i = 0; i < res->n_items; i++) {
        pl_import_item *a = &res->items[i];
        if (a->status == PL_IMPORT_FAILED || !a->sha256[0]) continue;
        for (int k = i + 1; k < res->n_items; k++) {
            pl_import_item *b = &res->items[k];
            if (b->status == PL_IMPORT_FAILED || b->student == a->student || strcmp(a->sha256, b->sha256))
                continue;
            pl_import_item *pair[2] = {a, b};
            for (int x = 0; x < 2; x++) {
                pl_import_item *me = pair[x], *other = pair[1 - x];
                me->reason = PL_REASON_DUPLICATE;
                snprintf(me->detail, sizeof me->detail, "same photo (identical bytes) as %.120s's %.100s",
                         im->roster->rows[other->student].name, other->file);
            }
        }
    }
}

static void csv_field(FILE *f, const char *s, int last)
{
    pl_csv_field(f, s);
    fputc(last ? '\n' : ',', f);
}

/* Write through a temporary file and rename, so a crash never leaves a
 * half report. */
static pl_status write_csv(const char *path, void (*body)(importer *, FILE *), importer *im,
                           pl_error *err)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: %s", tmp, strerror(errno));
    body(im, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot write", path);
    }
    return PL_OK;
}

static void report_body(importer *im, FILE *f)
{
    fputs("student,link,status,reason,file,detail,row\n", f);
    for (int i = 0; i < im->res->n_items; i++) {
        const pl_import_item *it = &im->res->items[i];
        char row[16];
        snprintf(row, sizeof row, "%d", im->roster->rows[it->student].row);
        csv_field(f, im->roster->rows[it->student].name, 0);
        csv_field(f, it->link, 0);
        csv_field(f, pl_import_status_name(it->status), 0);
        csv_field(f, pl_import_reason_name(it->reason), 0);
        csv_field(f, it->file, 0);
        csv_field(f, it->detail, 0);
        csv_field(f, row, 1);
    }
}

static int photos_of(const importer *im, int student)
{
    int n = 0;
    for (int i = 0; i < im->res->n_items; i++)
        n += im->res->items[i].student == student && im->res->items[i].file[0];
    return n;
}

static void roster_body(importer *im, FILE *f)
{
    fputs("folder,name,student_id,email,gender,photos\n", f);
    for (int i = 0; i < im->roster->n_rows; i++) {
        const pl_roster_row *r = &im->roster->rows[i];
        char n[16];
        snprintf(n, sizeof n, "%d", photos_of(im, i));
        csv_field(f, im->res->folders[i], 0);
        csv_field(f, r->name, 0);
        csv_field(f, r->student_id, 0);
        csv_field(f, r->email, 0);
        csv_field(f, r->gender, 0);
        csv_field(f, n, 1);
    }
}

static void clean_tsv(FILE *f, const char *s, char end)
{
    for (; *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
    fputc(end, f);
}

static void state_body(importer *im, FILE *f)
{
    for (int i = 0; i < im->res->n_items; i++) {
        const pl_import_item *it = &im->res->items[i];
        if (!it->file[0]) continue;
        const char *folder = im->res->folders[it->student];
        const prior *p = it->status == PL_IMPORT_FAILED ? state_find(&im->prior, folder, it->index) : NULL;
        fprintf(f, "%s\t%d\t%s\t%s\t", folder, it->index, it->sha256, it->file);
        clean_tsv(f, p ? p->link : it->link, '\n');
    }
}

static void tally(importer *im)
{
    pl_import_result *res = im->res;
    for (int i = 0; i < res->n_items; i++) {
        const pl_import_item *it = &res->items[i];
        if (it->status == PL_IMPORT_DOWNLOADED) res->downloaded++;
        else if (it->status == PL_IMPORT_SKIPPED) res->skipped++;
        else res->failed++;
        if (it->reason == PL_REASON_DUPLICATE) res->duplicates++;
        res->by_reason[it->reason]++;
    }
    for (int s = 0; s < im->roster->n_rows; s++) res->students_without_photo += !photos_of(im, s);
}

static pl_status write_outputs(importer *im, pl_error *err)
{
    char path[1100];
    const char *rp = im->o->report_path;
    if (!rp) {
        if (!pl_path_join(path, sizeof path, im->dir, "import-report.csv"))
            return pl_fail(err, PL_ERR_ARG, "%s: path too long", im->dir);
        rp = path;
    }
    snprintf(im->res->report_path, sizeof im->res->report_path, "%.1000s", rp);
    pl_status st = write_csv(rp, report_body, im, err);
    if (!st && pl_path_join(path, sizeof path, im->dir, "roster.csv"))
        st = write_csv(path, roster_body, im, err);
    if (!st && pl_path_join(path, sizeof path, im->dir, ".import-state.tsv"))
        st = write_csv(path, state_body, im, err);
    return st;
}

pl_status pl_roster_import(const pl_roster *roster, const char *photos_dir,
                           const pl_import_options *opt, pl_import_result *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    pl_import_options defaults;
    pl_import_options_default(&defaults);
    if (!opt) opt = &defaults;
    if (!roster || !photos_dir || !*photos_dir)
        return pl_fail(err, PL_ERR_ARG, "roster import: no roster or no photos folder");
    pl_status st = pl_mkdirs(photos_dir, 0755, err);
    if (st) return st;
    importer im = {.roster = roster, .dir = photos_dir, .o = opt, .res = out};
    out->n_students = roster->n_rows;
    out->folders = calloc((size_t)roster->n_rows + 1, sizeof *out->folders);
    if (!out->folders) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    assign_folders(&im);
    state_load(photos_dir, &im.prior);
    char journal[1100];
    if (pl_path_join(journal, sizeof journal, photos_dir, ".import-state.tsv"))
        im.journal = fopen(journal, "a");
    st = make_items(&im, err);
    if (!st) st = plan(&im, err);
    if (!st && im.n_jobs) {
        pl_fetch_opts fo = {opt->jobs > 0 ? opt->jobs : 8, opt->retries, opt->max_redirects,
                            opt->connect_timeout_ms, opt->timeout_ms, opt->backoff_ms, opt->max_bytes};
        st = pl_fetch_all(im.jobs, im.n_jobs, &fo, on_fetched, &im, err);
    }
    if (im.journal) fclose(im.journal);
    im.journal = NULL;
    if (!st) {
        flag_duplicates(&im);
        tally(&im);
        st = write_outputs(&im, err);
        char partial[1100];
        if (pl_path_join(partial, sizeof partial, photos_dir, ".partial")) rmdir(partial);
    }
    state_free(&im.prior);
    free(im.jobs);
    return st;
}

void pl_import_result_free(pl_import_result *r)
{
    if (!r) return;
    free(r->items);
    free(r->folders);
    memset(r, 0, sizeof *r);
}
