/* The enroll / take / identify / export commands as a user runs them, on
 * photos of ../shared/faces copied into a temporary folder at run time,
 * plus bad input made by the test: an empty file, a truncated JPEG, a text
 * file named .jpg, a photo with no face, a student with no usable photo, a
 * path that does not exist, and a kill -9 in the middle of an enrollment. */
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "cli_run.h"
#include "test.h"

static char tmp[256];


static int count(const char *db, const char *sql)
{
    sqlite3 *h;
    int n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return n;
}

static void setup(void)
{
    char faces[512];
    snprintf(faces, sizeof faces, "%s/faces/identities", test_shared_dir());
    if (access(faces, R_OK) != 0) SKIP("%s not present", faces);
    if (tmp[0]) return;
    snprintf(tmp, sizeof tmp, "/tmp/pl_test_cli_%d", (int)getpid());
    CHECK(run("rm -rf %s && mkdir -p '%s/good/Ana María Pérez' '%s/good/Jim' %s/bad/Bob %s/bad/Carla", tmp, tmp,
              tmp, tmp, tmp) == 0);
    CHECK(run("cp %s/angelina_jolie/1.jpg %s/angelina_jolie/2.jpg '%s/good/Ana María Pérez/'", faces, faces,
              tmp) == 0);
    CHECK(run("cp %s/jim_parsons/1.jpg %s/jim_parsons/2.jpg %s/good/Jim/", faces, faces, tmp) == 0);
    /* Bob: an empty file, a truncated JPEG and a text file named .jpg. */
    CHECK(run(": > %s/bad/Bob/1.jpg && head -c 3000 %s/jim_parsons/3.jpg > %s/bad/Bob/2.jpg && "
              "echo 'not a photo' > %s/bad/Bob/3.jpg",
              tmp, faces, tmp, tmp) == 0);
    /* Carla: a real JPEG with no face in it (a flat grey picture). */
    pl_image grey = {0};
    CHECK(pl_image_new(320, 240, 3, &grey, NULL) == PL_OK);
    memset(grey.px, 128, (size_t)320 * 240 * 3);
    char path[600];
    snprintf(path, sizeof path, "%s/bad/Carla/1.jpg", tmp);
    CHECK(pl_image_save_jpeg(path, &grey, 90, NULL) == PL_OK);
    pl_image_free(&grey);
}

TEST(enroll_reports_every_bad_photo_and_keeps_the_good_ones)
{
    setup();
    int rc = run("%s enroll %s/good --db %s/a.db --quiet", cli(), tmp, tmp);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, out);
    CHECK_CONTAINS(out, "2 students: 2 enrolled");
    char db[512];
    snprintf(db, sizeof db, "%s/a.db", tmp);
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students"), 2);
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students WHERE name = 'Ana María Pérez'"), 1);
    struct stat st;
    CHECK(stat(db, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);

    rc = run("%s enroll %s/bad --db %s/a.db --quiet", cli(), tmp, tmp);
    CHECK_EQ_INT(rc, 1);
    CHECK_CONTAINS(out, "bad/Bob/1.jpg");
    CHECK_CONTAINS(out, "empty");
    CHECK_CONTAINS(out, "bad/Bob/2.jpg");
    CHECK_CONTAINS(out, "truncated");
    CHECK_CONTAINS(out, "bad/Bob/3.jpg");
    CHECK_CONTAINS(out, "not an image");
    CHECK_CONTAINS(out, "bad/Carla/1.jpg");
    CHECK_CONTAINS(out, "no face");
    CHECK_CONTAINS(out, "2 with no usable photo");
    /* A failed enrollment changes nothing: still the same two students. */
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students"), 2);

    /* Idempotent: the good folder again adds nothing. */
    rc = run("%s enroll %s/good --db %s/a.db --quiet", cli(), tmp, tmp);
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(out, "0 added, 4 already enrolled");
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM embeddings"), 4);
}

TEST(missing_source_is_a_clear_error)
{
    setup();
    int rc = run("%s enroll %s/does-not-exist --db %s/a.db", cli(), tmp, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_CONTAINS(out, "does-not-exist");
    CHECK_CONTAINS(out, "no such folder");
}

TEST(take_processes_the_good_photos_and_names_the_bad_ones)
{
    setup();
    int rc = run("%s take %s/faces/groups/bbt1.jpg %s/nope.jpg %s/bad/Bob/3.jpg --db %s/a.db --out %s/out --json",
                 cli(), test_shared_dir(), tmp, tmp, tmp, tmp);
    CHECK_EQ_INT(rc, 1);
    CHECK_CONTAINS(out, "nope.jpg");
    CHECK_CONTAINS(out, "bad/Bob/3.jpg: not an image");
    CHECK_CONTAINS(out, "\"present\":[{\"student\":\"Jim\"");
    CHECK_CONTAINS(out, "\"absent\":[\"Ana María Pérez\"]");
    char path[600];
    snprintf(path, sizeof path, "%s/out/contact-sheet.jpg", tmp);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/out/001-bbt1.annotated.jpg", tmp);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/out/attendance.csv", tmp);
    CHECK(access(path, R_OK) == 0);
}

TEST(identify_marks_right_and_wrong_by_folder)
{
    setup();
    int rc = run("%s identify %s/good --db %s/a.db --grid %s/grid.jpg", cli(), tmp, tmp, tmp);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, out);
    CHECK_CONTAINS(out, "4 of 4 right");
}

