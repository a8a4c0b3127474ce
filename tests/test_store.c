/* Tests for src/store: opening, migrations, file mode, transactions, busy
 * handling between processes, the gallery and forgetting a student. Every
 * test works on its own database in a fresh temporary folder. */
#include <fcntl.h>
#include <time.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "store/schema.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/sha256.h"

static char tmp_dir_[64];

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh folder and the path of a database in it (not created). */
static const char *fresh_db(char *path, size_t size)
{
    snprintf(tmp_dir_, sizeof tmp_dir_, "/tmp/pl_store_XXXXXX");
    if (!mkdtemp(tmp_dir_)) abort();
    snprintf(path, size, "%s/class.db", tmp_dir_);
    return path;
}

static void remove_db(const char *path)
{
    char p[300];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    if (slash) { *slash = '\0'; rmdir(p); }
}

static int query_int(pl_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int v = -12345;
    if (sqlite3_prepare_v2(pl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return v;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static pl_student student_named(const char *name)
{
    pl_student st;
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "%s", name);
    return st;
}

/* A stand-in photo hash: the sha256 of a number. */
static void fake_sha(int k, char hex[65])
{
    pl_sha256_hex(&k, sizeof k, hex);
}

static int64_t add_photo(pl_store *s, int64_t sid, int k, pl_error *err)
{
    char sha[65];
    fake_sha(k, sha);
    pl_photo_rec p = {.student_id = sid, .path = "photos/x.jpg", .sha256 = sha,
                      .width = 640, .height = 480};
    int64_t id = -1;
    if (pl_store_photo_add(s, &p, &id, NULL, err)) return -1;
    return id;
}

TEST(store_create_open_migrate)
{
    char path[256];
    pl_error err = {0};
    fresh_db(path, sizeof path);
    CHECK(pl_store_open(path, 0, &err) == NULL);
    CHECK(err.code == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "class.db: no such database");

    pl_store *s = pl_store_open(path, PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), PL_STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(query_int(s, "PRAGMA application_id"), PL_STORE_APP_ID);
    CHECK_EQ_INT(query_int(s, "PRAGMA foreign_keys"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                              " AND name IN ('students', 'photos', 'embeddings', 'classes',"
                              " 'class_students', 'sessions', 'session_photos', 'faces',"
                              " 'marks', 'audit_log', 'settings')"), 11);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(pl_store_db(s), "PRAGMA journal_mode", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    int wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    CHECK(wal);
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Ana"}, &(int64_t){0}, NULL, &err) == PL_OK);
    pl_store_close(s);

    /* Reopening runs no migration again and keeps the data. */
    s = pl_store_open(path, 0, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM students"), 1);
    pl_store_close(s);
    s = pl_store_open(path, PL_STORE_READONLY, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_setting_set(s, "k", "v", &err) == PL_ERR_DB);
    pl_store_close(s);
    remove_db(path);
}

TEST(store_file_is_private)
{
    char path[256], wal[300];
    pl_error err = {0};
    fresh_db(path, sizeof path);
    mode_t old = umask(0); /* the 0600 must not depend on the caller's umask */
    pl_store *s = pl_store_open(path, PL_STORE_CREATE, &err);
    umask(old);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_setting_set(s, "a", "b", &err) == PL_OK);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0600);
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(stat(wal, &sb) == 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0600);
    pl_store_close(s);
    remove_db(path);
}

TEST(store_add_is_idempotent)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_student in = student_named("José Núñez");
    snprintf(in.code, sizeof in.code, "A-17");
    int64_t id1, id2;
    int created;
    CHECK(pl_store_student_add(s, &in, &id1, &created, &err) == PL_OK && created);
    CHECK(pl_store_student_add(s, &in, &id2, &created, &err) == PL_OK && !created);
    CHECK_EQ_INT(id1, id2);

    char sha[65];
    fake_sha(7, sha);
    pl_photo_rec p = {.student_id = id1, .path = "a/1.jpg", .sha256 = sha, .width = 10, .height = 20};
    int64_t p1, p2;
    CHECK(pl_store_photo_add(s, &p, &p1, &created, &err) == PL_OK && created);
    p.path = "b/renamed.jpg"; /* same bytes under another name: still the same photo */
    CHECK(pl_store_photo_add(s, &p, &p2, &created, &err) == PL_OK && !created);
    CHECK_EQ_INT(p1, p2);
    float v[4] = {1, 2, 3, 4};
    CHECK(pl_store_embedding_add(s, p1, "m", v, 4, 0.9f, &err) == PL_OK);
    CHECK(pl_store_embedding_add(s, p1, "m", v, 4, 0.9f, &err) == PL_OK);
    pl_store_counts c;
    CHECK(pl_store_count(s, "m", &c, &err) == PL_OK);
    CHECK(c.students == 1 && c.photos == 1 && c.embeddings == 1);

    pl_student got;
    CHECK(pl_store_student_find(s, "jose-nunez", &got, &err) == PL_OK);
    CHECK_STR(got.name, "José Núñez");
    CHECK_STR(got.code, "A-17");
    CHECK(got.created[0] == '2');
    CHECK(pl_store_student_find(s, "Nadie", &got, &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "no student 'Nadie'");
    pl_store_close(s);
    remove_db(path);
}

TEST(store_checks_its_input)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t sid, pid;
    CHECK(pl_store_student_add(s, &(pl_student){.name = ""}, &sid, NULL, &err) == PL_ERR_ARG);
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Eva"}, &sid, NULL, &err) == PL_OK);
    pl_photo_rec bad = {.student_id = sid, .path = "p.jpg", .sha256 = "ABC"};
    CHECK(pl_store_photo_add(s, &bad, &pid, NULL, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "p.jpg");
    /* A photo of a student that does not exist: the foreign key refuses. */
    CHECK(add_photo(s, sid + 100, 1, &err) == -1);
    CHECK_CONTAINS(err.msg, "FOREIGN KEY");
    pid = add_photo(s, sid, 1, &err);
    CHECK(pid > 0);
    float v[3] = {1, 2, 3}, nan3[3] = {1, NAN, 3};
    CHECK(pl_store_embedding_add(s, pid, "m", v, 3, 1, &err) == PL_OK);
    CHECK(pl_store_embedding_add(s, pid, "m", nan3, 3, 1, &err) == PL_ERR_ARG);
    int64_t pid2 = add_photo(s, sid, 2, &err);
    CHECK(pl_store_embedding_add(s, pid2, "m", v, 2, 1, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "model m has 3-value embeddings, got 2");
    /* Quotes in names are data, not SQL. */
    pl_student evil = student_named("Robert'); DROP TABLE students;--");
    CHECK(pl_store_student_add(s, &evil, &sid, NULL, &err) == PL_OK);
    pl_student got;
    CHECK(pl_store_student_find(s, evil.name, &got, &err) == PL_OK);
    CHECK_STR(got.name, evil.name);
    CHECK_STR(got.slug, "robert-drop-table-students");
    pl_store_close(s);
    remove_db(path);
}

TEST(store_slugs)
{
    char out[128];
    pl_store_slugify("José Núñez", out, sizeof out);
    CHECK_STR(out, "jose-nunez");
    pl_store_slugify("  Ana  María ", out, sizeof out);
    CHECK_STR(out, "ana-maria");
    pl_store_slugify("Łukasz Żółć-Ŝćœ", out, sizeof out);
    CHECK_STR(out, "lukasz-zolc-sco");
    pl_store_slugify("Straße Ærø", out, sizeof out);
    CHECK_STR(out, "strase-aro");
    pl_store_slugify("李小龍", out, sizeof out);
    CHECK_STR(out, "");
    pl_store_slugify("abcdef", out, 4);
    CHECK_STR(out, "abc");

    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t a, b, c;
    CHECK(pl_store_student_add(s, &(pl_student){.name = "José"}, &a, NULL, &err) == PL_OK);
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Jose"}, &b, NULL, &err) == PL_OK);
    CHECK(pl_store_student_add(s, &(pl_student){.name = "李小龍"}, &c, NULL, &err) == PL_OK);
    pl_student got;
    CHECK(pl_store_student_get(s, b, &got, &err) == PL_OK);
    CHECK_STR(got.slug, "jose-2");
    CHECK(pl_store_student_get(s, c, &got, &err) == PL_OK);
    CHECK_STR(got.slug, "student");
    pl_store_close(s);
    remove_db(path);
}

TEST(store_failed_transaction_changes_nothing)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t keep;
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Keep"}, &keep, NULL, &err) == PL_OK);

    /* One "enroll" command: a student, a photo, then a failure. */
    CHECK(pl_store_begin(s, &err) == PL_OK);
    int64_t sid;
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Temp"}, &sid, NULL, &err) == PL_OK);
    CHECK(add_photo(s, sid, 3, &err) > 0);
    CHECK(add_photo(s, 9999, 4, &err) == -1); /* fails: no such student */
    pl_store_rollback(s);
    CHECK(!pl_store_in_transaction(s));
    pl_store_counts c;
    CHECK(pl_store_count(s, NULL, &c, &err) == PL_OK);
    CHECK_EQ_INT(c.students, 1);
    CHECK_EQ_INT(c.photos, 0);

    /* Nesting: an inner rollback undoes only the inner work. */
    CHECK(pl_store_begin(s, &err) == PL_OK);
    CHECK(pl_store_setting_set(s, "outer", "1", &err) == PL_OK);
    CHECK(pl_store_begin(s, &err) == PL_OK);
    CHECK(pl_store_setting_set(s, "inner", "1", &err) == PL_OK);
    pl_store_rollback(s);
    CHECK(pl_store_commit(s, &err) == PL_OK);
    char buf[8];
    CHECK(pl_store_setting_get(s, "outer", buf, sizeof buf, &err) == PL_OK);
    CHECK(pl_store_setting_get(s, "inner", buf, sizeof buf, &err) == PL_ERR_NOTFOUND);
    CHECK(pl_store_commit(s, &err) == PL_ERR_INTERNAL);

    /* Closing with a transaction open rolls it back. */
    CHECK(pl_store_begin(s, &err) == PL_OK);
    CHECK(pl_store_setting_set(s, "lost", "1", &err) == PL_OK);
    pl_store_close(s);
    s = pl_store_open(path, 0, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_setting_get(s, "lost", buf, sizeof buf, &err) == PL_ERR_NOTFOUND);
    pl_store_close(s);
    remove_db(path);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *data = NULL;
    *len = 0;
    if (pl_read_file(path, (size_t)1 << 30, &data, len, NULL)) return NULL;
    return data;
}

TEST(store_refuses_newer_schema)
{
    char path[256], want[512];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_exec(s, "PRAGMA user_version = 7", &err) == PL_OK);
    pl_store_close(s);
    size_t n1, n2;
    uint8_t *before = slurp(path, &n1);
    CHECK(before);
    s = pl_store_open(path, 0, &err);
    uint8_t *after = slurp(path, &n2);
    int same = after && n1 == n2 && memcmp(before, after, n1) == 0;
    free(before);
    free(after);
    CHECK(s == NULL);
    CHECK(err.code == PL_ERR_DB);
    snprintf(want, sizeof want,
             "%s: created by a newer pasalista (schema 7; this version knows up to %d)",
             path, PL_STORE_SCHEMA_VERSION);
    CHECK_STR(err.msg, want);
    CHECK(same);
    remove_db(path);
}

TEST(store_refuses_other_files)
{
    char path[256];
    pl_error err = {0};
    fresh_db(path, sizeof path);
    CHECK(pl_write_file_atomic(path, "hello, this is not sqlite at all, no no no no no "
                               "no no no no no no no no no no no no no no no no no", 100,
                               &err) == PL_OK);
    CHECK(pl_store_open(path, 0, &err) == NULL);
    CHECK(err.code == PL_ERR_DB);
    CHECK_CONTAINS(err.msg, "class.db: not a pasalista database");
    unlink(path);

    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(pl_store_open(path, 0, &err) == NULL);
    CHECK_CONTAINS(err.msg, "not a pasalista database");
    remove_db(path);
}

TEST(store_failed_migration_rolls_back)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    const char *steps[] = {pl_store_migrations[0],
                           "CREATE TABLE added_by_v2(x); ALTER TABLE nope ADD y"};
    CHECK(pl_store_migrate_steps(pl_store_db(s), path, steps, 2, 1000, &err) == PL_ERR_DB);
    CHECK_CONTAINS(err.msg, "upgrading the schema from 1 to 2");
    CHECK_CONTAINS(err.msg, "nope");
    CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'added_by_v2'"), 0);
    const char *good[] = {pl_store_migrations[0], "CREATE TABLE added_by_v2(x)"};
    CHECK(pl_store_migrate_steps(pl_store_db(s), path, good, 2, 1000, &err) == PL_OK);
    CHECK_EQ_INT(query_int(s, "PRAGMA user_version"), 2);
    pl_store_close(s);
    /* This version now sees a newer file. */
    CHECK(pl_store_open(path, 0, &err) == NULL);
    CHECK_CONTAINS(err.msg, "schema 2; this version knows up to 1");
    remove_db(path);
}

