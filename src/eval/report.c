/* report.c — an evaluation as report.json and a self-contained
 * report.html: tables, inline SVG plots and inline JPEG thumbnails (data:
 * URIs), so the page opens offline and can be mailed as one file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                      "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
#define COLOR(i) palette[(i) % 8]

/* ---- JSON ---------------------------------------------------------------- */

static void json_attendance(FILE *f, const pl_eval_result *r, const pl_eval_attendance *a)
{
    fprintf(f, "{\"accept\":%.4f,\"review\":%.4f,\"precision\":%.4f,\"recall\":%.4f,\"tp\":%d,\"fp\":%d,"
               "\"fn\":%d,\"unknown_faces\":%d,\"absent_slots\":%d,\"false_present_rate\":%.6f,\"groups\":[",
            a->accept, a->review, a->precision, a->recall, a->tp, a->fp, a->fn, a->unknown, a->absent_slots,
            a->false_present_rate);
    for (int g = 0; a->groups && g < r->n_groups; g++) {
        const pl_eval_group_att *x = &a->groups[g];
        fprintf(f, "%s{\"name\":", g ? "," : "");
        pl_json_fput_string(f, r->groups[g].name);
        fprintf(f, ",\"faces\":%d,\"truth\":%d,\"tp\":%d,\"fp\":%d,\"fn\":%d,\"unknown_faces\":%d,\"false_present\":",
                x->faces, x->truth, x->tp, x->fp, x->fn, x->unknown);
        pl_json_fput_string(f, x->false_present);
        fprintf(f, ",\"missed\":");
        pl_json_fput_string(f, x->missed);
        fprintf(f, "}");
    }
    fprintf(f, "]}");
}

static void json_boxes(FILE *f, const pl_eval_box *b, int n)
{
    fprintf(f, "[");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"group\":", i ? "," : "");
        pl_json_fput_string(f, b[i].group);
        if (b[i].identity[0]) {
            fprintf(f, ",\"identity\":");
            pl_json_fput_string(f, b[i].identity);
        } else {
            fprintf(f, ",\"score\":%.3f", b[i].score);
        }
        fprintf(f, ",\"box\":[%.0f,%.0f,%.0f,%.0f]}", b[i].box[0], b[i].box[1], b[i].box[2], b[i].box[3]);
    }
    fprintf(f, "]");
}

static void json_model(FILE *f, const pl_eval_result *r, const pl_eval_model *m)
{
    fprintf(f, "{\"name\":");
    pl_json_fput_string(f, m->name);
    if (m->error[0]) {
        fprintf(f, ",\"error\":");
        pl_json_fput_string(f, m->error);
        fprintf(f, "}");
        return;
    }
    const pl_eval_verification *v = &m->ver;
    fprintf(f, ",\"dim\":%d,\"faces_embedded\":%d,\"ms_per_face\":%.2f,\"verification\":{\"genuine_pairs\":%d,"
               "\"impostor_pairs\":%d,\"auc\":%.5f,\"eer\":%.5f,\"eer_threshold\":%.4f,\"tar_at_far\":[",
            m->dim, m->faces_embedded, m->ms_per_face, v->n_genuine, v->n_impostor, v->auc, v->eer, v->eer_thr);
    for (int i = 0; i < PL_EVAL_N_FAR; i++)
        fprintf(f, "%s{\"far\":%g,\"tar\":%.5f,\"threshold\":%.4f}", i ? "," : "", v->far[i], v->tar[i], v->thr[i]);
    fprintf(f, "]},\"identification\":{\"queries\":%d,\"rank1\":%.5f,\"rank5\":%.5f,\"confused\":[",
            m->ident.queries, m->ident.rank1, m->ident.rank5);
    for (int i = 0; i < m->ident.n_confused; i++) {
        const pl_eval_confusion *c = &m->ident.confused[i];
        fprintf(f, "%s{\"truth\":", i ? "," : "");
        pl_json_fput_string(f, r->identity[c->truth]);
        fprintf(f, ",\"predicted\":");
        pl_json_fput_string(f, r->identity[c->predicted]);
        fprintf(f, ",\"count\":%d,\"score\":%.4f}", c->count, c->score);
    }
    fprintf(f, "],\"closest\":[");
    for (int i = 0; i < m->ident.n_closest; i++) {
        const pl_eval_confusion *c = &m->ident.closest[i];
        fprintf(f, "%s{\"a\":", i ? "," : "");
        pl_json_fput_string(f, r->identity[c->truth]);
        fprintf(f, ",\"b\":");
        pl_json_fput_string(f, r->identity[c->predicted]);
        fprintf(f, ",\"score\":%.4f}", c->score);
    }
    fprintf(f, "]},\"attendance\":");
    json_attendance(f, r, &m->att);
    fprintf(f, ",\"calibrated\":{\"target_far\":%g,\"accept\":%.4f,\"review\":%.4f,\"lookalikes\":%d,\"attendance\":",
            r->target_far, m->cal_accept, m->cal_review, m->cal_lookalikes);
    json_attendance(f, r, &m->att_cal);
    fprintf(f, "}}");
}

