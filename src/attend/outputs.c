/* outputs.c — what a teacher looks at after `take`: the JSON and CSV of
 * the decisions, an annotated copy of each photo (box, name, score, colour
 * by status) and a contact sheet putting each face beside the matched
 * student's enrollment photo, which is how a person checks a match.
 * The original photos are only read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "util/csv.h"
#include "util/fs.h"
#include "util/json.h"

#define COLOR_PRESENT 0x1f9d3aU
#define COLOR_REVIEW 0xf08c00U
#define COLOR_UNKNOWN 0xd62828U
#define THUMB 160

static uint32_t decision_color(pl_decision d)
{
    return d == PL_PRESENT ? COLOR_PRESENT : d == PL_REVIEW ? COLOR_REVIEW : COLOR_UNKNOWN;
}

static void put_box(FILE *f, const pl_take_face *face)
{
    fprintf(f, "[%.1f,%.1f,%.1f,%.1f]", face->x1, face->y1, face->x2 - face->x1 + 1,
            face->y2 - face->y1 + 1);
}

pl_status pl_take_write_json(const pl_take_result *r, FILE *f)
{
    fprintf(f, "{\"model\":");
    pl_json_fput_string(f, r->model);
    fprintf(f, ",\"thresholds\":{\"accept\":%.4f,\"review\":%.4f}", r->accept_threshold,
            r->review_threshold);
    fprintf(f, ",\"present\":[");
    int first = 1;
    for (int s = 0; s < r->n_students; s++) {
        const pl_take_student *st = &r->students[s];
        if (st->status != PL_PRESENT) continue;
        fprintf(f, "%s{\"student\":", first ? "" : ",");
        pl_json_fput_string(f, st->name);
        fprintf(f, ",\"score\":%.4f,\"photo\":", st->score);
        pl_json_fput_string(f, r->photos[st->photo].path);
        fprintf(f, ",\"box\":");
        put_box(f, &r->faces[st->face]);
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "],\"review\":[");
    first = 1;
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *face = &r->faces[i];
        if (face->decision != PL_REVIEW) continue;
        fprintf(f, "%s{\"student\":", first ? "" : ",");
        pl_json_fput_string(f, r->students[face->student].name);
        fprintf(f, ",\"score\":%.4f,\"photo\":", face->score);
        pl_json_fput_string(f, r->photos[face->photo].path);
        fprintf(f, ",\"box\":");
        put_box(f, face);
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "],\"absent\":[");
    first = 1;
    for (int s = 0; s < r->n_students; s++) {
        if (r->students[s].status != PL_ABSENT) continue;
        fprintf(f, "%s", first ? "" : ",");
        pl_json_fput_string(f, r->students[s].name);
        first = 0;
    }
    fprintf(f, "],\"unknown\":[");
    first = 1;
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *face = &r->faces[i];
        if (face->decision != PL_UNKNOWN) continue;
        fprintf(f, "%s{\"photo\":", first ? "" : ",");
        pl_json_fput_string(f, r->photos[face->photo].path);
        fprintf(f, ",\"box\":");
        put_box(f, face);
        fprintf(f, ",\"best_guess\":");
        if (face->best_guess >= 0) pl_json_fput_string(f, r->students[face->best_guess].name);
        else fprintf(f, "null");
        fprintf(f, ",\"score\":%.4f}", face->score);
        first = 0;
    }
    fprintf(f, "],\"photos\":[");
    for (int p = 0; p < r->n_photos; p++) {
        const pl_take_photo *ph = &r->photos[p];
        fprintf(f, "%s{\"path\":", p ? "," : "");
        pl_json_fput_string(f, ph->path);
        if (ph->ok)
            fprintf(f, ",\"ok\":true,\"width\":%d,\"height\":%d,\"faces\":%d,"
                       "\"ms\":{\"decode\":%.1f,\"detect\":%.1f,\"align\":%.1f,\"embed\":%.1f,\"match\":%.1f}}",
                    ph->w, ph->h, ph->n_faces, ph->ms_decode, ph->ms_detect, ph->ms_align, ph->ms_embed,
                    ph->ms_match);
        else {
            fprintf(f, ",\"ok\":false,\"error\":");
            pl_json_fput_string(f, ph->error);
            fprintf(f, "}");
        }
    }
    fprintf(f, "],\"counts\":{\"present\":%d,\"review\":%d,\"absent\":%d,\"unknown\":%d}}\n",
            r->present, r->review, r->absent, r->unknown);
    return ferror(f) ? PL_ERR_IO : PL_OK;
}


static pl_status write_csv(const pl_take_result *r, const char *path, pl_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: cannot write", tmp);
    fprintf(f, "student,status,score,photo\n");
    for (int s = 0; s < r->n_students; s++) {
        const pl_take_student *st = &r->students[s];
        pl_csv_field(f, st->name);
        fprintf(f, ",%s,", pl_decision_name(st->status));
        if (st->status != PL_ABSENT) fprintf(f, "%.4f", st->score);
        fputc(',', f);
        if (st->photo >= 0) pl_csv_field(f, r->photos[st->photo].path);
        fputc('\n', f);
    }
    for (int i = 0; i < r->n_faces; i++) {
        if (r->faces[i].decision != PL_UNKNOWN) continue;
        fprintf(f, "(unknown face),unknown,%.4f,", r->faces[i].score);
        pl_csv_field(f, r->photos[r->faces[i].photo].path);
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: write failed (disk full?)", path);
    }
    return PL_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void face_label(const pl_take_result *r, const pl_take_face *f, char *buf, size_t size)
{
    if (f->decision == PL_UNKNOWN)
        snprintf(buf, size, "? %.2f", f->score);
    else
        snprintf(buf, size, "%s%s %.2f", f->decision == PL_REVIEW ? "? " : "",
                 r->students[f->student].name, f->score);
}

/* Boxes and labels drawn on the decoded photo (in place), saved as
 * NNN-<name>.annotated.jpg. */