/* ---- two processes ----------------------------------------------------------- */

enum { WRITERS = 3, ROUNDS = 40 };

/* One writer process: ROUNDS commands, each a transaction that adds a
 * student, a photo and an embedding, holding the lock a moment. */
static int writer(const char *path, int who, int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) != 1) return 10;
    pl_error err = {0};
    pl_store *s = pl_store_open(path, PL_STORE_CREATE, &err);
    if (!s) { fprintf(stderr, "writer %d: %s\n", who, err.msg); return 11; }
    for (int i = 0; i < ROUNDS; i++) {
        char name[64];
        snprintf(name, sizeof name, "Writer %d student %d", who, i);
        pl_student st = student_named(name);
        int64_t sid, pid;
        float v[8] = {(float)who, (float)i, 1, 2, 3, 4, 5, 6};
        pl_status rc = pl_store_begin(s, &err);
        if (!rc) rc = pl_store_student_add(s, &st, &sid, NULL, &err);
        if (!rc) { pid = add_photo(s, sid, who * 1000 + i, &err); rc = pid > 0 ? PL_OK : PL_ERR_DB; }
        if (!rc) rc = pl_store_embedding_add(s, pid, "m", v, 8, 1, &err);
        if (!rc) usleep(500);
        if (!rc) rc = pl_store_commit(s, &err);
        if (rc) {
            fprintf(stderr, "writer %d round %d: %s\n", who, i, err.msg);
            pl_store_rollback(s);
            pl_store_close(s);
            return 12;
        }
    }
    pl_store_close(s);
    return 0;
}