pl_status pl_eval_write_json(const pl_eval_result *r, FILE *f)
{
    const pl_eval_detection *d = &r->det;
    fprintf(f, "{\"data\":");
    pl_json_fput_string(f, r->data);
    fprintf(f, ",\"seconds\":%.1f,\"ms_detect_per_photo\":%.1f,\"identities\":%d,\"identity_photos\":%d,"
               "\"photos_used\":%d,\"skipped\":[",
            r->seconds, r->ms_detect_per_photo, r->n_identities, r->identity_photos, r->photos_used);
    for (int i = 0; i < r->n_skipped; i++) {
        fprintf(f, "%s{\"path\":", i ? "," : "");
        pl_json_fput_string(f, r->skipped[i].path);
        fprintf(f, ",\"reason\":");
        pl_json_fput_string(f, r->skipped[i].reason);
        fprintf(f, "}");
    }
    fprintf(f, "],\"detection\":{\"annotated\":%d,\"detections\":%d,\"iou40\":{\"matched\":%d,\"recall\":%.4f,"
               "\"precision\":%.4f},\"iou50\":{\"matched\":%d,\"recall\":%.4f,\"precision\":%.4f},\"by_size\":[",
            d->annotated, d->detections, d->matched40, d->recall40, d->precision40, d->matched50, d->recall50,
            d->precision50);
    for (int i = 0; i < PL_EVAL_N_SIZES; i++)
        fprintf(f, "%s{\"size\":\"%s\",\"annotated\":%d,\"found40\":%d,\"found50\":%d}", i ? "," : "",
                d->size_label[i], d->size_annotated[i], d->size_found40[i], d->size_found50[i]);
    fprintf(f, "],\"missed\":");
    json_boxes(f, d->missed, d->n_missed);
    fprintf(f, ",\"false\":");
    json_boxes(f, d->false_faces, d->n_false);
    fprintf(f, "},\"groups\":[");
    for (int g = 0; g < r->n_groups; g++) {
        const pl_eval_group *x = &r->groups[g];
        fprintf(f, "%s{\"name\":", g ? "," : "");
        pl_json_fput_string(f, x->name);
        fprintf(f, ",\"annotated\":%d,\"detected\":%d,\"found40\":%d,\"found50\":%d,\"error\":", x->annotated,
                x->detected, x->found40, x->found50);
        pl_json_fput_string(f, x->error);
        fprintf(f, "}");
    }
    fprintf(f, "],\"target_far\":%g,\"models\":[", r->target_far);
    for (int m = 0; m < r->n_models; m++) {
        if (m) fprintf(f, ",");
        json_model(f, r, &r->models[m]);
    }
    fprintf(f, "]}\n");
    return ferror(f) ? PL_ERR_IO : PL_OK;
}

/* ---- HTML ------------------------------------------------------------------ */

