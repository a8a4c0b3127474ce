/* source.c — what an enrollment source folder holds: whose photos are where.
 *
 * Three layouts are accepted, checked in this order:
 *   1. the output of `roster import`: a roster.csv beside the student
 *      folders maps each folder to the student's full name (accents kept);
 *   2. one subfolder per student ("Ana María Pérez/1.jpg", ...);
 *   3. a flat folder of photos named after the students
 *      ("Ana María Pérez.jpg", "Ana_Maria_Perez_2.jpg").
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "roster/roster.h"
#include "util/fs.h"

static const char *const photo_exts[] = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif",
                                         ".bmp", ".tif", ".tiff"};

static int is_photo_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    for (size_t i = 0; i < sizeof photo_exts / sizeof *photo_exts; i++)
        if (!strcasecmp(dot, photo_exts[i])) return 1;
    return 0;
}

/* Natural order, so "2.jpg" comes before "10.jpg". */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long na = strtoull(a, &ea, 10), nb = strtoull(b, &eb, 10);
            if (na != nb) return na < nb ? -1 : 1;
            a = ea;
            b = eb;
        } else {
            if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
            a++;
            b++;
        }
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_names(const void *a, const void *b)
{
    return natural_cmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir that are folders (want_dirs) or
 * photo files. */
static pl_status list_dir(const char *dir, int want_dirs, char ***names, int *n, pl_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return pl_fail(err, PL_ERR_IO, "%s: cannot open folder", dir);
    int cap = 0;
    struct dirent *e;
    pl_status st = PL_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        if (!pl_path_join(path, sizeof path, dir, e->d_name)) continue;
        int is_dir = pl_is_dir(path);
        if (want_dirs ? !is_dir : (is_dir || !is_photo_name(e->d_name))) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **bigger = realloc(*names, (size_t)cap * sizeof *bigger);
            if (!bigger) {
                st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            *names = bigger;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_names);
    return st;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

void pl_name_from_filename(const char *file, char *out, size_t size)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (len >= size) len = size - 1;
    memcpy(out, base, len);
    out[len] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '_') *p = ' ';
    /* Drop a trailing photo number: "Ana Pérez 2", "Ana Pérez-2", "Ana (2)". */
    char *end = out + strlen(out);
    while (end > out && (isdigit((unsigned char)end[-1]) || end[-1] == '(' || end[-1] == ')')) end--;
    if (end < out + strlen(out)) {
        while (end > out && (end[-1] == ' ' || end[-1] == '-' || end[-1] == '(')) end--;
        if (end > out) *end = '\0';
    }
    /* Trim spaces. */
    end = out + strlen(out);
    while (end > out && end[-1] == ' ') *--end = '\0';
}

typedef struct photo_list {
    pl_source_photo *v;
    int n, cap;
} photo_list;

static pl_source_photo *push_photo(photo_list *l, const char *student, const char *path)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        pl_source_photo *bigger = realloc(l->v, (size_t)cap * sizeof *bigger);
        if (!bigger) return NULL;
        l->v = bigger;
        l->cap = cap;
    }
    pl_source_photo *p = &l->v[l->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->student, sizeof p->student, "%s", student);
    snprintf(p->path, sizeof p->path, "%s", path);
    return p;
}