TEST(store_two_processes_write_at_once)
{
    char path[256];
    fresh_db(path, sizeof path); /* not created: the writers race to create it */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        CHECK(pids[w] >= 0);
        if (pids[w] == 0) {
            close(fds[1]);
            _exit(writer(path, w, fds[0]));
        }
    }
    close(fds[0]);
    char go[WRITERS] = {0};
    CHECK(write(fds[1], go, WRITERS) == WRITERS); /* start them together */
    close(fds[1]);
    int failures = 0;
    for (int w = 0; w < WRITERS; w++) {
        int status = 0;
        waitpid(pids[w], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
    }
    CHECK_EQ_INT(failures, 0);
    pl_error err = {0};
    pl_store *s = pl_store_open(path, 0, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_store_counts c;
    CHECK(pl_store_count(s, "m", &c, &err) == PL_OK);
    pl_store_close(s);
    CHECK_EQ_INT(c.students, WRITERS * ROUNDS);
    CHECK_EQ_INT(c.embeddings, WRITERS * ROUNDS);
    remove_db(path);
}

/* ---- the gallery -------------------------------------------------------------- */

static unsigned seed_ = 99;
static float rndf(void)
{
    seed_ = seed_ * 1664525u + 1013904223u;
    return (float)((int)(seed_ >> 9) - (1 << 22)) / (float)(1 << 22);
}

TEST(store_gallery_round_trip)
{
    enum { D = 128 };
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    /* Added out of name order; the gallery comes back sorted by name. */
    const char *names[3] = {"Zoe Ávila", "Ana Pérez", "Martín Ñúñez"};
    const int photos[3] = {2, 3, 1};
    static float vec[6][D];
    int64_t sid[3];
    int k = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(pl_store_student_add(s, &(pl_student){0}, &sid[i], NULL, &err) == PL_ERR_ARG);
        pl_student st = student_named(names[i]);
        CHECK(pl_store_student_add(s, &st, &sid[i], NULL, &err) == PL_OK);
        for (int p = 0; p < photos[i]; p++, k++) {
            int64_t pid = add_photo(s, sid[i], 100 + k, &err);
            CHECK(pid > 0);
            for (int d = 0; d < D; d++) vec[k][d] = rndf() * (float)(k + 1);
            CHECK(pl_store_embedding_add(s, pid, "facenet", vec[k], D, 0.5f, &err) == PL_OK);
            float other[4] = {1, 1, 1, 1};
            CHECK(pl_store_embedding_add(s, pid, "other", other, 4, 0, &err) == PL_OK);
        }
    }
    /* A refused photo is not in the gallery even with a vector. */
    char sha[65];
    fake_sha(555, sha);
    pl_photo_rec rej = {.student_id = sid[1], .path = "bad.jpg", .sha256 = sha,
                        .rejected = 1, .reason = "2 faces"};
    int64_t rid;
    CHECK(pl_store_photo_add(s, &rej, &rid, NULL, &err) == PL_OK);
    CHECK(pl_store_embedding_add(s, rid, "facenet", vec[0], D, 0, &err) == PL_OK);

    pl_gallery g;
    CHECK(pl_store_gallery_load(s, "facenet", &g, &err) == PL_OK);
    CHECK_EQ_INT(g.dim, D);
    CHECK_EQ_INT(g.n_rows, 6);
    CHECK_EQ_INT(g.n_students, 3);
    CHECK_STR(g.student_name[0], "Ana Pérez");
    CHECK_STR(g.student_name[1], "Martín Ñúñez");
    CHECK_STR(g.student_name[2], "Zoe Ávila");
    CHECK_EQ_INT(g.student_id[0], sid[1]);
    CHECK_EQ_INT(g.student_rows[0], 3);
    /* Rows: Ana's vec[2..4], Martín's vec[5], Zoe's vec[0..1], bytes as given. */
    const int order[6] = {2, 3, 4, 5, 0, 1};
    const int owner[6] = {0, 0, 0, 1, 2, 2};
    for (int r = 0; r < 6; r++) {
        CHECK(memcmp(g.rows + (size_t)r * D, vec[order[r]], sizeof vec[0]) == 0);
        CHECK_EQ_INT(g.row_student[r], owner[r]);
    }
    /* Means: unit length, and the normalised average of normalised rows. */
    for (int i = 0; i < 3; i++) {
        double acc[D] = {0}, n2 = 0;
        for (int r = 0; r < 6; r++) {
            if (owner[r] != i) continue;
            double rn = 0;
            for (int d = 0; d < D; d++) rn += (double)vec[order[r]][d] * vec[order[r]][d];
            for (int d = 0; d < D; d++) acc[d] += vec[order[r]][d] / sqrt(rn);
        }
        for (int d = 0; d < D; d++) n2 += acc[d] * acc[d];
        double mn = 0;
        for (int d = 0; d < D; d++) {
            CHECK_NEAR(g.means[i * D + d], acc[d] / sqrt(n2), 1e-6);
            mn += (double)g.means[i * D + d] * g.means[i * D + d];
        }
        CHECK_NEAR(mn, 1.0, 1e-5);
    }
    pl_gallery_free(&g);

    CHECK(pl_store_gallery_load(s, "nobody-uses-this", &g, &err) == PL_OK);
    CHECK_EQ_INT(g.n_rows, 0);
    CHECK_EQ_INT(g.n_students, 0);
    pl_gallery_free(&g);
    pl_store_counts c;
    CHECK(pl_store_count(s, "facenet", &c, &err) == PL_OK);
    CHECK(c.students == 3 && c.photos == 6 && c.photos_rejected == 1 && c.embeddings == 7);
    pl_store_close(s);
    remove_db(path);
}