static void thumb(pl_sbuf *b, const pl_eval_result *r, int id)
{
    if (id < 0 || id >= r->n_identities || !r->thumb[id]) {
        pl_sbuf_puts(b, "<span class=\"nothumb\">no photo</span>");
        return;
    }
    pl_sbuf_puts(b, "<img class=\"thumb\" alt=\"");
    pl_sbuf_html(b, r->identity[id]);
    pl_sbuf_puts(b, "\" src=\"data:image/jpeg;base64,");
    pl_sbuf_base64(b, r->thumb[id], r->thumb_len[id]);
    pl_sbuf_puts(b, "\">");
}

static void comparison_table(pl_sbuf *b, const pl_eval_result *r)
{
    pl_sbuf_puts(b, "<h2 id=\"models\">Model comparison</h2>\n<table><tr><th>model</th><th>AUC</th><th>EER (thr)</th>"
                    "<th>TAR@FAR 1e-2 (thr)</th><th>TAR@FAR 1e-3 (thr)</th><th>rank-1</th><th>rank-5</th>"
                    "<th>attendance P / R<br>(built-in thr)</th><th>calibrated thr<br>(FAR target)</th>"
                    "<th>attendance P / R<br>(calibrated)</th><th>false-present rate<br>(calibrated)</th><th>ms / face</th></tr>\n");
    for (int i = 0; i < r->n_models; i++) {
        const pl_eval_model *m = &r->models[i];
        pl_sbuf_puts(b, "<tr><td>");
        pl_sbuf_html(b, m->name);
        if (m->error[0]) {
            pl_sbuf_puts(b, "</td><td colspan=\"11\">");
            pl_sbuf_html(b, m->error);
            pl_sbuf_puts(b, "</td></tr>\n");
            continue;
        }
        const pl_eval_verification *v = &m->ver;
        pl_sbuf_printf(b, "</td><td>%.4f</td><td>%.3f (%.3f)</td><td>%.3f (%.3f)</td><td>%.3f (%.3f)</td>"
                          "<td>%.3f</td><td>%.3f</td><td>%.3f / %.3f<br>(%.2f)</td><td>%.3f<br>(%g)</td>"
                          "<td>%.3f / %.3f</td><td>%.4f (%d/%d)</td><td>%.1f</td></tr>\n",
                       v->auc, v->eer, v->eer_thr, v->tar[0], v->thr[0], v->tar[1], v->thr[1], m->ident.rank1,
                       m->ident.rank5, m->att.precision, m->att.recall, m->att.accept, m->cal_accept, r->target_far,
                       m->att_cal.precision, m->att_cal.recall, m->att_cal.false_present_rate, m->att_cal.fp,
                       m->att_cal.absent_slots, m->ms_per_face);
    }
    pl_sbuf_puts(b, "</table>\n");
}

static int ok_models(const pl_eval_result *r, int *idx)
{
    int n = 0;
    for (int i = 0; i < r->n_models; i++)
        if (!r->models[i].error[0]) idx[n++] = i;
    return n;
}

