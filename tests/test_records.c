/* Tests for src/records without any model or photo: dates, narrowing the
 * gallery to a class, marks and the audit trail through the public API,
 * the report matrix and its CSV / JSON / HTML / XLSX forms (the XLSX read
 * back), forgetting a student (bytes gone from the file), and errors. */
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "records/records.h"
#include "roster/roster.h"
#include "util/sha256.h"
#include "test.h"

static char dir_[64], db_[128];

static void fresh(void)
{
    snprintf(dir_, sizeof dir_, "/tmp/pl_test_records_XXXXXX");
    if (!mkdtemp(dir_)) abort();
    snprintf(db_, sizeof db_, "%s/r.db", dir_);
}

static void cleanup(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir_);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir_);
}

/* A student with one photo and one 128-d embedding whose bytes are known. */
static int64_t enroll(pl_store *s, const char *name, float seed)
{
    pl_student st;
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "%s", name);
    int64_t id = 0, photo = 0;
    if (pl_store_student_add(s, &st, &id, NULL, NULL)) return -1;
    char sha[65];
    pl_sha256_hex(name, strlen(name), sha);
    pl_photo_rec p = {.student_id = id, .path = name, .sha256 = sha, .width = 10, .height = 10};
    if (pl_store_photo_add(s, &p, &photo, NULL, NULL)) return -1;
    float v[128];
    for (int i = 0; i < 128; i++) v[i] = seed + 0.001f * (float)i;
    if (pl_store_embedding_add(s, photo, "m", v, 128, 1.0f, NULL)) return -1;
    return id;
}

/* Class "Maths" with ana, bruno, carla; "Art" with ana only. */
static void setup_db(void)
{
    fresh();
    pl_error err = {0};
    int created = 0;
    CHECK(pl_class_create(db_, "Maths", &created, &err) == PL_OK && created);
    CHECK(pl_class_create(db_, "Maths", &created, &err) == PL_OK && !created);
    CHECK(pl_class_create(db_, "Art", &created, &err) == PL_OK && created);
    pl_store *s = pl_store_open(db_, 0, &err);
    CHECK(s);
    pl_class_info maths, art;
    CHECK(pl_store_class_find(s, "Maths", &maths, &err) == PL_OK);
    CHECK(pl_store_class_find(s, "Art", &art, &err) == PL_OK);
    const char *names[] = {"Ana María Pérez", "Bruno", "Carla"};
    for (int i = 0; i < 3; i++) {
        int64_t id = enroll(s, names[i], 0.25f * (float)(i + 1));
        CHECK(id > 0);
        CHECK(pl_store_class_add_student(s, maths.id, id, NULL, &err) == PL_OK);
        if (i == 0) CHECK(pl_store_class_add_student(s, art.id, id, NULL, &err) == PL_OK);
    }
    pl_store_close(s);
}

TEST(dates)
{
    CHECK(pl_rec_is_date("2026-01-31"));
    CHECK(pl_rec_is_date("2024-02-29"));
    CHECK(!pl_rec_is_date("2026-02-29"));
    CHECK(!pl_rec_is_date("2026-04-31"));
    CHECK(!pl_rec_is_date("2026-1-5"));
    CHECK(!pl_rec_is_date("05/01/2026"));
    CHECK(!pl_rec_is_date("2026-13-01"));
    CHECK(!pl_rec_is_date(""));
    CHECK(!pl_rec_is_date(NULL));
    char today[11];
    pl_rec_today(today);
    CHECK(pl_rec_is_date(today));
}

TEST(gallery_restricted_to_a_class)
{
    pl_gallery g;
    memset(&g, 0, sizeof g);
    g.dim = 2;
    g.n_students = 3;
    g.n_rows = 4;
    g.student_id = malloc(3 * sizeof *g.student_id);
    g.student_name = malloc(3 * sizeof *g.student_name);
    g.student_rows = malloc(3 * sizeof *g.student_rows);
    g.means = malloc(6 * sizeof *g.means);
    g.rows = malloc(8 * sizeof *g.rows);
    g.row_photo = malloc(4 * sizeof *g.row_photo);
    g.row_student = malloc(4 * sizeof *g.row_student);
    const int owner[] = {0, 1, 1, 2};
    for (int i = 0; i < 3; i++) {
        g.student_id[i] = 10 + i;
        g.student_name[i] = strdup(i == 0 ? "a" : i == 1 ? "b" : "c");
        g.student_rows[i] = i == 1 ? 2 : 1;
        g.means[2 * i] = g.means[2 * i + 1] = (float)i;
    }
    for (int r = 0; r < 4; r++) {
        g.row_student[r] = owner[r];
        g.row_photo[r] = 100 + r;
        g.rows[2 * r] = g.rows[2 * r + 1] = (float)r;
    }
    const int64_t keep[] = {12, 11, 99};
    pl_rec_gallery_restrict(&g, keep, 3);
    CHECK_EQ_INT(g.n_students, 2);
    CHECK_EQ_INT(g.n_rows, 3);
    CHECK_EQ_INT(g.student_id[0], 11);
    CHECK_STR(g.student_name[0], "b");
    CHECK_STR(g.student_name[1], "c");
    CHECK_NEAR(g.means[0], 1, 0);
    CHECK_NEAR(g.means[2], 2, 0);
    CHECK_EQ_INT(g.row_photo[0], 101);
    CHECK_EQ_INT(g.row_student[2], 1);
    CHECK_NEAR(g.rows[4], 3, 0);
    pl_gallery_free(&g);
}