TEST(export_npz_lists_names_and_vectors)
{
    setup();
    int rc = run("%s export --npz %s/g.npz --db %s/a.db", cli(), tmp, tmp);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, out);
    if (access("/usr/bin/python3", X_OK) != 0) SKIP("no python3 to read the .npz back");
    rc = run("/usr/bin/python3 -c \"import numpy as n; z=n.load('%s/g.npz'); k=[f for f in z.files if "
             "f.endswith('.embeddings')][0]; print(z[k].shape, sorted(set(z[k[:-10]+'names'])))\"",
             tmp);
    if (rc != 0 && strstr(out, "No module named")) SKIP("python3-numpy not installed");
    CHECK_MSG(rc == 0, "%s", out);
    CHECK_CONTAINS(out, "(4, ");
    CHECK_CONTAINS(out, "'Ana María Pérez', 'Jim'");
}

TEST(kill_9_during_enroll_loses_nothing_committed)
{
    setup();
    char db[512], faces[512];
    snprintf(db, sizeof db, "%s/k.db", tmp);
    snprintf(faces, sizeof faces, "%s/faces/identities", test_shared_dir());
    CHECK(run("%s enroll %s/good --db %s --quiet", cli(), tmp, db) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execl(cli(), cli(), "enroll", faces, "--db", db, "--quiet", (char *)NULL);
        _exit(127);
    }
    usleep(getenv("PASALISTA_ASAN") ? 8000000 : 4000000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students WHERE name IN ('Jim', 'Ana María Pérez')"), 2);
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students s WHERE NOT EXISTS "
                           "(SELECT 1 FROM photos p JOIN embeddings e ON e.photo_id = p.id WHERE p.student_id = s.id)"),
                 0);
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    sqlite3_stmt *q;
    CHECK(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(h);
}

TEST(enroll_reads_the_roster_import_layout)
{
    setup();
    char faces[512], db[512];
    snprintf(faces, sizeof faces, "%s/faces/identities", test_shared_dir());
    snprintf(db, sizeof db, "%s/r.db", tmp);
    /* As `roster import` writes it: ASCII folders, full names in roster.csv. */
    CHECK(run("mkdir -p %s/imported/Maria_Jose_Nunez %s/imported/Nadie && cp %s/lisa_kudrow/1.jpg "
              "%s/imported/Maria_Jose_Nunez/1.jpg && printf 'folder,name,student_id,email,gender,photos\n"
              "Maria_Jose_Nunez,María José Núñez,A-17,mj@example.org,F,1\nNadie,Nadie Sinfoto,A-18,,,0\n' "
              "> %s/imported/roster.csv",
              tmp, tmp, faces, tmp, tmp) == 0);
    int rc = run("%s enroll %s/imported --db %s --quiet", cli(), tmp, db);
    CHECK_EQ_INT(rc, 1); /* Nadie has no photo */
    CHECK_CONTAINS(out, "Nadie Sinfoto");
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students WHERE name = 'María José Núñez' AND student_code = 'A-17'"),
                 1);
    CHECK_EQ_INT(count(db, "SELECT count(*) FROM students"), 1);
}

/* Writing the outputs right after a take reuses the photo take decoded,
 * but only while the file is unchanged: a photo replaced in between (here
 * by a smaller picture) is decoded again, so the annotated copy shows it. */
TEST(outputs_decode_a_photo_changed_since_the_take)
{
    setup();
    char db[600], photo[600], dir[600], annotated[700];
    snprintf(db, sizeof db, "%s/kept.db", tmp);
    snprintf(photo, sizeof photo, "%s/kept.jpg", tmp);
    snprintf(dir, sizeof dir, "%s/kept-out", tmp);
    snprintf(annotated, sizeof annotated, "%s/001-kept.annotated.jpg", dir);
    pl_image img = {0};
    CHECK(pl_image_new(400, 300, 3, &img, NULL) == PL_OK);
    memset(img.px, 90, (size_t)400 * 300 * 3);
    CHECK(pl_image_save_jpeg(photo, &img, 90, NULL) == PL_OK);
    pl_image_free(&img);
    pl_app_options o = {db, NULL, 1, 20, 1};
    pl_error err = {0};
    pl_app *app = pl_app_open(&o, &err);
    CHECK_MSG(app != NULL, "%s", err.msg);
    const char *photos[1] = {photo};
    for (int changed = 0; changed < 2; changed++) {
        pl_take_result r;
        CHECK(pl_take(app, photos, 1, &r, &err) == PL_OK);
        if (changed) {
            CHECK(pl_image_new(200, 100, 3, &img, NULL) == PL_OK);
            memset(img.px, 30, (size_t)200 * 100 * 3);
            sleep(1); /* a new modification time even on coarse clocks */
            CHECK(pl_image_save_jpeg(photo, &img, 90, NULL) == PL_OK);
            pl_image_free(&img);
        }
        CHECK(pl_take_write_outputs(app, &r, dir, &err) == PL_OK);
        pl_take_result_free(&r);
        pl_image a = {0};
        CHECK(pl_image_load(annotated, &a, NULL) == PL_OK);
        CHECK_EQ_INT(a.w, changed ? 200 : 400);
        pl_image_free(&a);
    }
    pl_app_close(app);
}

TEST(zz_cleanup)
{
    if (tmp[0]) run("rm -rf %s", tmp);
}