static void plots(pl_sbuf *b, const pl_eval_result *r)
{
    int idx[64], n = ok_models(r, idx);
    if (n == 0) return;
    /* bars: one group per metric, one bar per model */
    static const char *const metrics[] = {"AUC", "TAR@1e-3", "rank-1", "att. precision", "att. recall"};
    double vals[5 * 64];
    const char *names[64], *colors[64];
    for (int k = 0; k < n; k++) {
        const pl_eval_model *m = &r->models[idx[k]];
        names[k] = m->name;
        colors[k] = COLOR(k);
        double v[5] = {m->ver.auc, m->ver.tar[1], m->ident.rank1, m->att.precision, m->att.recall};
        for (int j = 0; j < 5; j++) vals[j * n + k] = v[j];
    }
    pl_sbuf_puts(b, "<div class=\"plots\">\n");
    pl_svg_bars(b, "Per-model figures (built-in thresholds)", metrics, 5, names, colors, n, vals, 1.0);
    /* ROC curves on a log FAR axis: the low-FAR end is what attendance uses */
    pl_svg_series s[64];
    double *xy[64] = {0};
    for (int k = 0; k < n; k++) {
        const pl_eval_verification *v = &r->models[idx[k]].ver;
        xy[k] = malloc(2 * ((size_t)v->n_roc + 1) * sizeof **xy);
        if (!xy[k]) continue;
        for (int i = 0; i < v->n_roc; i++) {
            xy[k][i] = v->roc[i].far;
            xy[k][v->n_roc + i] = v->roc[i].tar;
        }
        s[k] = (pl_svg_series){names[k], colors[k], xy[k], xy[k] + v->n_roc, v->n_roc};
    }
    pl_svg_lines(b, "ROC: identity-photo pairs", "false accept rate (log)", "true accept rate", s, n, 1, 1e-4, 1, 0, 1);
    for (int k = 0; k < n; k++) free(xy[k]);
    for (int k = 0; k < n; k++) {
        const pl_eval_model *m = &r->models[idx[k]];
        char title[256], cal[64], def[64];
        snprintf(title, sizeof title, "%s: genuine vs impostor scores", m->name);
        snprintf(def, sizeof def, "built-in %.2f", m->default_accept);
        snprintf(cal, sizeof cal, "calibrated %.2f", m->cal_accept);
        pl_svg_marker mk[2] = {{m->default_accept, def, "#000"}, {m->cal_accept, cal, "#2ca02c"}};
        /* From the lowest score (to a tenth) to 1, so that a model whose
         * cosines are compressed near 1 still shows its two humps. */
        float lo = 1;
        for (int i = 0; i < m->ver.n_impostor; i++) lo = fminf(lo, m->ver.impostor[i]);
        for (int i = 0; i < m->ver.n_genuine; i++) lo = fminf(lo, m->ver.genuine[i]);
        double from = floor(lo * 10) / 10;
        if (from > 0.9) from = 0.9;
        pl_svg_histograms(b, title, m->ver.genuine, m->ver.n_genuine, "genuine pairs", m->ver.impostor,
                          m->ver.n_impostor, "impostor pairs", from, 1.0, 56, mk, 2);
    }
    pl_sbuf_puts(b, "</div>\n");
}

static void detection(pl_sbuf *b, const pl_eval_result *r)
{
    const pl_eval_detection *d = &r->det;
    if (r->n_groups == 0) {
        pl_sbuf_puts(b, "<h2 id=\"detection\">Detection</h2>\n<p>No group photos with ground truth "
                        "(groups/NAME.jpg + NAME.json): detection and attendance not measured.</p>\n");
        return;
    }
    pl_sbuf_printf(b, "<h2 id=\"detection\">Detection (MTCNN) on group photos</h2>\n"
                      "<table><tr><th></th><th>annotated</th><th>found</th><th>recall</th><th>precision</th></tr>\n"
                      "<tr><td>IoU 0.4</td><td>%d</td><td>%d</td><td>%.3f</td><td>%.3f</td></tr>\n"
                      "<tr><td>IoU 0.5</td><td>%d</td><td>%d</td><td>%.3f</td><td>%.3f</td></tr></table>\n"
                      "<p>%d detections in all.</p>\n<table><tr><th>face size</th><th>annotated</th><th>recall IoU 0.4</th><th>recall IoU 0.5</th></tr>\n",
                   d->annotated, d->matched40, d->recall40, d->precision40, d->annotated, d->matched50, d->recall50,
                   d->precision50, d->detections);
    for (int i = 0; i < PL_EVAL_N_SIZES; i++) {
        int a = d->size_annotated[i];
        pl_sbuf_printf(b, "<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td></tr>\n", d->size_label[i], a,
                       a ? (double)d->size_found40[i] / a : 0, a ? (double)d->size_found50[i] / a : 0);
    }
    pl_sbuf_puts(b, "</table>\n<h3>Missed faces (IoU 0.4)</h3><ul>\n");
    for (int i = 0; i < d->n_missed; i++) {
        pl_sbuf_puts(b, "<li>");
        pl_sbuf_html(b, d->missed[i].group);
        pl_sbuf_printf(b, ": [%.0f, %.0f, %.0f, %.0f] ", d->missed[i].box[0], d->missed[i].box[1], d->missed[i].box[2],
                       d->missed[i].box[3]);
        pl_sbuf_html(b, d->missed[i].identity);
        pl_sbuf_puts(b, "</li>\n");
    }
    pl_sbuf_puts(b, "</ul>\n<h3>False faces (no annotated face at IoU 0.4)</h3><ul>\n");
    for (int i = 0; i < d->n_false; i++) {
        pl_sbuf_puts(b, "<li>");
        pl_sbuf_html(b, d->false_faces[i].group);
        pl_sbuf_printf(b, ": [%.0f, %.0f, %.0f, %.0f] score %.3f</li>\n", d->false_faces[i].box[0],
                       d->false_faces[i].box[1], d->false_faces[i].box[2], d->false_faces[i].box[3],
                       d->false_faces[i].score);
    }
    pl_sbuf_puts(b, "</ul>\n");
}

