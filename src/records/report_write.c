/* report_write.c — a report as CSV, JSON or one self-contained HTML page
 * (inline CSS, no external assets); XLSX is in report_xlsx.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "records/records.h"
#include "util/csv.h"
#include "util/json.h"

void pl_rec_cell_text(const pl_report_cell *c, char *buf, size_t size)
{
    if (!c->status[0]) {
        snprintf(buf, size, "%s", "");
    } else if (strcmp(c->source, "manual") != 0) {
        snprintf(buf, size, "%s", c->status);
    } else if (c->auto_status[0]) {
        /* The correction, and beside it what the photos said. */
        snprintf(buf, size, "%s (manual; photos: %s)", c->status, c->auto_status);
    } else {
        snprintf(buf, size, "%s (manual)", c->status);
    }
}

static const pl_report_cell *cell(const pl_report *r, int student, int session)
{
    return &r->cells[(size_t)student * r->n_sessions + session];
}

/* ---- CSV (RFC 4180) ---- */


static void percent_text(double p, char *buf, size_t size)
{
    if (isnan(p)) snprintf(buf, size, "%s", "");
    else snprintf(buf, size, "%.1f", p);
}

static void write_csv(const pl_report *r, FILE *f)
{
    char buf[128];
    fputs("student", f);
    for (int j = 0; j < r->n_sessions; j++) fprintf(f, ",%s", r->sessions[j].date);
    fputs(",present,absent,excused,review,attendance %\r\n", f);
    for (int i = 0; i < r->n_students; i++) {
        const pl_report_student *st = &r->students[i];
        pl_csv_field(f, st->name);
        for (int j = 0; j < r->n_sessions; j++) {
            pl_rec_cell_text(cell(r, i, j), buf, sizeof buf);
            fputc(',', f);
            pl_csv_field(f, buf);
        }
        percent_text(st->percent, buf, sizeof buf);
        fprintf(f, ",%d,%d,%d,%d,%s\r\n", st->present, st->absent, st->excused, st->review, buf);
    }
    /* The sessions, after a blank line: what a teacher still has to check. */
    fputs("\r\nsession,photos,faces,unknown faces,present,absent,excused,open review\r\n", f);
    for (int j = 0; j < r->n_sessions; j++) {
        const pl_report_session *se = &r->sessions[j];
        fprintf(f, "%s,%d,%d,%d,%d,%d,%d,%d\r\n", se->date, se->photos, se->faces,
                se->unknown_faces, se->present, se->absent, se->excused, se->open_review);
    }
}

/* ---- JSON ---- */

static void json_num(FILE *f, double v)
{
    if (isnan(v)) fputs("null", f);
    else fprintf(f, "%.4g", v);
}

