/* Attendance records end to end, as a teacher runs them, on group photos of
 * ../shared/faces (read at run time, never copied into the repository):
 *   - two classes, five sessions each, corrections, CSV / XLSX / HTML
 *     reports whose contents are checked (the XLSX read back by our own
 *     reader);
 *   - crash safety: take and mark killed with SIGKILL at random points;
 *   - concurrency: 4 processes taking and marking at once;
 *   - forget: the name and the embedding bytes are gone from the file;
 *   - bad input: nothing changes.
 * One enrollment makes a template database that every test copies. */
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roster/roster.h"
#include "cli_run.h"
#include "test.h"

static char tmp[256];
static int asan;


/* One number from the database (read-only), -1 on error. */
static long long query(const char *db, const char *sql)
{
    sqlite3 *h;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 10000);
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return buf;
}

static int file_has(const char *path, const void *needle, size_t n)
{
    size_t len = 0;
    char *buf = slurp(path, &len);
    if (!buf) return 0;
    int found = memmem(buf, len, needle, n) != NULL;
    free(buf);
    return found;
}

static const char *group(const char *name)
{
    static char path[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(path[k], sizeof path[k], "%s/faces/groups/%s.jpg", test_shared_dir(), name);
    return path[k];
}

static const char *const physics[] = {"jim_parsons", "johnny_galecki", "kaley_cuoco",
                                      "kunal_nayyar", "simon_helberg", "jennifer_aniston", NULL};
static const char *const drama[] = {"courteney_cox", "david_schwimmer", "jennifer_aniston",
                                    "lisa_kudrow", "matt_leblanc", "matthew_perry", NULL};

static void link_people(const char *dir, const char *const *people, const char *faces)
{
    CHECK(run("mkdir -p %s/%s", tmp, dir) == 0);
    for (int i = 0; people[i]; i++)
        CHECK(run("ln -sfn %s/%s %s/%s/%s", faces, people[i], tmp, dir, people[i]) == 0);
}

static void remove_tmp(void)
{
    if (tmp[0] && !getenv("PASALISTA_KEEP_TMP")) run("rm -rf %s", tmp);
}

/* The template: everyone of both classes enrolled once, both classes with
 * their rosters, no session. */
static void setup(void)
{
    char rel[512], faces[4096];
    snprintf(rel, sizeof rel, "%s/faces/identities", test_shared_dir());
    if (access(rel, R_OK) != 0) SKIP("%s not present", rel);
    if (tmp[0]) return;
    CHECK(realpath(rel, faces) != NULL); /* the links must not be relative */
    asan = getenv("PASALISTA_ASAN") != NULL;
    snprintf(tmp, sizeof tmp, "/tmp/pl_test_records_%d", (int)getpid());
    atexit(remove_tmp); /* also when only some tests run (a filter) */
    CHECK(run("rm -rf %s && mkdir -p %s", tmp, tmp) == 0);
    link_people("physics", physics, faces);
    link_people("drama", drama, faces);
    link_people("all", physics, faces);
    link_people("all", drama, faces);
    CHECK_MSG(run("%s enroll %s/all --db %s/template.db", cli(), tmp, tmp) == 0, "%s", out);
    CHECK_MSG(run("%s class create Physics --db %s/template.db && %s class create Drama --db %s/template.db",
                  cli(), tmp, cli(), tmp) == 0, "%s", out);
    CHECK_MSG(run("%s class add-students Physics %s/physics --db %s/template.db", cli(), tmp, tmp) == 0, "%s",
              out);
    CHECK_CONTAINS(out, "6 added");
    CHECK_MSG(run("%s class add-students Drama %s/drama --db %s/template.db", cli(), tmp, tmp) == 0, "%s", out);
}

static void fresh(const char *name, char *db, size_t size)
{
    snprintf(db, size, "%s/%s.db", tmp, name);
    CHECK(run("rm -f %s %s-wal %s-shm && cp %s/template.db %s", db, db, db, tmp, db) == 0);
}

static int take(const char *db, const char *cls, const char *date, const char *photos)
{
    return run("%s take --class %s --date %s %s --db %s", cli(), cls, date, photos, db);
}

/* A row of a CSV report: the line starting with "name,". */
static const char *csv_row(const char *csv, const char *name, char *buf, size_t size)
{
    char key[300];
    snprintf(key, sizeof key, "\n%s,", name);
    const char *p = strstr(csv, key);
    if (!p) return "";
    p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(buf, size, "%.*s", (int)n, p);
    return buf;
}

static const char *xlsx_text(const pl_sheet *s, int row, int col)
{
    for (int i = 0; i < s->n_rows; i++)
        if (s->rows[i].row == row)
            return col <= s->rows[i].n && s->rows[i].cells[col - 1].text ? s->rows[i].cells[col - 1].text : "";
    return "";
}

static char e2e_db[512];

TEST(two_classes_five_sessions_corrections_and_reports)
{
    setup();
    fresh("e2e", e2e_db, sizeof e2e_db);
    const char *db = e2e_db;
    /* Physics: four Big Bang Theory photos, and a fifth day with two photos
     * taken in two runs (the second run adds to the same session). */
    const char *pdates[] = {"2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"};
    const char *pphotos[] = {"bbt1", "bbt2", "bbt3", "bbt5", "bbt1"};
    for (int i = 0; i < 5; i++) CHECK_MSG(take(db, "Physics", pdates[i], group(pphotos[i])) == 0, "%s", out);
    CHECK_MSG(run("%s take --class Physics --date 2026-01-09 %s %s --db %s --json", cli(), group("bbt1"),
                  group("bbt3"), db) == 0, "%s", out);
    CHECK_CONTAINS(out, "\"session_created\":false,\"photos_added\":1,\"photos_already\":1");
    const char *dphotos[] = {"friends_hug", "friends_poker", "friends_reunion_couch", "friends_walking",
                             "friends_milkshakes"};
    for (int i = 0; i < 5; i++) CHECK_MSG(take(db, "Drama", pdates[i], group(dphotos[i])) == 0, "%s", out);
    CHECK(query(db, "SELECT count(*) FROM sessions") == 10);
    CHECK(query(db, "SELECT count(*) FROM session_photos") == 11);
    /* Only the class's students are matched: no Drama student in Physics. */
    CHECK(query(db, "SELECT count(*) FROM faces f JOIN session_photos sp ON sp.id = f.session_photo_id"
                    " JOIN sessions se ON se.id = sp.session_id JOIN classes c ON c.id = se.class_id"
                    " JOIN students st ON st.id = f.student_id WHERE c.name = 'Physics'"
                    " AND st.name IN ('courteney_cox','lisa_kudrow','matt_leblanc')") == 0);
    /* One mark per roster student per session. */
    CHECK(query(db, "SELECT count(*) FROM marks") == 60);
    CHECK(query(db, "SELECT count(*) FROM faces WHERE w <= 0 OR h <= 0 OR score IS NULL") == 0);

    /* Corrections. */
    CHECK_MSG(run("%s mark --class Physics --date 2026-01-06 kaley_cuoco excused --note 'doctor note' --by "
                  "teacher1 --db %s", cli(), db) == 0, "%s", out);
    CHECK_CONTAINS(out, "absent -> excused");
    CHECK_MSG(run("%s mark --class Drama --date 2026-01-05 matthew_perry absent --note 'left early' --db %s",
                  cli(), db) == 0, "%s", out);
    CHECK_CONTAINS(out, "present -> absent");
    CHECK_MSG(run("%s mark --class Drama --date 2026-01-07 lisa_kudrow review --note 'check the photo' --db %s",
                  cli(), db) == 0, "%s", out);
    CHECK(query(db, "SELECT count(*) FROM audit_log") == 3);
    CHECK(query(db, "SELECT count(*) FROM audit_log WHERE who = 'teacher1' AND old_status = 'absent'"
                    " AND new_status = 'excused' AND note = 'doctor note'") == 1);
    /* A later take the same day never overwrites the manual mark. */
    CHECK(take(db, "Drama", "2026-01-05", group("friends_stairs")) == 0);
    CHECK(query(db, "SELECT count(*) FROM marks m JOIN students s ON s.id = m.student_id"
                    " JOIN sessions se ON se.id = m.session_id WHERE s.name = 'matthew_perry'"
                    " AND se.date = '2026-01-05' AND m.status = 'absent' AND m.source = 'manual'") == 1);

    /* CSV. */
    char csv[600], row[2048];
    snprintf(csv, sizeof csv, "%s/physics.csv", tmp);
    CHECK_MSG(run("%s report --class Physics --format csv --out %s --db %s", cli(), csv, db) == 0, "%s", out);
    char *text = slurp(csv, NULL);
    CHECK(text);
    static const char head[] = "student,2026-01-05,2026-01-06,2026-01-07,2026-01-08,2026-01-09,present,"
                               "absent,excused,review,attendance %\r\n";
    CHECK(strncmp(text, head, strlen(head)) == 0);
    CHECK_STR(csv_row(text, "jim_parsons", row, sizeof row),
              "jim_parsons,present,present,present,present,present,5,0,0,0,100.0");
    CHECK_STR(csv_row(text, "kaley_cuoco", row, sizeof row),
              "kaley_cuoco,absent,\"excused (manual; photos: absent)\",present,present,present,3,1,1,0,75.0");
    /* Jennifer Aniston is in Physics too, and never in its photos. */
    CHECK_CONTAINS(csv_row(text, "jennifer_aniston", row, sizeof row), ",0,5,0,0,0.0");
    free(text);
    snprintf(csv, sizeof csv, "%s/drama.csv", tmp);
    CHECK(run("%s report --class Drama --from 2026-01-05 --to 2026-01-07 --format csv --out %s --db %s", cli(),
              csv, db) == 0);
    text = slurp(csv, NULL);
    CHECK(text);
    CHECK(strncmp(text, "student,2026-01-05,2026-01-06,2026-01-07,present,", 49) == 0);
    CHECK_CONTAINS(csv_row(text, "matthew_perry", row, sizeof row),
                   "matthew_perry,\"absent (manual; photos: present)\",");
    CHECK_CONTAINS(csv_row(text, "lisa_kudrow", row, sizeof row), ",\"review (manual; photos: ");
    /* The sessions table: 2026-01-07 has an open review item. */
    CHECK_CONTAINS(text, "\r\nsession,photos,faces,unknown faces,present,absent,excused,open review\r\n");
    CHECK(strstr(text, "\r\n2026-01-05,2,"));
    CHECK(strstr(text, "\r\n2026-01-07,1,"));
    CHECK_CONTAINS(strstr(text, "\r\n2026-01-07,1,"), ",1\r\n");
    free(text);

    /* XLSX, read back by our own reader: one sheet per class. */
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/all.xlsx", tmp);
    CHECK_MSG(run("%s report --format xlsx --out %s --db %s", cli(), xlsx, db) == 0, "%s", out);
    size_t len = 0;
    char *bytes = slurp(xlsx, &len);
    CHECK(bytes);
    pl_book book = {0};
    pl_error err = {0};
    pl_status st = pl_xlsx_read_mem((const uint8_t *)bytes, len, "all.xlsx", 16 << 20, &book, &err);
    free(bytes);
    CHECK_MSG(st == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(book.n_sheets, 2);
    const pl_sheet *dr = &book.sheets[0], *ph = &book.sheets[1]; /* by class name */
    CHECK_STR(dr->name, "Drama");
    CHECK_STR(ph->name, "Physics");
    CHECK_STR(xlsx_text(ph, 1, 1), "Student");
    CHECK_STR(xlsx_text(ph, 1, 2), "2026-01-05");
    CHECK_STR(xlsx_text(ph, 1, 11), "Attendance");
    /* students by name: jennifer_aniston, jim_parsons, johnny_galecki, kaley_cuoco */
    CHECK_STR(xlsx_text(ph, 3, 1), "jim_parsons");
    CHECK_STR(xlsx_text(ph, 3, 6), "present");
    CHECK_STR(xlsx_text(ph, 3, 7), "5");
    CHECK_STR(xlsx_text(ph, 3, 11), "1");    /* 100 %, stored as a fraction */
    CHECK_STR(xlsx_text(ph, 5, 1), "kaley_cuoco");
    CHECK_STR(xlsx_text(ph, 5, 3), "excused (manual; photos: absent)");
    CHECK_STR(xlsx_text(ph, 5, 11), "0.75");
    pl_book_free(&book);
    CHECK(run("unzip -p %s xl/worksheets/sheet2.xml | grep -c 'state=\"frozen\"'", xlsx) == 0);

    /* HTML: one self-contained page. */
    char html[600];
    snprintf(html, sizeof html, "%s/report.html", tmp);
    CHECK(run("%s report --format html --out %s --db %s", cli(), html, db) == 0);
    text = slurp(html, NULL);
    CHECK(text);
    CHECK_CONTAINS(text, "<style>");
    CHECK(!strstr(text, "http") && !strstr(text, "<link") && !strstr(text, "<script"));
    CHECK_CONTAINS(text, "<h2>Physics</h2>");
    CHECK_CONTAINS(text, "<h2>Drama</h2>");
    CHECK_CONTAINS(text, "<td class=\"excused manual\">excused<span class=\"auto\">photos: absent</span></td>");
    CHECK_CONTAINS(text, "<td>100.0%</td>");
    free(text);

    /* class show / list and the JSON report agree. */
    CHECK(run("%s class list --db %s", cli(), db) == 0);
    CHECK_CONTAINS(out, "Physics");
    CHECK_CONTAINS(out, "6 students    5 sessions");
    CHECK(run("%s report --class Physics --format json --db %s", cli(), db) == 0);
    CHECK_CONTAINS(out, "\"name\":\"kaley_cuoco\",\"on_roster\":true,\"present\":3,\"absent\":1,\"review\":0,"
                        "\"excused\":1,\"percent\":75");
    /* the backup is a complete, consistent copy */
    CHECK(run("%s backup %s/copy.db --db %s", cli(), tmp, db) == 0);
    char copy[600];
    snprintf(copy, sizeof copy, "%s/copy.db", tmp);
    CHECK(query(copy, "SELECT count(*) FROM marks") == 60);
    struct stat sb;
    CHECK(stat(copy, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600);
}

/* Forget: after it, neither the name nor the bytes of an embedding are in
 * the database file (or its WAL), and reports no longer list the student. */
TEST(forget_leaves_no_trace_in_the_file)
{
    setup();
    char db[512];
    fresh("forget", db, sizeof db);
    CHECK(take(db, "Drama", "2026-01-05", group("friends_hug")) == 0);
    CHECK(take(db, "Physics", "2026-01-05", group("bbt1")) == 0);
    CHECK(run("%s mark --class Drama --date 2026-01-05 jennifer_aniston excused --db %s", cli(), db) == 0);
    /* The raw bytes of one of her embeddings, read before forgetting. */
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    sqlite3_stmt *q;
    CHECK(sqlite3_prepare_v2(h, "SELECT e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id"
                                " JOIN students s ON s.id = p.student_id WHERE s.name = 'jennifer_aniston'"
                                " LIMIT 1", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    int n = sqlite3_column_bytes(q, 0);
    unsigned char *vec = malloc((size_t)n);
    memcpy(vec, sqlite3_column_blob(q, 0), (size_t)n);
    sqlite3_finalize(q);
    sqlite3_close(h);
    CHECK(n >= 512);
    const char *name = "jennifer_aniston";
    char wal0[600];
    snprintf(wal0, sizeof wal0, "%s-wal", db);
    CHECK(file_has(db, name, strlen(name)) || file_has(wal0, name, strlen(name)));

    CHECK_MSG(run("%s student forget jennifer_aniston --db %s", cli(), db) == 0, "%s", out);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", db);
    CHECK(!file_has(db, name, strlen(name)));
    CHECK(!file_has(wal, name, strlen(name)));
    CHECK(!file_has(db, "jennifer-aniston", 16)); /* the slug */
    CHECK(!file_has(db, vec, (size_t)n));
    CHECK(!file_has(db, vec, 64));
    CHECK(!file_has(wal, vec, 64));
    free(vec);
    CHECK(query(db, "PRAGMA integrity_check") != -1);
    CHECK(run("%s report --format csv --class Drama --db %s", cli(), db) == 0);
    CHECK(!strstr(out, "jennifer"));
    CHECK_CONTAINS(out, "lisa_kudrow");
    CHECK(run("%s report --format html --db %s", cli(), db) == 0);
    CHECK(!strstr(out, "jennifer"));
    CHECK(run("%s student forget jennifer_aniston --db %s", cli(), db) == 3);
    CHECK_CONTAINS(out, "jennifer_aniston");

    /* --keep-attendance keeps the marks (with the name copy), nothing else. */
    CHECK(run("%s student forget lisa_kudrow --keep-attendance --db %s", cli(), db) == 0);
    CHECK(query(db, "SELECT count(*) FROM marks WHERE student_id IS NULL AND student_name = 'lisa_kudrow'") == 1);
    CHECK(query(db, "SELECT count(*) FROM photos p LEFT JOIN students s ON s.id = p.student_id"
                    " WHERE s.id IS NULL") == 0);
    CHECK(run("%s report --format csv --class Drama --db %s", cli(), db) == 0);
    CHECK_CONTAINS(out, "lisa_kudrow,");
}

/* A fingerprint of everything a command could change. */
static void fingerprint(const char *db, char *buf, size_t size)
{
    static const char *const tables[] = {"students", "photos", "embeddings", "classes", "class_students",
                                         "sessions", "session_photos", "faces", "marks", "audit_log",
                                         "settings", NULL};
    size_t at = 0;
    for (int i = 0; tables[i]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        at += (size_t)snprintf(buf + at, size - at, "%s=%lld ", tables[i], query(db, sql));
    }
    snprintf(buf + at, size - at, "marks:%lld", query(db, "SELECT total(length(status) * id) FROM marks"));
}

TEST(bad_input_changes_nothing)
{
    setup();
    char db[512], before[1024], after[1024];
    fresh("bad", db, sizeof db);
    CHECK(take(db, "Physics", "2026-01-05", group("bbt2")) == 0);
    CHECK(run("echo 'not a photo' > %s/text.jpg", tmp) == 0);
    fingerprint(db, before, sizeof before);
    struct { const char *args, *says; int code; } cases[] = {
        {"take --class Nope --date 2026-01-06 %s", "no class 'Nope'", 3},
        {"mark --class Nope --date 2026-01-05 jim_parsons absent", "no class 'Nope'", 3},
        {"mark --class Physics --date 2026-01-05 nobody_at_all absent", "nobody_at_all", 3},
        {"mark --class Physics --date 2026-01-05 courteney_cox absent", "not in class 'Physics'", 3},
        {"mark --class Physics --date 05/01/2026 jim_parsons absent", "YYYY-MM-DD", 3},
        {"mark --class Physics --date 2026-02-30 jim_parsons absent", "YYYY-MM-DD", 3},
        {"mark --class Physics --date 2026-01-05 jim_parsons late", "present, absent, excused", 3},
        {"take --class Physics --date 2026-1-6 %s", "YYYY-MM-DD", 3},
        {"report --class Physics --from 2026/01/01 --format csv", "YYYY-MM-DD", 3},
        {"report --class Nope --format csv", "no class 'Nope'", 3},
        {"report --class Physics --format pdf", "csv, xlsx, html or json", 3},
        {"student forget nobody_at_all", "nobody_at_all", 3},
        {"class add-students Nope %s", "no class 'Nope'", 3},
        {"mark --date 2026-01-05 jim_parsons absent", "--class is required", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, cases[i].args, group("bbt1"));
        if (strstr(args, "add-students")) snprintf(args, sizeof args, cases[i].args, tmp);
        int code = run("%s %s --db %s", cli(), args, db);
        CHECK_MSG(code == cases[i].code, "%s: exit %d: %s", args, code, out);
        CHECK_MSG(strstr(out, cases[i].says), "%s: says '%s', not '%s'", args, out, cases[i].says);
    }
    /* A photo that is not an image: alone, or beside a good one. */
    CHECK(run("%s take --class Physics --date 2026-01-07 %s/text.jpg --db %s", cli(), tmp, db) == 3);
    CHECK_CONTAINS(out, "text.jpg");
    CHECK_CONTAINS(out, "nothing recorded");
    CHECK(run("%s take --class Physics --date 2026-01-05 %s %s/text.jpg --db %s", cli(), group("bbt1"), tmp,
              db) == 3);
    fingerprint(db, after, sizeof after);
    CHECK_STR(after, before);

    /* A database from a newer pasalista: refused, not one byte written. */
    char newer[600];
    snprintf(newer, sizeof newer, "%s/newer.db", tmp);
    CHECK(run("cp %s %s && rm -f %s-wal %s-shm", db, newer, newer, newer) == 0);
    sqlite3 *h;
    CHECK(sqlite3_open(newer, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "PRAGMA journal_mode=DELETE; PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
    size_t len0 = 0, len1 = 0;
    char *b0 = slurp(newer, &len0);
    const char *cmds[] = {"class list", "class create Chemistry", "take --class Physics --date 2026-01-09 %s",
                          "mark --class Physics --date 2026-01-05 jim_parsons absent",
                          "report --class Physics --format csv", "student forget jim_parsons"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, cmds[i], group("bbt1"));
        CHECK_MSG(run("%s %s --db %s", cli(), args, newer) == 3, "%s: %s", args, out);
        CHECK_CONTAINS(out, "newer pasalista (schema 99");
    }
    char *b1 = slurp(newer, &len1);
    CHECK(b0 && b1 && len0 == len1 && memcmp(b0, b1, len0) == 0);
    free(b0);
    free(b1);
}

/* Start the CLI with argv (no shell), stdout/stderr to /dev/null. */
static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every session whole: one mark per roster student, and every recorded
 * photo with its faces (bbt photos all have faces). */
static void check_sessions_whole(const char *db)
{
    CHECK(query(db, "SELECT count(*) FROM (SELECT se.id FROM sessions se JOIN classes c ON c.id = se.class_id"
                    " WHERE (SELECT count(*) FROM marks m WHERE m.session_id = se.id) !="
                    " (SELECT count(*) FROM class_students cs WHERE cs.class_id = c.id))") == 0);
    CHECK(query(db, "SELECT count(*) FROM session_photos sp WHERE NOT EXISTS"
                    " (SELECT 1 FROM faces f WHERE f.session_photo_id = sp.id)") == 0);
}

static int integrity_ok(const char *db)
{
    sqlite3 *h;
    int ok = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            ok = strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return ok;
}

TEST(crash_safety_sigkill_take_and_mark)
{
    setup();
    char db[512], photo[512];
    fresh("crash", db, sizeof db);
    snprintf(photo, sizeof photo, "%s", group("bbt2"));
    int kills = asan ? 25 : 100;
    if (asan) printf("    (ASan build: %d kills instead of 100)\n", kills);
    /* How long a whole take runs, so that kills land anywhere in it. */
    double t0 = now_s();
    CHECK(take(db, "Physics", "2026-02-01", photo) == 0);
    double span = now_s() - t0;
    if (span > 3) span = 3;
    srand(12345);
    int finished = 0;
    for (int i = 0; i < kills; i++) {
        char date[16];
        snprintf(date, sizeof date, "2026-02-%02d", 1 + i % 28);
        char *take_argv[] = {(char *)cli(), "take", "--class", "Physics", "--date", date, photo, "--db", db, NULL};
        char *mark_argv[] = {(char *)cli(), "mark", "--class", "Physics", "--date", date,
                             (char *)(i % 3 ? "simon_helberg" : "jim_parsons"),
                             (char *)(i % 2 ? "absent" : "excused"), "--note", "crash test", "--db", db, NULL};
        pid_t pid = spawn(i % 4 == 3 ? mark_argv : take_argv);
        CHECK(pid > 0);
        /* Half the kills anywhere, half near the end, where the one
         * transaction commits; span adapts to how long commands take now. */
        double u = (double)rand() / RAND_MAX;
        double wait = span * (i % 2 ? u : 0.8 + 0.25 * u);
        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        finished += WIFEXITED(status);
        span *= WIFEXITED(status) ? 0.95 : 1.02;
        if (i % 10 == 9) {
            CHECK_MSG(integrity_ok(db), "integrity_check failed after kill %d", i + 1);
            check_sessions_whole(db);
            /* each recorded photo has all the faces a clean run found */
            CHECK_EQ_INT(query(db, "SELECT count(*) FROM session_photos sp WHERE (SELECT count(*) FROM faces f"
                                   " WHERE f.session_photo_id = sp.id) != (SELECT count(*) FROM faces f JOIN"
                                   " session_photos s1 ON s1.id = f.session_photo_id WHERE s1.id ="
                                   " (SELECT min(id) FROM session_photos))"), 0);
        }
    }
    printf("    %d kills: %d commands finished first; %lld sessions, %lld photos, %lld audit rows\n", kills,
           finished, query(db, "SELECT count(*) FROM sessions"), query(db, "SELECT count(*) FROM session_photos"),
           query(db, "SELECT count(*) FROM audit_log"));
    CHECK(integrity_ok(db));
    check_sessions_whole(db);
    /* Every manual mark has its audit row and vice versa: both or neither. */
    CHECK(query(db, "SELECT count(*) FROM marks WHERE source = 'manual'") ==
          query(db, "SELECT count(DISTINCT session_id || '-' || student_id) FROM audit_log"));
    /* and the file still works */
    CHECK(take(db, "Physics", "2026-02-01", group("bbt3")) == 0);
}

/* 4 processes take attendance and mark at the same time: no command
 * fails, and every mark written is there afterwards. */
TEST(concurrency_four_writers)
{
    setup();
    char db[512];
    fresh("busy", db, sizeof db);
    double seconds = asan ? 10 : 30;
    if (asan) printf("    (ASan build: %.0f s instead of 30)\n", seconds);
    enum { N = 4 };
    pid_t kids[N];
    for (int k = 0; k < N; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            /* Child k: take on its own and on a shared date, then mark,
             * each mark with a unique note; exit code = failures (<= 250). */
            double end = now_s() + seconds;
            int fails = 0, marks = 0;
            char log[600];
            snprintf(log, sizeof log, "%s/busy-%d.log", tmp, k);
            FILE *lf = fopen(log, "w");
            for (int i = 0; now_s() < end; i++) {
                char date[32], note[64], cmd[4096];
                snprintf(date, sizeof date, "2026-03-%02d", 1 + (i % 2 ? k : 10 + i % 5));
                snprintf(cmd, sizeof cmd, "%s take --class Physics --date %s %s --db %s >/dev/null 2>&1", cli(),
                         date, group(i % 2 ? "bbt2" : "bbt3"), db);
                if (system(cmd) != 0) fails++;
                snprintf(note, sizeof note, "p%d-m%d", k, marks);
                snprintf(cmd, sizeof cmd,
                         "%s mark --class Physics --date %s kunal_nayyar %s --note %s --db %s >/dev/null 2>&1",
                         cli(), date, i % 2 ? "present" : "excused", note, db);
                if (system(cmd) != 0) fails++;
                else marks++;
                snprintf(cmd, sizeof cmd, "%s report --class Physics --format json --db %s >/dev/null 2>&1", cli(),
                         db);
                if (system(cmd) != 0) fails++;
            }
            if (lf) {
                fprintf(lf, "%d %d\n", marks, fails);
                fclose(lf);
            }
            _exit(fails > 250 ? 250 : fails);
        }
    }
    /* A backup in the middle of it all is consistent. */
    sleep((unsigned)(seconds / 2));
    char copy[600];
    snprintf(copy, sizeof copy, "%s/busy-backup.db", tmp);
    CHECK_MSG(run("%s backup %s --db %s", cli(), copy, db) == 0, "%s", out);
    int total_marks = 0, failures = 0;
    for (int k = 0; k < N; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        CHECK(WIFEXITED(status));
        failures += WEXITSTATUS(status);
        char log[600];
        snprintf(log, sizeof log, "%s/busy-%d.log", tmp, k);
        FILE *lf = fopen(log, "r");
        int m = 0, f = 0;
        CHECK(lf && fscanf(lf, "%d %d", &m, &f) == 2);
        fclose(lf);
        total_marks += m;
    }
    printf("    4 processes x %.0f s: %d marks, %lld sessions, %lld photos, %d failed commands\n", seconds,
           total_marks, query(db, "SELECT count(*) FROM sessions"), query(db, "SELECT count(*) FROM session_photos"),
           failures);
    CHECK_EQ_INT(failures, 0);
    CHECK(total_marks > 0);
    /* No lost write: one audit row per mark command, each note once. */
    CHECK_EQ_INT(query(db, "SELECT count(*) FROM audit_log"), total_marks);
    CHECK_EQ_INT(query(db, "SELECT count(DISTINCT note) FROM audit_log"), total_marks);
    check_sessions_whole(db);
    CHECK(integrity_ok(db));
    CHECK(integrity_ok(copy));
    check_sessions_whole(copy);
}

TEST(zz_cleanup)
{
    if (tmp[0] && !getenv("PASALISTA_KEEP_TMP")) run("rm -rf %s", tmp);
}