TEST(store_settings)
{
    char path[256], buf[64];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_setting_get(s, "threshold.facenet.accept", buf, sizeof buf, &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "threshold.facenet.accept");
    CHECK_NEAR(pl_store_setting_double(s, "threshold.facenet.accept", 0.42), 0.42, 0);
    CHECK(pl_store_setting_set_double(s, "threshold.facenet.accept", 0.6180339f, &err) == PL_OK);
    CHECK(pl_store_setting_set_double(s, "threshold.facenet.accept", 0.5773503f, &err) == PL_OK);
    CHECK((float)pl_store_setting_double(s, "threshold.facenet.accept", 0) == 0.5773503f);
    pl_store_close(s);
    remove_db(path);
}

/* ---- forgetting ------------------------------------------------------------------ */

/* Does the file (and its WAL) contain these bytes anywhere? */
static int file_has(const char *path, const void *needle, size_t n)
{
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    const char *files[2] = {path, wal};
    int found = 0;
    for (int f = 0; f < 2; f++) {
        size_t len;
        uint8_t *data = slurp(files[f], &len);
        if (data && memmem(data, len, needle, n)) found = 1;
        free(data);
    }
    return found;
}

/* A student with photos, a crop, an embedding, a class, a session, a face,
 * a mark and an audit row; returns the student's id. */
