/* roster.h — the roster module's insides: spreadsheets read into a plain
 * grid of cells, the grid turned into students, links, safe names, and the
 * downloader.
 *
 * Owns: the .xlsx / .ods / .csv readers (hostile input: every size is
 * capped, every index checked), header recognition, Drive link rewriting,
 * folding names into safe folder names, and the import (download, check,
 * name, report). The public half is the "roster import" section of
 * include/pasalista.h.
 *
 * Flow:  file -> pl_table (cells: text + hyperlink) -> pl_roster (students)
 *             -> pl_roster_import (downloads) -> photos folder + reports.
 */
#ifndef PL_ROSTER_H
#define PL_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "pasalista.h"
#include "util/error.h"

/* Hard caps: a roster is a class list, not a data warehouse. */
#define PL_ROSTER_MAX_ROWS   100000
#define PL_ROSTER_MAX_COLS   1024
#define PL_ROSTER_MAX_CELL   (64 * 1024)   /* bytes of text in one cell   */
#define PL_ROSTER_MAX_SHEETS 256
#define PL_ROSTER_DEFAULT_MAX_BYTES ((size_t)64 << 20)

/* One cell: its text as displayed and, when the cell holds a hyperlink
 * (a hyperlink object, a HYPERLINK() formula or an ODS <text:a>), the
 * target. Both malloc'd or NULL. */
typedef struct pl_cell {
    char *text;
    char *link;
} pl_cell;

typedef struct pl_trow {
    int row;          /* 1-based row number in the sheet */
    int n;            /* cells[0..n) = columns A.. */
    pl_cell *cells;
} pl_trow;

typedef struct pl_merge { int r0, c0, r1, c1; } pl_merge; /* 1-based, inclusive */

/* One sheet: the non-empty rows in order. */
typedef struct pl_sheet {
    char *name;
    pl_trow *rows;
    int n_rows, cap_rows;
    pl_merge *merges;
    int n_merges;
} pl_sheet;

typedef struct pl_book {
    pl_sheet *sheets;
    int n_sheets;
} pl_book;

void pl_book_free(pl_book *b);
/* Set the cell (row, col), both 1-based; rows must come in ascending order
 * per sheet (the readers guarantee it, or the call fails). Takes ownership
 * of text and link (even on failure). */
pl_status pl_sheet_set(pl_sheet *s, int row, int col, char *text, char *link,
                       pl_error *err);
const pl_cell *pl_sheet_cell(const pl_sheet *s, int row_index, int col);

/* Readers. `name` (the file name) begins every error message. */
pl_status pl_csv_read_mem(const uint8_t *data, size_t len, const char *name,
                          pl_book *out, pl_error *err);
pl_status pl_xlsx_read_mem(const uint8_t *data, size_t len, const char *name,
                           size_t max_part, pl_book *out, pl_error *err);
pl_status pl_ods_read_mem(const uint8_t *data, size_t len, const char *name,
                          size_t max_part, pl_book *out, pl_error *err);

/* The target of a HYPERLINK("url", ...) formula (xlsx, or ODS
 * "of:=HYPERLINK(...)"), malloc'd; NULL if it is not one. */
char *pl_formula_hyperlink(const char *formula);

/* Any of the three, by content (zip with xl/workbook.xml, zip with
 * content.xml, else CSV). */
pl_status pl_book_read_mem(const uint8_t *data, size_t len, const char *name,
                           size_t max_part, pl_book *out, pl_error *err);

/* Find the header row and the columns, and build the students. */
pl_status pl_roster_from_book(const pl_book *b, const pl_roster_options *opt,
                              const char *name, pl_roster *out, pl_error *err);

/* ---- zip (zipread.c): one member, inflated with caps ------------------- */
typedef struct pl_zip pl_zip;
pl_status pl_zip_open_mem(const uint8_t *data, size_t len, const char *name,
                          pl_zip **out, pl_error *err);
/* NOTFOUND when absent. Refuses members whose declared or real size is
 * over max_bytes, or whose compression ratio marks a zip bomb. *data gets
 * a NUL after the last byte. */
