/* Tests for src/store/records: classes, rosters, sessions, class photos,
 * faces, marks and the audit log. */
#include <unistd.h>

#include "test.h"
#include "store/records.h"
#include "util/sha256.h"

static char dir_[64], path_[128];

static pl_store *fresh(void)
{
    snprintf(dir_, sizeof dir_, "/tmp/pl_records_XXXXXX");
    if (!mkdtemp(dir_)) abort();
    snprintf(path_, sizeof path_, "%s/r.db", dir_);
    pl_error err = {0};
    pl_store *s = pl_store_open(path_, PL_STORE_CREATE, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    return s;
}

static void done(pl_store *s)
{
    char p[160];
    pl_store_close(s);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path_, suffix[i]);
        unlink(p);
    }
    rmdir(dir_);
}

static int64_t student(pl_store *s, const char *name)
{
    pl_student st;
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "%s", name);
    int64_t id = -1;
    pl_store_student_add(s, &st, &id, NULL, NULL);
    return id;
}

static int count(pl_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(pl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return v;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

TEST(store_records_classes_and_rosters)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t math, art, again;
    int created, added;
    CHECK(pl_store_class_add(s, "Matemática 1°B", &math, &created, &err) == PL_OK && created);
    CHECK(pl_store_class_add(s, "Matemática 1°B", &again, &created, &err) == PL_OK && !created);
    CHECK_EQ_INT(again, math);
    CHECK(pl_store_class_add(s, "Arte", &art, NULL, &err) == PL_OK);
    CHECK(pl_store_class_add(s, "", &again, NULL, &err) == PL_ERR_ARG);

    int64_t zoe = student(s, "Zoé"), ana = student(s, "Ana");
    CHECK(pl_store_class_add_student(s, math, zoe, &added, &err) == PL_OK && added);
    CHECK(pl_store_class_add_student(s, math, ana, &added, &err) == PL_OK && added);
    CHECK(pl_store_class_add_student(s, math, ana, &added, &err) == PL_OK && !added);
    CHECK(pl_store_class_add_student(s, art, ana, &added, &err) == PL_OK && added);
    CHECK(pl_store_class_add_student(s, art, 999, &added, &err) == PL_ERR_DB);

    int64_t *ids;
    int n;
    CHECK(pl_store_class_roster(s, math, &ids, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(ids[0] == ana && ids[1] == zoe); /* by name */
    free(ids);

    pl_class_info info, *list;
    CHECK(pl_store_class_find(s, "Matemática 1°B", &info, &err) == PL_OK);
    CHECK_EQ_INT(info.n_students, 2);
    CHECK(pl_store_class_find(s, "Física", &info, &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "no class 'Física'");
    CHECK(pl_store_class_list(s, &list, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(list[0].name, "Arte");
    CHECK_EQ_INT(list[0].n_students, 1);
    free(list);
    done(s);
}

TEST(store_records_sessions_and_photos_are_idempotent)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t cls, s1, s2, s3, p1, p2, p3;
    int created;
    CHECK(pl_store_class_add(s, "Historia", &cls, NULL, &err) == PL_OK);
    CHECK(pl_store_session_get(s, cls, "2026-03-02", &s1, &created, &err) == PL_OK && created);
    CHECK(pl_store_session_get(s, cls, "2026-03-02", &s2, &created, &err) == PL_OK && !created);
    CHECK(pl_store_session_get(s, cls, "2026-03-03", &s3, &created, &err) == PL_OK && created);
    CHECK_EQ_INT(s1, s2);
    CHECK(s3 != s1);
    CHECK(pl_store_session_get(s, cls, "3/2/2026", &s2, NULL, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "not YYYY-MM-DD");

    char a[65], b[65];
    pl_sha256_hex("photo a", 7, a);
    pl_sha256_hex("photo b", 7, b);
    CHECK(pl_store_session_photo_add(s, s1, a, "IMG_1.jpg", 4000, 3000, &p1, &created, &err) == PL_OK && created);
    CHECK(pl_store_session_photo_add(s, s1, a, "copy.jpg", 4000, 3000, &p2, &created, &err) == PL_OK && !created);
    CHECK_EQ_INT(p1, p2);
    CHECK(pl_store_session_photo_add(s, s1, b, "IMG_2.jpg", 4000, 3000, &p3, &created, &err) == PL_OK && created);
    CHECK(pl_store_session_photo_add(s, s1, "xyz", "bad.jpg", 1, 1, &p3, &created, &err) == PL_ERR_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM session_photos"), 2);

    int64_t ana = student(s, "Ana"), face;
    pl_face_rec f = {.session_photo_id = p1, .x = 10, .y = 20, .w = 30, .h = 40,
                     .det_score = 0.99f, .model = "facenet", .student_id = ana,
                     .score = 0.8f, .status = "present", .crop = "JPEG", .crop_len = 4};
    CHECK(pl_store_face_add(s, &f, &face, &err) == PL_OK);
    f.student_id = 0;
    f.status = "unknown";
    CHECK(pl_store_face_add(s, &f, NULL, &err) == PL_OK);
    f.status = "maybe";
    CHECK(pl_store_face_add(s, &f, NULL, &err) == PL_ERR_ARG);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM faces WHERE student_id IS NULL"), 1);
    done(s);
}

TEST(store_records_auto_marks_only_go_up)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t cls, ses, ana = student(s, "Ana");
    int changed;
    CHECK(pl_store_class_add(s, "Química", &cls, NULL, &err) == PL_OK);
    CHECK(pl_store_session_get(s, cls, "2026-04-01", &ses, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_auto(s, ses, ana, "absent", NAN, 0, &changed, &err) == PL_OK && changed);
    CHECK(pl_store_mark_auto(s, ses, ana, "review", 0.41f, 0, &changed, &err) == PL_OK && changed);
    CHECK(pl_store_mark_auto(s, ses, ana, "present", 0.70f, 0, &changed, &err) == PL_OK && changed);
    /* A second photo where she is not found does not undo it. */
    CHECK(pl_store_mark_auto(s, ses, ana, "absent", NAN, 0, &changed, &err) == PL_OK && !changed);
    CHECK(pl_store_mark_auto(s, ses, ana, "review", 0.45f, 0, &changed, &err) == PL_OK && !changed);
    /* A clearer photo raises the score. */
    CHECK(pl_store_mark_auto(s, ses, ana, "present", 0.80f, 0, &changed, &err) == PL_OK && changed);
    CHECK(pl_store_mark_auto(s, ses, ana, "excused", 1, 0, &changed, &err) == PL_ERR_ARG);
    CHECK(pl_store_mark_auto(s, ses, 999, "present", 1, 0, &changed, &err) == PL_ERR_NOTFOUND);

    pl_mark *m;
    int n;
    CHECK(pl_store_marks_list(s, ses, &m, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(m[0].status, "present");
    CHECK_STR(m[0].source, "auto");
    CHECK_STR(m[0].student_name, "Ana");
    CHECK_NEAR(m[0].score, 0.80, 1e-6);
    free(m);
    done(s);
}

TEST(store_records_manual_marks_win_and_are_audited)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t cls, ses, ana = student(s, "Ana"), beto = student(s, "Beto");
    int changed;
    CHECK(pl_store_class_add(s, "Biología", &cls, NULL, &err) == PL_OK);
    CHECK(pl_store_session_get(s, cls, "2026-04-02", &ses, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_auto(s, ses, ana, "review", 0.42f, 0, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_manual(s, ses, ana, "excused", "prof.lopez", "médico", &err) == PL_OK);
    CHECK(pl_store_mark_auto(s, ses, ana, "present", 0.9f, 0, &changed, &err) == PL_OK && !changed);
    CHECK(pl_store_mark_manual(s, ses, beto, "present", "prof.lopez", NULL, &err) == PL_OK);
    CHECK(pl_store_mark_manual(s, ses, beto, "late", "prof.lopez", NULL, &err) == PL_ERR_ARG);
    CHECK(pl_store_mark_manual(s, ses, beto, "absent", "", NULL, &err) == PL_ERR_ARG);
    CHECK(pl_store_mark_manual(s, ses, 999, "absent", "x", NULL, &err) == PL_ERR_NOTFOUND);

    pl_mark *m;
    int n;
    CHECK(pl_store_marks_list(s, ses, &m, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(strcmp(m[0].status, "excused") == 0 && strcmp(m[0].source, "manual") == 0);
    CHECK_NEAR(m[0].score, 0.42, 1e-6); /* the matcher's score is kept for reference */
    CHECK(strcmp(m[1].status, "present") == 0 && isnan(m[1].score));
    free(m);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log"), 2);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE who = 'prof.lopez'"
                          " AND old_status = 'review' AND new_status = 'excused'"
                          " AND note = 'médico' AND student_name = 'Ana'"), 1);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE old_status IS NULL"), 1);
    done(s);
}

TEST(store_records_failed_take_changes_nothing)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t cls, ses, ana = student(s, "Ana"), ph;
    CHECK(pl_store_class_add(s, "Física", &cls, NULL, &err) == PL_OK);
    char sha[65];
    pl_sha256_hex("x", 1, sha);
    /* One "take" command: session, photo, mark, then a failure. */
    CHECK(pl_store_begin(s, &err) == PL_OK);
    CHECK(pl_store_session_get(s, cls, "2026-05-05", &ses, NULL, &err) == PL_OK);
    CHECK(pl_store_session_photo_add(s, ses, sha, "a.jpg", 1, 1, &ph, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_auto(s, ses, ana, "present", 0.9f, 0, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_auto(s, ses, ana, "bogus", 0.9f, 0, NULL, &err) == PL_ERR_ARG);
    pl_store_rollback(s);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM sessions"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM session_photos"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM marks"), 0);
    done(s);
}

TEST(store_records_forget_with_and_without_attendance)
{
    pl_store *s = fresh();
    CHECK(s);
    pl_error err = {0};
    int64_t cls, ses, ana = student(s, "Ana Olvido"), beto = student(s, "Beto Guardado");
    CHECK(pl_store_class_add(s, "Música", &cls, NULL, &err) == PL_OK);
    CHECK(pl_store_class_add_student(s, cls, ana, NULL, &err) == PL_OK);
    CHECK(pl_store_class_add_student(s, cls, beto, NULL, &err) == PL_OK);
    CHECK(pl_store_session_get(s, cls, "2026-06-01", &ses, NULL, &err) == PL_OK);
    CHECK(pl_store_mark_manual(s, ses, ana, "present", "t", NULL, &err) == PL_OK);
    CHECK(pl_store_mark_manual(s, ses, beto, "present", "t", NULL, &err) == PL_OK);
    CHECK(pl_store_student_delete(s, ana, 0, &err) == PL_OK);
    CHECK(pl_store_student_delete(s, beto, 1, &err) == PL_OK);
    CHECK(pl_store_vacuum(s, &err) == PL_OK);
    pl_mark *m;
    int n;
    CHECK(pl_store_marks_list(s, ses, &m, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(m[0].student_name, "Beto Guardado");
    CHECK_EQ_INT(m[0].student_id, 0);
    free(m);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM class_students"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE student_name = 'Ana Olvido'"), 0);
    CHECK_EQ_INT(count(s, "SELECT count(*) FROM audit_log WHERE student_name = 'Beto Guardado'"), 1);
    done(s);
}