static int64_t add_full_student(pl_store *s, const char *name, const float *vec,
                                int dim, const char *crop, pl_error *err)
{
    int64_t sid = -1;
    if (pl_store_student_add(s, &(pl_student){0}, &sid, NULL, err) != PL_ERR_ARG) return -1;
    pl_student st = student_named(name);
    if (pl_store_student_add(s, &st, &sid, NULL, err)) return -1;
    char sha[65];
    fake_sha((int)sid * 31, sha);
    pl_photo_rec p = {.student_id = sid, .path = "p.jpg", .sha256 = sha,
                      .crop = crop, .crop_len = strlen(crop)};
    int64_t pid;
    if (pl_store_photo_add(s, &p, &pid, NULL, err)) return -1;
    if (pl_store_embedding_add(s, pid, "facenet", vec, dim, 1, err)) return -1;
    sqlite3 *db = pl_store_db(s);
    sqlite3_stmt *q;
    const char *sql =
        "INSERT OR IGNORE INTO classes(id, name) VALUES (1, 'Math');"
        "INSERT OR IGNORE INTO sessions(id, class_id, date) VALUES (1, 1, '2026-03-02');"
        "INSERT OR IGNORE INTO session_photos(id, session_id, sha256, path) VALUES"
        " (1, 1, '" "0000000000000000000000000000000000000000000000000000000000000000', 'c.jpg');";
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return -1;
    const char *per_student[] = {
        "INSERT INTO class_students(class_id, student_id) VALUES (1, ?1)",
        "INSERT INTO faces(session_photo_id, x, y, w, h, model, student_id, score,"
        " status, crop) VALUES (1, 1, 2, 3, 4, 'facenet', ?1, 0.9, 'present', ?3)",
        "INSERT INTO marks(session_id, student_id, student_name, status) VALUES (1, ?1, ?2, 'present')",
        "INSERT INTO audit_log(who, session_id, student_id, student_name, old_status,"
        " new_status, note) VALUES ('teacher', 1, ?1, ?2, 'absent', 'present', 'late')"};
    for (int i = 0; i < 4; i++) {
        if (sqlite3_prepare_v2(db, per_student[i], -1, &q, NULL) != SQLITE_OK) return -1;
        sqlite3_bind_int64(q, 1, sid);
        if (sqlite3_bind_parameter_count(q) >= 2) sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(q) >= 3) sqlite3_bind_blob(q, 3, crop, (int)strlen(crop), SQLITE_STATIC);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) return -1;
    }
    return sid;
}