pl_status pl_zip_read(pl_zip *z, const char *member, size_t max_bytes,
                      char **data, size_t *len, pl_error *err);
int pl_zip_has(pl_zip *z, const char *member);
void pl_zip_close(pl_zip *z);

/* ---- text helpers (names.c) ------------------------------------------- */

/* Fold a UTF-8 name into a safe folder name: Latin accents to ASCII
 * (á->a, ñ->n, ß->ss), anything outside [A-Za-z0-9] to one '_', no leading
 * or trailing '_' '.', Windows device names (con, nul, com1...) suffixed,
 * at most max-1 bytes. Returns 0 (and "") when nothing usable is left
 * (emoji only, punctuation only). */
int pl_name_fold(const char *utf8, char *out, size_t max);
/* Lower-case ASCII fold for header matching: accents folded, punctuation
 * to spaces, spaces collapsed ("Fotografía:" -> "fotografia"). */
void pl_header_fold(const char *utf8, char *out, size_t max);
/* Trim and collapse whitespace, drop control characters and invalid UTF-8;
 * returns a malloc'd copy. */
char *pl_text_clean(const char *s);

/* Every link inside a cell's text: http(s) URLs split on spaces, commas,
 * semicolons and newlines (Forms writes "url1, url2"). Appends malloc'd
 * strings to *links. */
pl_status pl_links_split(const char *text, char ***links, int *n, pl_error *err);

/* ---- content checks (sniff.c) ----------------------------------------- */
typedef enum pl_content {
    PL_CONTENT_UNKNOWN = 0,
    PL_CONTENT_JPEG, PL_CONTENT_PNG, PL_CONTENT_WEBP, PL_CONTENT_HEIF,
    PL_CONTENT_GIF, PL_CONTENT_BMP, PL_CONTENT_TIFF,
    PL_CONTENT_HTML, PL_CONTENT_TEXT
} pl_content;
pl_content pl_content_sniff(const uint8_t *data, size_t len);
const char *pl_content_ext(pl_content c); /* "jpg", "png", ... or NULL */
/* Drive's "can't scan for viruses" page: the URL its form or link leads
 * to (resolved against base_url), or 0 if this HTML is not one. */
int pl_drive_confirm_url(const char *html, size_t len, const char *base_url,
                         char *out, size_t out_size);
/* A Google sign-in / "request access" page. */
int pl_html_is_signin(const char *html, size_t len);

/* ---- parallel downloads (fetch.c) -------------------------------------- */

/* One download into `path` (appending when a partial file is there and the
 * server honours Range). Drive's confirmation page is followed; any other
 * HTML ends as NOT_PUBLIC (a sign-in page) or NOT_IMAGE. */
typedef struct pl_fetch {
    char url[2048];           /* in: first URL; out: the last one asked     */
    char path[1024];          /* in: where the bytes go                     */
    int tag;                  /* in: the caller's, untouched                */
    int ok;                   /* out: 1 = path holds the whole response     */
    pl_import_reason reason;  /* out, when !ok                              */
    char detail[256];
    int http_code, attempts;
    long long bytes;          /* size of path when done                     */
    /* private to fetch.c */
    void *easy, *fp;
    long long resume_from, written, cap;
    long long ready_at_ms;
    int hops, too_large, no_resume;
} pl_fetch;

typedef struct pl_fetch_opts {
    int jobs, retries, max_redirects;
    long connect_timeout_ms, timeout_ms, backoff_ms;
    long long max_bytes;
} pl_fetch_opts;

typedef void (*pl_fetch_done_fn)(void *user, pl_fetch *f);

/* Run every job, at most o->jobs at a time; done() is called (in this
 * thread) as each one finishes for good. Fails only when curl itself
 * cannot start. */
pl_status pl_fetch_all(pl_fetch *jobs, int n, const pl_fetch_opts *o, pl_fetch_done_fn done,
                       void *user, pl_error *err);

#endif