static void write_json_one(const pl_report *r, FILE *f)
{
    fputs("{\"class\":", f);
    pl_json_fput_string(f, r->cls);
    fputs(",\"from\":", f);
    pl_json_fput_string(f, r->from);
    fputs(",\"to\":", f);
    pl_json_fput_string(f, r->to);
    fputs(",\"sessions\":[", f);
    for (int j = 0; j < r->n_sessions; j++) {
        const pl_report_session *se = &r->sessions[j];
        fprintf(f, "%s{\"date\":\"%s\",\"photos\":%d,\"faces\":%d,\"unknown_faces\":%d,"
                   "\"present\":%d,\"absent\":%d,\"review\":%d,\"excused\":%d,\"open_review\":%d}",
                j ? "," : "", se->date, se->photos, se->faces, se->unknown_faces, se->present,
                se->absent, se->review, se->excused, se->open_review);
    }
    fputs("],\"students\":[", f);
    for (int i = 0; i < r->n_students; i++) {
        const pl_report_student *st = &r->students[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        pl_json_fput_string(f, st->name);
        fprintf(f, ",\"on_roster\":%s,\"present\":%d,\"absent\":%d,\"review\":%d,\"excused\":%d,"
                   "\"percent\":", st->on_roster ? "true" : "false", st->present, st->absent,
                st->review, st->excused);
        json_num(f, st->percent);
        fputs(",\"marks\":[", f);
        for (int j = 0; j < r->n_sessions; j++) {
            const pl_report_cell *c = cell(r, i, j);
            fprintf(f, "%s{\"date\":\"%s\",\"status\":", j ? "," : "", r->sessions[j].date);
            pl_json_fput_string(f, c->status);
            fputs(",\"source\":", f);
            pl_json_fput_string(f, c->source);
            fputs(",\"auto\":", f);
            pl_json_fput_string(f, c->auto_status);
            fputs(",\"score\":", f);
            json_num(f, c->score);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fprintf(f, "],\"open_review_sessions\":%d}", r->open_review_sessions);
}

static void write_json(const pl_report *r, int n, FILE *f)
{
    fputs("{\"reports\":[", f);
    for (int k = 0; k < n; k++) {
        if (k) fputc(',', f);
        write_json_one(&r[k], f);
    }
    fputs("]}\n", f);
}

/* ---- HTML ---- */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:center}"
    "th{background:#eee;position:sticky;top:0}td.name{text-align:left}"
    ".present{background:#d7f5d7}.absent{background:#f8d4d4}"
    ".excused{background:#e0e4f8}.review{background:#fff1b8}"
    ".manual{font-weight:bold}.auto{display:block;font-size:75%;color:#555}"
    ".gone{color:#888;font-style:italic}.open{background:#fff1b8}"
    "@media print{th{position:static}}";

static void html_class(const pl_report *r, FILE *f)
{
    char buf[128];
    fputs("<h2>", f);
    html_text(f, r->cls);
    fputs("</h2>\n<table>\n<tr><th>Student</th>", f);
    for (int j = 0; j < r->n_sessions; j++) fprintf(f, "<th>%s</th>", r->sessions[j].date);
    fputs("<th>Present</th><th>Absent</th><th>Excused</th><th>Review</th><th>Attendance</th></tr>\n", f);
    for (int i = 0; i < r->n_students; i++) {
        const pl_report_student *st = &r->students[i];
        fprintf(f, "<tr><td class=\"name%s\">", st->on_roster ? "" : " gone");
        html_text(f, st->name);
        fputs("</td>", f);
        for (int j = 0; j < r->n_sessions; j++) {
            const pl_report_cell *c = cell(r, i, j);
            int manual = !strcmp(c->source, "manual");
            fprintf(f, "<td class=\"%s%s\">%s", c->status, manual ? " manual" : "", c->status);
            if (manual && c->auto_status[0])
                fprintf(f, "<span class=\"auto\">photos: %s</span>", c->auto_status);
            fputs("</td>", f);
        }
        percent_text(st->percent, buf, sizeof buf);
        fprintf(f, "<td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%s%s</td></tr>\n", st->present,
                st->absent, st->excused, st->review, buf, buf[0] ? "%" : "");
    }
    fputs("</table>\n<h3>Sessions</h3>\n<table>\n<tr><th>Date</th><th>Photos</th><th>Faces</th>"
          "<th>Unknown faces</th><th>Present</th><th>Absent</th><th>Excused</th>"
          "<th>Open review</th></tr>\n", f);
    for (int j = 0; j < r->n_sessions; j++) {
        const pl_report_session *se = &r->sessions[j];
        fprintf(f, "<tr%s><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>"
                   "<td>%d</td><td>%d</td></tr>\n", se->open_review ? " class=\"open\"" : "",
                se->date, se->photos, se->faces, se->unknown_faces, se->present, se->absent,
                se->excused, se->open_review);
    }
    fprintf(f, "</table>\n<p>%d session(s) with review items still open.</p>\n",
            r->open_review_sessions);
}

static void write_html(const pl_report *r, int n, FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>Attendance report</title>\n<style>%s</style></head>\n<body>\n"
               "<h1>Attendance report</h1>\n", html_style);
    for (int k = 0; k < n; k++) html_class(&r[k], f);
    fputs("<p>Attendance = present / (present + absent + review); excused sessions are not "
          "counted. Bold marks were set by a person; below them, what the photos said.</p>\n"
          "</body></html>\n", f);
}

/* ---- dispatch ---- */

/* Written to PATH.tmp, then renamed: a failed write never leaves half a
 * report where the last good one was. */
pl_status pl_report_write(const pl_report *reports, int n, const char *format,
                          const char *path, pl_error *err)
{
    if (n < 1) return pl_fail(err, PL_ERR_ARG, "no report to write");
    if (!format) format = "csv";
    int is_csv = !strcmp(format, "csv"), is_json = !strcmp(format, "json");
    int is_html = !strcmp(format, "html"), is_xlsx = !strcmp(format, "xlsx");
    if (!is_csv && !is_json && !is_html && !is_xlsx)
        return pl_fail(err, PL_ERR_ARG, "report format '%s': use csv, xlsx, html or json", format);
    if (is_csv && n != 1)
        return pl_fail(err, PL_ERR_ARG, "a CSV report holds one class; name it with --class");
    int to_stdout = !path || !strcmp(path, "-");
    if (is_xlsx) {
        if (to_stdout) return pl_fail(err, PL_ERR_ARG, "an XLSX report needs an output file (--out)");
        return pl_rec_write_xlsx(reports, n, path, err);
    }
    char tmp[4200];
    FILE *f = stdout;
    if (!to_stdout) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (!(f = fopen(tmp, "wb")))
            return pl_fail(err, PL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    if (is_csv) write_csv(reports, f);
    else if (is_json) write_json(reports, n, f);
    else write_html(reports, n, f);
    if (to_stdout) return fflush(f) == 0 ? PL_OK : pl_fail(err, PL_ERR_IO, "stdout: write failed");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return PL_OK;
}