TEST(store_forget_leaves_no_trace)
{
    enum { D = 16 };
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    float gone[D], kept[D];
    for (int d = 0; d < D; d++) {
        gone[d] = 1000.0f + (float)d * 0.123f + rndf();
        kept[d] = -500.0f - (float)d;
    }
    const char *gone_name = "Zacarías Olvidado Quispe";
    int64_t g_id = add_full_student(s, gone_name, gone, D, "CROP-OF-ZACARIAS-JPEG", &err);
    int64_t k_id = add_full_student(s, "Inés Presente", kept, D, "CROP-OF-INES-JPEG", &err);
    CHECK_MSG(g_id > 0 && k_id > 0, "%s", err.msg);
    pl_store_close(s); /* checkpoint: everything is in the main file now */
    CHECK(file_has(path, gone_name, strlen(gone_name)));
    CHECK(file_has(path, gone, sizeof gone));

    s = pl_store_open(path, 0, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK(pl_store_student_delete(s, g_id, 0, &err) == PL_OK);
    CHECK(pl_store_vacuum(s, &err) == PL_OK);
    CHECK(!file_has(path, gone_name, strlen(gone_name)));
    CHECK(!file_has(path, gone, sizeof gone));
    CHECK(!file_has(path, "CROP-OF-ZACARIAS", 16));
    CHECK(file_has(path, "Inés Presente", strlen("Inés Presente")));
    CHECK(file_has(path, kept, sizeof kept));
    CHECK(file_has(path, "CROP-OF-INES", 12));
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM marks"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM audit_log"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM faces"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM class_students"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM embeddings"), 1);
    CHECK(pl_store_student_delete(s, g_id, 0, &err) == PL_ERR_NOTFOUND);

    /* --keep-attendance: the mark stays, under the name copy only. */
    CHECK(pl_store_student_delete(s, k_id, 1, &err) == PL_OK);
    CHECK(pl_store_vacuum(s, &err) == PL_OK);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM marks WHERE student_id IS NULL"
                              " AND student_name = 'Inés Presente'"), 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM students"), 0);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM faces"), 0);
    CHECK(!file_has(path, kept, sizeof kept));
    CHECK(!file_has(path, "CROP-OF-INES", 12));
    CHECK(pl_store_begin(s, &err) == PL_OK);
    CHECK(pl_store_vacuum(s, &err) == PL_ERR_INTERNAL);
    pl_store_rollback(s);
    pl_store_close(s);
    remove_db(path);
}


/* Child: try one write with the given patience; exit 0 if it committed,
 * 1 if it was refused as busy with the right message, 2 otherwise. Writes
 * how long it waited (ms) to fd. */
static int patient_writer(const char *path, int busy_ms, int fd)
{
    pl_error err = {0};
    pl_store *s = pl_store_open(path, 0, &err);
    if (!s) return 2;
    pl_store_set_busy_ms(s, busy_ms);
    long long t0 = ms_now();
    pl_status rc = pl_store_begin(s, &err);
    if (!rc) rc = pl_store_setting_set(s, "child", "1", &err);
    if (!rc) rc = pl_store_commit(s, &err);
    long long waited = ms_now() - t0;
    if (write(fd, &waited, sizeof waited) != sizeof waited) rc = PL_ERR_IO;
    pl_store_close(s);
    if (!rc) return 0;
    return strstr(err.msg, "stayed busy") && strstr(err.msg, "class.db") ? 1 : 2;
}

/* The child is forked before the parent opens the database: a SQLite
 * connection must never cross a fork. */