TEST(marks_audit_and_report_matrix)
{
    setup_db();
    pl_error err = {0};
    char old[16];
    CHECK(pl_mark_set(db_, "Maths", "2026-03-02", "Bruno", "present", "t1", NULL, old, &err) == PL_OK);
    CHECK_STR(old, "absent"); /* the new session started everyone absent */
    CHECK(pl_mark_set(db_, "Maths", "2026-03-02", "Carla", "excused", "t1", "flu", old, &err) == PL_OK);
    CHECK(pl_mark_set(db_, "Maths", "2026-03-09", "Ana María Pérez", "present", "t2", NULL, old, &err) == PL_OK);
    CHECK(pl_mark_set(db_, "Maths", "2026-03-09", "Bruno", "review", "t2", NULL, old, &err) == PL_OK);
    CHECK(pl_mark_set(db_, "Maths", "2026-03-16", "Carla", "present", "t2", NULL, old, &err) == PL_OK);
    /* found by slug too */
    CHECK(pl_mark_set(db_, "Maths", "2026-03-16", "ana-maria-perez", "absent", "t2", "", old, &err) == PL_OK);
    pl_report r;
    CHECK(pl_report_build(db_, "Maths", NULL, NULL, &r, &err) == PL_OK);
    CHECK_EQ_INT(r.n_sessions, 3);
    CHECK_EQ_INT(r.n_students, 3);
    CHECK_STR(r.students[0].name, "Ana María Pérez");
    CHECK_STR(r.cells[0 * 3 + 1].status, "present");
    CHECK_STR(r.cells[0 * 3 + 1].source, "manual");
    CHECK_STR(r.cells[0 * 3 + 1].auto_status, ""); /* no photos that day */
    CHECK_EQ_INT(r.students[0].present, 1);
    CHECK_EQ_INT(r.students[0].absent, 2);
    CHECK_NEAR(r.students[0].percent, 100.0 / 3, 1e-9);
    CHECK_EQ_INT(r.students[2].excused, 1);
    CHECK_NEAR(r.students[2].percent, 50, 1e-9); /* excused not counted */
    CHECK_EQ_INT(r.sessions[1].open_review, 1);
    CHECK_EQ_INT(r.open_review_sessions, 1);
    pl_report_free(&r);
    /* a range */
    CHECK(pl_report_build(db_, "Maths", "2026-03-03", "2026-03-10", &r, &err) == PL_OK);
    CHECK_EQ_INT(r.n_sessions, 1);
    CHECK_STR(r.sessions[0].date, "2026-03-09");
    pl_report_free(&r);
    /* the audit log holds every change */
    sqlite3 *h;
    CHECK(sqlite3_open(db_, &h) == SQLITE_OK);
    sqlite3_stmt *q;
    CHECK(sqlite3_prepare_v2(h, "SELECT count(*), sum(note = 'flu'), sum(who = 't2') FROM audit_log", -1, &q,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(q, 0), 6);
    CHECK_EQ_INT(sqlite3_column_int(q, 1), 1);
    CHECK_EQ_INT(sqlite3_column_int(q, 2), 4);
    sqlite3_finalize(q);
    sqlite3_close(h);
    struct stat sb;
    CHECK(stat(db_, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    cleanup();
}

TEST(report_formats_csv_json_html_xlsx)
{
    setup_db();
    pl_error err = {0};
    CHECK(pl_mark_set(db_, "Maths", "2026-03-02", "Bruno", "present", "t", NULL, NULL, &err) == PL_OK);
    CHECK(pl_mark_set(db_, "Art", "2026-03-03", "Ana María Pérez", "excused", "t", NULL, NULL, &err) == PL_OK);
    pl_report r[2];
    CHECK(pl_report_build(db_, "Maths", NULL, NULL, &r[0], &err) == PL_OK);
    CHECK(pl_report_build(db_, "Art", NULL, NULL, &r[1], &err) == PL_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/m.csv", dir_);
    CHECK(pl_report_write(r, 1, "csv", path, &err) == PL_OK);
    CHECK(pl_report_write(r, 2, "csv", path, &err) == PL_ERR_ARG);
    CHECK(pl_report_write(r, 1, "pdf", path, &err) == PL_ERR_ARG);
    CHECK(pl_report_write(r, 1, "xlsx", "-", &err) == PL_ERR_ARG);
    FILE *f = fopen(path, "rb");
    char text[4096] = "";
    CHECK(f && fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    CHECK_CONTAINS(text, "student,2026-03-02,present,absent,excused,review,attendance %\r\n");
    CHECK_CONTAINS(text, "\r\nAna María Pérez,absent,0,1,0,0,0.0\r\n");
    CHECK_CONTAINS(text, "\r\nBruno,present (manual),1,0,0,0,100.0\r\n");
    snprintf(path, sizeof path, "%s/r.xlsx", dir_);
    CHECK(pl_report_write(r, 2, "xlsx", path, &err) == PL_OK);
    f = fopen(path, "rb");
    CHECK(f);
    static uint8_t bytes[1 << 16];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    pl_book book = {0};
    CHECK_MSG(pl_xlsx_read_mem(bytes, n, "r.xlsx", 1 << 20, &book, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(book.n_sheets, 2);
    CHECK_STR(book.sheets[0].name, "Maths");
    CHECK_STR(book.sheets[1].name, "Art");
    const pl_trow *hdr = &book.sheets[0].rows[0];
    CHECK_STR(hdr->cells[1].text, "2026-03-02");
    const pl_trow *bruno = &book.sheets[0].rows[2];
    CHECK_STR(bruno->cells[0].text, "Bruno");
    CHECK_STR(bruno->cells[1].text, "present (manual)");
    CHECK_STR(bruno->cells[6].text, "1");
    CHECK_STR(book.sheets[1].rows[1].cells[1].text, "excused (manual)");
    pl_book_free(&book);
    /* HTML escapes names and embeds its style */
    snprintf(path, sizeof path, "%s/r.html", dir_);
    CHECK(pl_report_write(r, 2, "html", path, &err) == PL_OK);
    pl_report_free(&r[0]);
    pl_report_free(&r[1]);
    cleanup();
}

static int file_has(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return memmem(buf, len, needle, n) != NULL;
}

TEST(forget_removes_every_byte)
{
    setup_db();
    pl_error err = {0};
    CHECK(pl_mark_set(db_, "Maths", "2026-03-02", "Carla", "excused", "t", "Carla's note", NULL, &err) == PL_OK);
    float v[128];
    for (int i = 0; i < 128; i++) v[i] = 0.75f + 0.001f * (float)i; /* Carla's vector */
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db_);
    CHECK(file_has(db_, "Carla", 5) || file_has(wal, "Carla", 5));
    CHECK(pl_student_forget(db_, "Carla", 0, &err) == PL_OK);
    CHECK(!file_has(db_, "Carla", 5) && !file_has(wal, "Carla", 5));
    CHECK(!file_has(db_, v, sizeof v) && !file_has(db_, v, 32));
    pl_report r;
    CHECK(pl_report_build(db_, "Maths", NULL, NULL, &r, &err) == PL_OK);
    CHECK_EQ_INT(r.n_students, 2);
    pl_report_free(&r);
    CHECK(pl_student_forget(db_, "Carla", 0, &err) == PL_ERR_NOTFOUND);
    CHECK(pl_student_forget(db_, "Bruno", 1, &err) == PL_OK);
    CHECK(pl_report_build(db_, "Maths", NULL, NULL, &r, &err) == PL_OK);
    CHECK_EQ_INT(r.n_students, 2); /* Bruno's kept mark, off the roster */
    CHECK_STR(r.students[1].name, "Bruno");
    CHECK(!r.students[1].on_roster);
    pl_report_free(&r);
    pl_student_summary *list = NULL;
    int n = 0;
    CHECK(pl_student_list(db_, &list, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 1);
    free(list);
    cleanup();
}

TEST(consent_and_errors)
{
    setup_db();
    pl_error err = {0};
    CHECK(pl_student_consent(db_, "Bruno", 1, "2026-02-01", &err) == PL_OK);
    pl_student_summary *list = NULL;
    int n = 0;
    CHECK(pl_student_list(db_, &list, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_STR(list[1].name, "Bruno");
    CHECK(list[1].consent == 1);
    CHECK_STR(list[1].consent_date, "2026-02-01");
    CHECK_EQ_INT(list[1].classes, 1);
    CHECK_EQ_INT(list[0].classes, 2);
    free(list);
    CHECK(pl_student_consent(db_, "Bruno", 1, "2026-2-1", &err) == PL_ERR_ARG);
    CHECK(pl_mark_set(db_, "Art", "2026-03-02", "Bruno", "present", "t", NULL, NULL, &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "not in class 'Art'");
    CHECK(pl_mark_set(db_, "Nope", "2026-03-02", "Bruno", "present", "t", NULL, NULL, &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "no class 'Nope'");
    CHECK(pl_mark_set(db_, "Art", "2026-03-02", "Bruno", "late", "t", NULL, NULL, &err) == PL_ERR_ARG);
    pl_report r;
    CHECK(pl_report_build(db_, "Art", "yesterday", NULL, &r, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "--from 'yesterday'");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.db", dir_);
    pl_class_summary *c = NULL;
    CHECK(pl_class_list(missing, &c, &n, &err) == PL_ERR_NOTFOUND);
    CHECK(access(missing, F_OK) != 0); /* not created by a read */
    char copy[160];
    snprintf(copy, sizeof copy, "%s/copy.db", dir_);
    CHECK(pl_backup(db_, copy, &err) == PL_OK);
    CHECK(pl_class_list(copy, &c, &n, &err) == PL_OK && n == 2);
    free(c);
    cleanup();
}