/* Pairs of people with their face thumbnails side by side. */
static void pair_table(pl_sbuf *b, const pl_eval_result *r, const pl_eval_confusion *pairs, int n,
                       const char *left, const char *right, const char *count)
{
    if (n == 0) return;
    pl_sbuf_printf(b, "<table><tr><th>%s</th><th></th><th>%s</th><th></th>%s%s%s<th>score</th></tr>\n", left, right,
                   count ? "<th>" : "", count ? count : "", count ? "</th>" : "");
    for (int i = 0; i < n && i < 6; i++) {
        const pl_eval_confusion *c = &pairs[i];
        pl_sbuf_puts(b, "<tr><td>");
        pl_sbuf_html(b, r->identity[c->truth]);
        pl_sbuf_puts(b, "</td><td>");
        thumb(b, r, c->truth);
        pl_sbuf_puts(b, "</td><td>");
        pl_sbuf_html(b, r->identity[c->predicted]);
        pl_sbuf_puts(b, "</td><td>");
        thumb(b, r, c->predicted);
        if (count) pl_sbuf_printf(b, "</td><td>%d", c->count);
        pl_sbuf_printf(b, "</td><td>%.3f</td></tr>\n", c->score);
    }
    pl_sbuf_puts(b, "</table>\n");
}

static void confusions(pl_sbuf *b, const pl_eval_result *r)
{
    pl_sbuf_puts(b, "<h2 id=\"identification\">Identification: most confused people</h2>\n"
                    "<p>Leave-one-out: each identity photo against every person's mean embedding, its own "
                    "person's mean built from the other photos.</p>\n");
    for (int k = 0; k < r->n_models; k++) {
        const pl_eval_model *m = &r->models[k];
        if (m->error[0]) continue;
        pl_sbuf_puts(b, "<h3>");
        pl_sbuf_html(b, m->name);
        pl_sbuf_printf(b, "</h3><p>rank-1 %.3f, rank-5 %.3f over %d photos; %d pairs of people confused.</p>\n",
                       m->ident.rank1, m->ident.rank5, m->ident.queries, m->ident.n_confused);
        pair_table(b, r, m->ident.confused, m->ident.n_confused, "photo of", "taken for", "times");
        pl_sbuf_puts(b, "<p>Closest pairs of different people (highest cosine between their photos):</p>\n");
        pair_table(b, r, m->ident.closest, m->ident.n_closest, "person", "resembles", NULL);
    }
}