static int run_child_against_lock(const char *path, int busy_ms, int hold_ms,
                                  long long *waited)
{
    int go[2], res[2];
    if (pipe(go) || pipe(res)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        close(res[0]);
        if (read(go[0], &c, 1) != 1) _exit(3);
        _exit(patient_writer(path, busy_ms, res[1]));
    }
    close(go[0]);
    close(res[1]);
    pl_error err = {0};
    pl_store *s = pl_store_open(path, 0, &err);
    int ok = s && pl_store_begin(s, &err) == PL_OK;
    if (write(go[1], "g", 1) != 1) ok = 0;
    close(go[1]);
    usleep((useconds_t)hold_ms * 1000);
    if (s && pl_store_commit(s, &err)) ok = 0;
    pl_store_close(s);
    int status = 0;
    waitpid(pid, &status, 0);
    if (read(res[0], waited, sizeof *waited) != sizeof *waited) *waited = -1;
    close(res[0]);
    if (!ok) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(store_writer_waits_for_the_lock)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_store_close(s);
    long long waited = 0;
    /* Patient enough: it waits for the other command and then succeeds. */
    CHECK_EQ_INT(run_child_against_lock(path, 5000, 300, &waited), 0);
    CHECK_MSG(waited >= 200, "waited only %lld ms", waited);
    /* Not patient enough: a clear "busy" error, nothing written. */
    CHECK_EQ_INT(run_child_against_lock(path, 100, 600, &waited), 1);
    CHECK_MSG(waited >= 90 && waited < 550, "waited %lld ms", waited);
    remove_db(path);
}

TEST(store_thresholds)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    float a, r;
    pl_store_thresholds_get(s, "facenet", &a, &r, 0.7f, 0.5f);
    CHECK(a == 0.7f && r == 0.5f);
    CHECK(pl_store_thresholds_set(s, "facenet", 0.61f, 0.47f, &err) == PL_OK);
    CHECK(pl_store_thresholds_set(s, "facenet", 0.4f, 0.5f, &err) == PL_ERR_ARG);
    pl_store_thresholds_get(s, "facenet", &a, &r, 0.7f, 0.5f);
    CHECK(a == 0.61f && r == 0.47f);
    CHECK((float)pl_store_setting_double(s, "threshold.accept.facenet", 0) == 0.61f);
    pl_store_thresholds_get(s, "arcface", &a, &r, 0.3f, 0.2f);
    CHECK(a == 0.3f && r == 0.2f);
    pl_store_close(s);
    remove_db(path);
}

TEST(store_backup_while_writing)
{
    char path[256], copy[300];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_store_close(s);
    snprintf(copy, sizeof copy, "%s/backup.db", tmp_dir_);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        _exit(writer(path, 7, fds[0]));
    }
    close(fds[0]);
    CHECK(write(fds[1], "g", 1) == 1);
    close(fds[1]);
    s = pl_store_open(path, 0, &err);
    CHECK_MSG(s, "%s", err.msg);
    for (int i = 0; i < 5000 && query_int(s, "SELECT count(*) FROM students") < 5; i++)
        usleep(1000); /* back up in the middle of the writer's run */
    pl_status rc = pl_store_backup(s, copy, &err);
    pl_store_close(s);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(rc == PL_OK, "%s", err.msg);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct stat sb;
    CHECK(stat(copy, &sb) == 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0600);
    /* The copy is one consistent moment: every student has their vector. */
    pl_store *b = pl_store_open(copy, 0, &err);
    CHECK_MSG(b, "%s", err.msg);
    pl_store_counts c;
    CHECK(pl_store_count(b, "m", &c, &err) == PL_OK);
    pl_store_close(b);
    CHECK_EQ_INT(c.students, c.embeddings);
    CHECK(c.students <= ROUNDS);
    if (getenv("PL_TEST_VERBOSE")) fprintf(stderr, "    backup saw %d of %d rounds\n", c.students, ROUNDS);
    CHECK(pl_store_backup(s = pl_store_open(path, 0, &err), "/nonexistent/dir/x.db", &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "/nonexistent/dir/x.db");
    pl_store_close(s);
    remove_db(copy);
    remove_db(path);
}