static pl_status annotate_photo(const pl_take_result *r, int p, pl_image *photo, pl_font *font,
                                const char *dir, pl_error *err)
{
    pl_status st = PL_OK;
    int thick = photo->w > 1600 ? 4 : photo->w > 800 ? 3 : 2;
    for (int i = 0; i < r->n_faces && st == PL_OK; i++) {
        const pl_take_face *f = &r->faces[i];
        if (f->photo != p) continue;
        int x = (int)f->x1, y = (int)f->y1, w = (int)(f->x2 - f->x1 + 1), h = (int)(f->y2 - f->y1 + 1);
        uint32_t color = decision_color(f->decision);
        pl_image_draw_rect(photo, x, y, w, h, thick, color);
        char label[320];
        face_label(r, f, label, sizeof label);
        st = pl_image_draw_label(photo, font, x, y, w, h, label, 0xffffff, color, err);
    }
    char path[4096], name[1024];
    snprintf(name, sizeof name, "%03d-%.900s", p + 1, base_name(r->photos[p].path));
    char *dot = strrchr(name, '.');
    if (dot) *dot = '\0';
    strncat(name, ".annotated.jpg", sizeof name - strlen(name) - 1);
    pl_path_join(path, sizeof path, dir, name);
    if (st == PL_OK) st = pl_image_save_jpeg(path, photo, 90, err);
    return st;
}

/* The query for a student's enrollment thumbnail, prepared once a sheet. */
static pl_status prepare_thumbnails(pl_app *app, sqlite3_stmt **q, pl_error *err)
{
    if (sqlite3_prepare_v2(pl_store_db(app->store),
                           "SELECT crop FROM photos WHERE student_id = ? AND status = 'ok' "
                           "AND crop IS NOT NULL ORDER BY id LIMIT 1",
                           -1, q, NULL) != SQLITE_OK)
        return pl_store_fail(app->store, err, "reading thumbnails");
    return PL_OK;
}

/* The enrollment thumbnail of a student, decoded; PL_ERR_NOTFOUND if none. */
static pl_status student_thumbnail(sqlite3_stmt *q, int64_t student_id, pl_image *out, pl_error *err)
{
    pl_status st = PL_ERR_NOTFOUND;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, student_id);
    if (sqlite3_step(q) == SQLITE_ROW)
        st = pl_image_decode(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0),
                             "enrollment thumbnail", out, err);
    sqlite3_reset(q);
    return st;
}

/* One row of the contact sheet: the face as found, the student it was
 * matched to as enrolled, and the decision in words. */