/* Photos of one student folder, under that student's name. */
static pl_status scan_student_dir(const char *dir, const char *student, photo_list *out,
                                  pl_error *err)
{
    char **files;
    int n;
    pl_status st = list_dir(dir, 0, &files, &n, err);
    if (st != PL_OK) return st;
    if (n == 0) {
        /* Listed with an empty path so the report names the student. */
        if (!push_photo(out, student, "")) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n && st == PL_OK; i++) {
        char path[4096];
        pl_path_join(path, sizeof path, dir, files[i]);
        pl_source_photo *p = push_photo(out, student, path);
        if (p) p->in_student_folder = 1;
        else st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    free_names(files, n);
    return st;
}

/* The folder written by `roster import`: roster.csv names each student's
 * folder (folder,name,student_id,email,gender,photos). */
static int column(const pl_sheet *sh, const char *name)
{
    if (sh->n_rows == 0) return -1;
    const pl_trow *h = &sh->rows[0];
    for (int c = 0; c < h->n; c++)
        if (h->cells[c].text && !strcmp(h->cells[c].text, name)) return c;
    return -1;
}

static const char *cell_text(const pl_trow *r, int c)
{
    return c >= 0 && c < r->n && r->cells[c].text ? r->cells[c].text : "";
}

static pl_status scan_roster_folder(const char *source, const char *csv_path, photo_list *list,
                                    pl_error *err)
{
    uint8_t *data;
    size_t len;
    pl_status st = pl_read_file(csv_path, (size_t)16 << 20, &data, &len, err);
    if (st != PL_OK) return st;
    pl_book book = {0};
    st = pl_csv_read_mem(data, len, csv_path, &book, err);
    free(data);
    if (st != PL_OK) return st;
    const pl_sheet *sh = &book.sheets[0];
    int c_folder = column(sh, "folder"), c_name = column(sh, "name"), c_id = column(sh, "student_id"),
        c_email = column(sh, "email"), c_gender = column(sh, "gender");
    if (c_folder < 0 || c_name < 0)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: needs 'folder' and 'name' columns", csv_path);
    for (int r = 1; r < sh->n_rows && st == PL_OK; r++) {
        const pl_trow *row = &sh->rows[r];
        const char *folder = cell_text(row, c_folder), *name = cell_text(row, c_name);
        char dir[4096];
        /* The folder must be a plain name inside the source: roster.csv
         * is a file a person may have edited. */
        if (!*folder || strchr(folder, '/') || !strcmp(folder, "..") || !strcmp(folder, ".") || !*name) continue;
        pl_path_join(dir, sizeof dir, source, folder);
        int first = list->n;
        if (pl_is_dir(dir)) st = scan_student_dir(dir, name, list, err);
        else if (!push_photo(list, name, "")) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
        for (int k = first; k < list->n && st == PL_OK; k++) {
            snprintf(list->v[k].code, sizeof list->v[k].code, "%s", cell_text(row, c_id));
            snprintf(list->v[k].email, sizeof list->v[k].email, "%s", cell_text(row, c_email));
            snprintf(list->v[k].gender, sizeof list->v[k].gender, "%s", cell_text(row, c_gender));
        }
    }
    pl_book_free(&book);
    return st;
}

pl_status pl_source_scan(const char *source, pl_source_photo **photos, int *n, pl_error *err)
{
    *photos = NULL;
    *n = 0;
    if (!pl_is_dir(source)) {
        if (!pl_file_exists(source))
            return pl_fail(err, PL_ERR_NOTFOUND, "%s: no such folder", source);
        return pl_fail(err, PL_ERR_ARG,
                       "%s: not a folder (give a folder with one subfolder per student, or of photos named after them)",
                       source);
    }
    photo_list list = {0};
    char **dirs = NULL;
    int n_dirs = 0;
    char csv[4096];
    pl_path_join(csv, sizeof csv, source, "roster.csv");
    pl_status st = pl_file_exists(csv) ? scan_roster_folder(source, csv, &list, err)
                                       : list_dir(source, 1, &dirs, &n_dirs, err);
    if (st != PL_OK) {
        free(list.v);
        return st;
    }
    if (list.n > 0) {
        /* roster.csv listed the students */
    } else if (n_dirs > 0) {
        for (int i = 0; i < n_dirs && st == PL_OK; i++) {
            char dir[4096];
            pl_path_join(dir, sizeof dir, source, dirs[i]);
            st = scan_student_dir(dir, dirs[i], &list, err);
        }
    } else {
        char **files;
        int n_files;
        st = list_dir(source, 0, &files, &n_files, err);
        for (int i = 0; i < n_files && st == PL_OK; i++) {
            char path[4096], name[256];
            pl_path_join(path, sizeof path, source, files[i]);
            pl_name_from_filename(files[i], name, sizeof name);
            if (!push_photo(&list, name, path)) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
        }
        free_names(files, n_files);
    }
    free_names(dirs, n_dirs);
    if (st == PL_OK && list.n == 0)
        st = pl_fail(err, PL_ERR_NOTFOUND, "%s: no student folders or photos found", source);
    if (st != PL_OK) {
        free(list.v);
        return st;
    }
    *photos = list.v;
    *n = list.n;
    return PL_OK;
}