TEST(store_consent_and_photo_list)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t sid;
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Lucía"}, &sid, NULL, &err) == PL_OK);
    pl_student got;
    CHECK(pl_store_student_get(s, sid, &got, &err) == PL_OK);
    CHECK(got.consent == 0 && got.consent_date[0] == '\0');
    CHECK(pl_store_student_set_consent(s, sid, 1, "2026-02-27", &err) == PL_OK);
    CHECK(pl_store_student_get(s, sid, &got, &err) == PL_OK);
    CHECK(got.consent == 1);
    CHECK_STR(got.consent_date, "2026-02-27");
    CHECK(pl_store_student_set_consent(s, sid + 50, 1, NULL, &err) == PL_ERR_NOTFOUND);

    char sha[65];
    fake_sha(1, sha);
    pl_photo_rec ok = {.student_id = sid, .path = "lucia/1.jpg", .sha256 = sha,
                       .width = 800, .height = 600, .crop = "J", .crop_len = 1};
    int64_t p1, p2;
    CHECK(pl_store_photo_add(s, &ok, &p1, NULL, &err) == PL_OK);
    float v[2] = {1, 0};
    CHECK(pl_store_embedding_add(s, p1, "a", v, 2, 1, &err) == PL_OK);
    CHECK(pl_store_embedding_add(s, p1, "b", v, 2, 1, &err) == PL_OK);
    fake_sha(2, sha);
    pl_photo_rec bad = {.student_id = sid, .path = "lucia/2.jpg", .sha256 = sha,
                        .rejected = 1, .reason = "no face"};
    CHECK(pl_store_photo_add(s, &bad, &p2, NULL, &err) == PL_OK);
    pl_photo_info *ph;
    int n;
    CHECK(pl_store_photo_list(s, sid, &ph, &n, &err) == PL_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(ph[0].path, "lucia/1.jpg");
    CHECK(ph[0].width == 800 && ph[0].has_crop && ph[0].n_embeddings == 2 && !ph[0].rejected);
    CHECK(ph[1].rejected && !ph[1].has_crop && ph[1].n_embeddings == 0);
    CHECK_STR(ph[1].reason, "no face");
    CHECK_STR(ph[1].sha256, sha);
    free(ph);
    pl_store_close(s);
    remove_db(path);
}

/* A large school in one command, then the gallery read: prints the times
 * (for the record; the check only guards against something pathological). */
TEST(store_gallery_at_scale)
{
    enum { PHOTOS = 5, D = 512 };
    const int STUDENTS = getenv("PASALISTA_ASAN") ? 200 : 1000; /* ASan is slow */
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    static float v[D];
    long long t0 = ms_now();
    CHECK(pl_store_begin(s, &err) == PL_OK);
    for (int i = 0; i < STUDENTS; i++) {
        char name[64];
        snprintf(name, sizeof name, "Student %04d", i);
        int64_t sid;
        CHECK(pl_store_student_add(s, &(pl_student){0}, &sid, NULL, &err) == PL_ERR_ARG);
        pl_student st = student_named(name);
        CHECK(pl_store_student_add(s, &st, &sid, NULL, &err) == PL_OK);
        for (int p = 0; p < PHOTOS; p++) {
            int64_t pid = add_photo(s, sid, i * PHOTOS + p, &err);
            CHECK(pid > 0);
            for (int d = 0; d < D; d++) v[d] = rndf();
            CHECK(pl_store_embedding_add(s, pid, "m", v, D, 1, &err) == PL_OK);
        }
    }
    CHECK(pl_store_commit(s, &err) == PL_OK);
    long long t1 = ms_now();
    pl_gallery g;
    CHECK(pl_store_gallery_load(s, "m", &g, &err) == PL_OK);
    long long t2 = ms_now();
    CHECK_EQ_INT(g.n_rows, STUDENTS * PHOTOS);
    CHECK_EQ_INT(g.n_students, STUDENTS);
    pl_gallery_free(&g);
    fprintf(stderr, "    %d students x %d photos x %d-d: enroll %lld ms, gallery load %lld ms\n",
            STUDENTS, PHOTOS, D, t1 - t0, t2 - t1);
    CHECK(t2 - t1 < 5000);
    pl_store_close(s);
    remove_db(path);
}

TEST(store_gallery_refuses_tampered_vectors)
{
    char path[256];
    pl_error err = {0};
    pl_store *s = pl_store_open(fresh_db(path, sizeof path), PL_STORE_CREATE, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t sid;
    CHECK(pl_store_student_add(s, &(pl_student){.name = "Ana"}, &sid, NULL, &err) == PL_OK);
    int64_t pid = add_photo(s, sid, 1, &err);
    float v[4] = {1, 2, 3, 4};
    CHECK(pl_store_embedding_add(s, pid, "m", v, 4, 1, &err) == PL_OK);
    /* Somebody else's program, with the schema's CHECKs switched off. */
    const char *tamper[] = {"UPDATE embeddings SET dim = 1073741824",
                            "UPDATE embeddings SET dim = -1",
                            "UPDATE embeddings SET dim = 4, vector = x'0011'"};
    CHECK(pl_store_exec(s, "PRAGMA ignore_check_constraints = ON", &err) == PL_OK);
    for (int i = 0; i < 3; i++) {
        CHECK(pl_store_exec(s, tamper[i], &err) == PL_OK);
        pl_gallery g;
        CHECK(pl_store_gallery_load(s, "m", &g, &err) == PL_ERR_FORMAT);
        CHECK_CONTAINS(err.msg, "gallery m: photo");
        CHECK(g.rows == NULL && g.n_rows == 0);
    }
    pl_store_close(s);
    remove_db(path);
}