static pl_status sheet_row(sqlite3_stmt *thumbs, const pl_take_result *r, const pl_take_face *f,
                           const pl_image *photo, pl_image *sheet, int y, pl_font *font,
                           pl_font *small, pl_error *err)
{
    float cx = (f->x1 + f->x2) / 2, cy = (f->y1 + f->y2) / 2;
    float side = (f->x2 - f->x1 > f->y2 - f->y1 ? f->x2 - f->x1 : f->y2 - f->y1) * 1.4f;
    pl_image crop = {0}, thumb = {0};
    pl_status st = pl_image_crop_pad(photo, (int)(cx - side / 2), (int)(cy - side / 2), (int)side,
                                     (int)side, 0x808080, &crop, err);
    if (st == PL_OK) st = pl_image_paste(sheet, &crop, 10, y, THUMB, THUMB, err);
    int who = f->student >= 0 ? f->student : f->best_guess;
    if (st == PL_OK && who >= 0 && student_thumbnail(thumbs, r->students[who].id, &thumb, NULL) == PL_OK)
        st = pl_image_paste(sheet, &thumb, 20 + THUMB, y, THUMB, THUMB, err);
    uint32_t color = decision_color(f->decision);
    pl_image_fill_rect(sheet, 30 + 2 * THUMB, y, 8, THUMB, color);
    char line[512];
    int tx = 50 + 2 * THUMB;
    if (st == PL_OK) {
        if (f->decision == PL_UNKNOWN)
            snprintf(line, sizeof line, "unknown face");
        else
            snprintf(line, sizeof line, "%s", r->students[f->student].name);
        st = pl_image_draw_text(sheet, font, tx, y + 20, line, 0x202020, err);
    }
    if (st == PL_OK) {
        snprintf(line, sizeof line, "%s, similarity %.2f%s%s", pl_decision_name(f->decision), f->score,
                 f->decision == PL_UNKNOWN && who >= 0 ? "; closest: " : "",
                 f->decision == PL_UNKNOWN && who >= 0 ? r->students[who].name : "");
        st = pl_image_draw_text(sheet, small, tx, y + 60, line, color, err);
    }
    if (st == PL_OK) {
        snprintf(line, sizeof line, "%.400s", base_name(r->photos[f->photo].path));
        st = pl_image_draw_text(sheet, small, tx, y + 95, line, 0x606060, err);
    }
    pl_image_free(&crop);
    pl_image_free(&thumb);
    return st;
}

/* An empty contact sheet with room for every face and a title. */
static pl_status sheet_new(const pl_take_result *r, pl_font *font, pl_image *sheet, pl_error *err)
{
    int rows = r->n_faces > 0 ? r->n_faces : 1;
    pl_status st = pl_image_new(2 * THUMB + 560, 50 + rows * (THUMB + 10), 3, sheet, err);
    if (st != PL_OK) return st;
    pl_image_fill_rect(sheet, 0, 0, sheet->w, sheet->h, 0xffffff);
    char title[256];
    snprintf(title, sizeof title, "%d present, %d to review, %d absent, %d unknown faces (%s)", r->present,
             r->review, r->absent, r->unknown, r->model);
    return pl_image_draw_text(sheet, font, 10, 10, title, 0x000000, err);
}

pl_status pl_take_write_outputs(pl_app *app, const pl_take_result *r, const char *dir, pl_error *err)
{
    pl_status st = pl_mkdirs(dir, 0755, err);
    if (st != PL_OK) return st;
    pl_font *font = NULL, *small = NULL;
    st = pl_font_open(NULL, 22, &font, err);
    if (st == PL_OK) st = pl_font_open(NULL, 16, &small, err);
    pl_image sheet = {0};
    sqlite3_stmt *thumbs = NULL;
    if (st == PL_OK) st = prepare_thumbnails(app, &thumbs, err);
    if (st == PL_OK) st = sheet_new(r, font, &sheet, err);
    /* Each photo is decoded once: its faces go on the contact sheet from
     * the clean pixels, then the boxes are drawn on it and it is saved. */
    int y = 50;
    for (int p = 0; p < r->n_photos && st == PL_OK; p++) {
        if (!r->photos[p].ok) continue;
        pl_image photo = {0};
        st = pl_app_load_photo(app, r->photos[p].path, &photo, err);
        for (int i = 0; i < r->n_faces && st == PL_OK; i++) {
            if (r->faces[i].photo != p) continue;
            st = sheet_row(thumbs, r, &r->faces[i], &photo, &sheet, y, font, small, err);
            y += THUMB + 10;
        }
        if (st == PL_OK) st = annotate_photo(r, p, &photo, font, dir, err);
        pl_image_free(&photo);
    }
    char path[4096];
    pl_path_join(path, sizeof path, dir, "contact-sheet.jpg");
    if (st == PL_OK) st = pl_image_save_jpeg(path, &sheet, 88, err);
    pl_image_free(&sheet);
    char csv[4096];
    pl_path_join(csv, sizeof csv, dir, "attendance.csv");
    if (st == PL_OK) st = write_csv(r, csv, err);
    sqlite3_finalize(thumbs);
    pl_font_close(font);
    pl_font_close(small);
    return st;
}