static void attendance_table(pl_sbuf *b, const pl_eval_result *r, const pl_eval_model *m, const pl_eval_attendance *a,
                             const char *what)
{
    pl_sbuf_puts(b, "<h3>");
    pl_sbuf_html(b, m->name);
    pl_sbuf_printf(b, " — %s: accept %.3f, review %.3f</h3>\n", what, a->accept, a->review);
    pl_sbuf_printf(b, "<p>precision %.3f, recall %.3f (tp %d, false present %d, missed %d); %d unknown faces; "
                      "false-present rate %.4f of %d absent student-photo slots.</p>\n",
                   a->precision, a->recall, a->tp, a->fp, a->fn, a->unknown, a->false_present_rate, a->absent_slots);
    pl_sbuf_puts(b, "<table><tr><th>photo</th><th>faces</th><th>present</th><th>false present</th><th>missed</th><th>unknown</th></tr>\n");
    for (int g = 0; a->groups && g < r->n_groups; g++) {
        const pl_eval_group_att *x = &a->groups[g];
        pl_sbuf_puts(b, "<tr><td>");
        pl_sbuf_html(b, r->groups[g].name);
        pl_sbuf_printf(b, "</td><td>%d</td><td>%d/%d</td><td>", x->faces, x->tp, x->truth);
        pl_sbuf_html(b, x->false_present);
        pl_sbuf_puts(b, "</td><td>");
        pl_sbuf_html(b, x->missed);
        pl_sbuf_printf(b, "</td><td>%d</td></tr>\n", x->unknown);
    }
    pl_sbuf_puts(b, "</table>\n");
}

static void build_html(pl_sbuf *b, const pl_eval_result *r)
{
    pl_sbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>pasalista evaluation</title>\n"
                    "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
                    "td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px;text-align:left}th{background:#eee}"
                    ".plots svg{margin:6px;border:1px solid #ccc}.thumb{width:64px;height:64px}</style>\n</head><body>\n"
                    "<h1>pasalista evaluation</h1>\n<p>Data: <code>");
    pl_sbuf_html(b, r->data);
    pl_sbuf_printf(b, "</code>: %d people, %d identity photos (%d used, %d skipped), %d group photos. "
                      "Detection %.0f ms per photo; %.0f s in all.</p>\n",
                   r->n_identities, r->identity_photos, r->photos_used, r->n_skipped, r->n_groups,
                   r->ms_detect_per_photo, r->seconds);
    comparison_table(b, r);
    plots(b, r);
    detection(b, r);
    confusions(b, r);
    pl_sbuf_puts(b, "<h2 id=\"attendance\">Attendance on group photos</h2>\n");
    for (int k = 0; k < r->n_models && r->n_groups > 0; k++) {
        const pl_eval_model *m = &r->models[k];
        if (m->error[0]) continue;
        attendance_table(b, r, m, &m->att, "built-in thresholds");
        attendance_table(b, r, m, &m->att_cal, "calibrated from the identity photos");
    }
    pl_sbuf_puts(b, "<h2>Skipped identity photos</h2><ul>\n");
    for (int i = 0; i < r->n_skipped; i++) {
        pl_sbuf_puts(b, "<li>");
        pl_sbuf_html(b, r->skipped[i].path);
        pl_sbuf_puts(b, ": ");
        pl_sbuf_html(b, r->skipped[i].reason);
        pl_sbuf_puts(b, "</li>\n");
    }
    pl_sbuf_puts(b, "</ul>\n</body></html>\n");
}

pl_status pl_eval_write_report(const pl_eval_result *r, const char *dir, pl_error *err)
{
    pl_status st = pl_mkdirs(dir, 0755, err);
    if (st != PL_OK) return st;
    char path[4200];
    snprintf(path, sizeof path, "%s/report.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: cannot create", path);
    st = pl_eval_write_json(r, f);
    if (fclose(f) != 0 || st != PL_OK) return pl_fail(err, PL_ERR_IO, "%s: write failed", path);
    pl_sbuf b = {0};
    build_html(&b, r);
    snprintf(path, sizeof path, "%s/report.html", dir);
    if (b.oom) st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    else st = pl_write_file_atomic(path, b.s, b.len, err);
    pl_sbuf_free(&b);
    return st;
}
