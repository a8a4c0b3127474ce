/* report_xlsx.c — reports as an Excel workbook with libxlsxwriter: one
 * sheet per class, frozen header row and name column, percentages as
 * numbers formatted "0.0%", marks coloured like the HTML report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <xlsxwriter.h>

#include "records/records.h"

typedef struct formats {
    lxw_format *header, *percent, *present, *absent, *excused, *review, *plain;
} formats;

static void make_formats(lxw_workbook *wb, formats *f)
{
    f->header = workbook_add_format(wb);
    format_set_bold(f->header);
    format_set_bg_color(f->header, 0xEEEEEE);
    format_set_bottom(f->header, LXW_BORDER_THIN);
    f->percent = workbook_add_format(wb);
    format_set_num_format(f->percent, "0.0%");
    f->plain = workbook_add_format(wb);
    lxw_format **cells[] = {&f->present, &f->absent, &f->excused, &f->review};
    const lxw_color_t colours[] = {0xD7F5D7, 0xF8D4D4, 0xE0E4F8, 0xFFF1B8};
    for (int i = 0; i < 4; i++) {
        *cells[i] = workbook_add_format(wb);
        format_set_bg_color(*cells[i], colours[i]);
    }
}

static lxw_format *mark_format(const formats *f, const char *status)
{
    if (!strcmp(status, "present")) return f->present;
    if (!strcmp(status, "absent")) return f->absent;
    if (!strcmp(status, "excused")) return f->excused;
    if (!strcmp(status, "review")) return f->review;
    return f->plain;
}

/* Excel sheet names: at most 31 characters, none of []:*?/\, unique
 * (ignoring case). */
static void sheet_name(const pl_report *reports, int index, char out[32]);

static int name_taken(const pl_report *reports, int index, const char *name)
{
    char other[32];
    for (int k = 0; k < index; k++) {
        sheet_name(reports, k, other);
        if (strcasecmp(other, name) == 0) return 1;
    }
    return 0;
}

static void sheet_name(const pl_report *reports, int index, char out[32])
{
    const char *cls = reports[index].cls;
    int n = 0;
    for (const char *p = cls; *p && n < 27; p++) out[n++] = strchr("[]:*?/\\", *p) ? '_' : *p;
    /* do not cut a UTF-8 sequence in half */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) n--;
    if (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0xC0) n--;
    out[n] = '\0';
    if (!out[0]) snprintf(out, 32, "Class %d", index + 1);
    else if (index > 0 && name_taken(reports, index, out))
        snprintf(out + n, 32 - (size_t)n, " %d", index + 1);
}

static void write_sheet(lxw_workbook *wb, const formats *f, const pl_report *reports, int index)
{
    const pl_report *r = &reports[index];
    char name[32], buf[128];
    sheet_name(reports, index, name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws) ws = workbook_add_worksheet(wb, NULL); /* a clash: Excel's own name */
    int last = r->n_sessions + 5;
    worksheet_write_string(ws, 0, 0, "Student", f->header);
    for (int j = 0; j < r->n_sessions; j++)
        worksheet_write_string(ws, 0, (lxw_col_t)(j + 1), r->sessions[j].date, f->header);
    const char *tot[] = {"Present", "Absent", "Excused", "Review", "Attendance"};
    for (int k = 0; k < 5; k++)
        worksheet_write_string(ws, 0, (lxw_col_t)(r->n_sessions + 1 + k), tot[k], f->header);
    for (int i = 0; i < r->n_students; i++) {
        const pl_report_student *st = &r->students[i];
        lxw_row_t row = (lxw_row_t)(i + 1);
        worksheet_write_string(ws, row, 0, st->name, NULL);
        for (int j = 0; j < r->n_sessions; j++) {
            const pl_report_cell *c = &r->cells[(size_t)i * r->n_sessions + j];
            pl_rec_cell_text(c, buf, sizeof buf);
            if (buf[0]) worksheet_write_string(ws, row, (lxw_col_t)(j + 1), buf, mark_format(f, c->status));
        }
        int counts[] = {st->present, st->absent, st->excused, st->review};
        for (int k = 0; k < 4; k++)
            worksheet_write_number(ws, row, (lxw_col_t)(r->n_sessions + 1 + k), counts[k], NULL);
        if (!isnan(st->percent))
            worksheet_write_number(ws, row, (lxw_col_t)last, st->percent / 100.0, f->percent);
    }
    /* The sessions below the matrix, with the ones still needing review. */
    lxw_row_t row = (lxw_row_t)(r->n_students + 3);
    const char *head[] = {"Session", "Photos", "Faces", "Unknown faces", "Present", "Absent",
                          "Excused", "Open review"};
    for (int k = 0; k < 8; k++) worksheet_write_string(ws, row, (lxw_col_t)k, head[k], f->header);
    for (int j = 0; j < r->n_sessions; j++) {
        const pl_report_session *se = &r->sessions[j];
        row++;
        worksheet_write_string(ws, row, 0, se->date, se->open_review ? f->review : NULL);
        int v[] = {se->photos, se->faces, se->unknown_faces, se->present, se->absent, se->excused,
                   se->open_review};
        for (int k = 0; k < 7; k++) worksheet_write_number(ws, row, (lxw_col_t)(k + 1), v[k], NULL);
    }
    worksheet_set_column(ws, 0, 0, 28, NULL);
    if (r->n_sessions > 0) worksheet_set_column(ws, 1, (lxw_col_t)r->n_sessions, 14, NULL);
    worksheet_freeze_panes(ws, 1, 1);
}

pl_status pl_rec_write_xlsx(const pl_report *reports, int n, const char *path,
                            pl_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    lxw_workbook *wb = workbook_new(tmp);
    if (!wb) return pl_fail(err, PL_ERR_IO, "%s: cannot create the workbook", path);
    formats f;
    make_formats(wb, &f);
    for (int k = 0; k < n; k++) write_sheet(wb, &f, reports, k);
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        remove(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: writing the workbook: %s", path, lxw_strerror(e));
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return PL_OK;
}
