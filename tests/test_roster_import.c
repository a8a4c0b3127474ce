/* test_roster_import.c — roster import end to end against a local fake
 * Drive (tests/drive_server.py on 127.0.0.1, random port, killed at the
 * end): every way a download goes wrong, each student's outcome, the
 * report, re-runs, and that nothing is ever written outside the photos
 * folder. */
#include <fcntl.h>
#include <libheif/heif.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <xlsxwriter.h>

#include "image/image.h"
#include "test.h"
#include "test_roster_util.h"
#include "util/sha256.h"

/* x265 (behind libheif's HEIC encoder, used only to make the test photo)
 * keeps one buffer until exit; LeakSanitizer reads this hook when the tests
 * run under `make asan`. Our own code is not covered by it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libx265.so\n"; }

/* ---- the server ---------------------------------------------------------- */

static pid_t server_pid;
static int server_port, server_stdin = -1;

static void server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (server_stdin >= 0) close(server_stdin);
    server_stdin = -1;
}

/* Start tests/drive_server.py serving files_dir; 0 if python3 or the
 * server is missing (the test is then skipped). */
static int server_start(const char *files_dir)
{
    if (server_pid) return 1;
    if (access("/usr/bin/python3", X_OK) != 0 || access("tests/drive_server.py", R_OK) != 0) return 0;
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl("/usr/bin/python3", "python3", "tests/drive_server.py", files_dir, "--lifetime", "300",
              (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_pid = pid;
    server_stdin = in[1]; /* the server exits when this closes (we died) */
    atexit(server_stop);
    /* the port, on a line of its own; python may be slow to start on a
     * loaded machine */
    char line[32] = "";
    size_t got = 0;
    struct pollfd p = {out[0], POLLIN, 0};
    while (got < sizeof line - 1 && !memchr(line, '\n', got) && poll(&p, 1, 30000) == 1) {
        ssize_t n = read(out[0], line + got, sizeof line - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        line[got] = 0;
    }
    close(out[0]);
    server_port = atoi(line);
    return server_port > 0;
}

/* ---- files the server serves ----------------------------------------------- */

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void synth(pl_image *img, int w, int h)
{
    CHECK(pl_image_new(w, h, 3, img, NULL) == PL_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->px + (y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / w);
            p[1] = (uint8_t)(y * 255 / h);
            p[2] = (uint8_t)(((x / 16 + y / 16) & 1) * 200);
        }
}

/* 1 if a real HEIC could be encoded (libheif with x265), else a file with
 * only an ftyp 'heic' header is written. */
static int write_heic(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/photo.heic", dir);
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    int ok = heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc).code == heif_error_Ok;
    if (ok) {
        heif_encoder_set_lossy_quality(enc, 60);
        ok = heif_image_create(128, 128, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img).code == heif_error_Ok &&
             heif_image_add_plane(img, heif_channel_interleaved, 128, 128, 8).code == heif_error_Ok;
    }
    if (ok) {
        int stride;
        uint8_t *p = heif_image_get_plane(img, heif_channel_interleaved, &stride);
        for (int y = 0; y < 128; y++)
            for (int x = 0; x < 128; x++) {
                p[y * stride + x * 3] = (uint8_t)(x * 2);
                p[y * stride + x * 3 + 1] = (uint8_t)(y * 2);
                p[y * stride + x * 3 + 2] = 90;
            }
        ok = heif_context_encode_image(ctx, img, enc, NULL, NULL).code == heif_error_Ok &&
             heif_context_write_to_file(ctx, path).code == heif_error_Ok;
    }
    if (enc) heif_encoder_release(enc);
    if (img) heif_image_release(img);
    heif_context_free(ctx);
    if (!ok) write_bytes(dir, "photo.heic", "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic\0\0\0\0", 28);
    return ok;
}

static int heic_real;

static void make_files(const char *dir)
{
    pl_image img;
    uint8_t *data;
    size_t len;
    synth(&img, 200, 160);
    CHECK(pl_image_encode_jpeg(&img, 90, &data, &len, NULL) == PL_OK);
    write_bytes(dir, "photo.jpg", data, len);
    free(data);
    CHECK(pl_image_encode_png(&img, &data, &len, NULL) == PL_OK);
    write_bytes(dir, "photo.png", data, len);
    free(data);
    pl_image_free(&img);
    synth(&img, 100, 100);
    CHECK(pl_image_encode_png(&img, &data, &len, NULL) == PL_OK);
    write_bytes(dir, "plain.png", data, len);
    free(data);
    pl_image_free(&img);
    synth(&img, 16, 16);
    CHECK(pl_image_encode_jpeg(&img, 90, &data, &len, NULL) == PL_OK);
    write_bytes(dir, "tiny.jpg", data, len);
    free(data);
    pl_image_free(&img);
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00"
                                 ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02" "D\x01\x00;";
    write_bytes(dir, "anim.gif", gif, sizeof gif - 1);
    heic_real = write_heic(dir);
}

/* ---- the roster -------------------------------------------------------------- */

typedef struct expect {
    const char *name, *link; /* link: printf pattern, %1$s = id tag, %2$d = port */
    const char *status, *reason, *file;
} expect;

#define D "https://drive.google.com"
static const expect cases[] = {
    {"Ana María Pérez", D "/open?id=direct-%s-01", "downloaded", "", "Ana_Maria_Perez/1.jpg"},
    {"José Núñez", D "/file/d/redirect-%s-02/view?usp=sharing", "downloaded", "", "Jose_Nunez/1.jpg"},
    {"Lucía Fernández", D "/uc?id=confirm-%s-03&export=download", "downloaded", "", "Lucia_Fernandez/1.jpg"},
    {"Pedro Privado", "https://drive.usercontent.google.com/download?id=private-%s-04&export=download", "failed", "not_public", ""},
    {"Marta Perdida", "https://docs.google.com/file/d/missing-%s-05/edit", "failed", "not_found", ""},
    {"Raúl Reintento", D "/open?id=r429-%s-06", "downloaded", "", "Raul_Reintento/1.jpg"},
    {"Sara Servidor", D "/open?id=r500-%s-07", "downloaded", "", "Sara_Servidor/1.jpg"},
    {"Tomás Lento", D "/open?id=slow-%s-08", "failed", "timeout", ""},
    {"Diana Corte", D "/open?id=drop-%s-09", "downloaded", "", "Diana_Corte/1.jpg"},
    {"Bruno Grande", D "/open?id=big-%s-10", "failed", "too_large", ""},
    {"Beto Chorro", D "/open?id=bigstream-%s-11", "failed", "too_large", ""},
    {"Helena Heic", D "/open?id=heic-%s-12", "downloaded", "", "Helena_Heic/1.heic"},
    {"Hugo Html", D "/open?id=htmljpeg-%s-13", "failed", "not_image", ""},
    {"Gabriel Gif", D "/open?id=gif-%s-14", "failed", "unsupported_format", ""},
    {"Tina Diminuta", D "/open?id=tiny-%s-15", "failed", "too_small", ""},
    {"Carla Rota", D "/open?id=corrupt-%s-16", "failed", "undecodable", ""},
    {"Lola Bucle", D "/open?id=loop-%s-17", "failed", "http_error", ""},
    {"Duplicado Uno", D "/open?id=same-%s-18", "downloaded", "duplicate", "Duplicado_Uno/1.jpg"},
    {"Duplicado Dos", D "/open?id=same-%s-19", "downloaded", "duplicate", "Duplicado_Dos/1.jpg"},
    {"Sin Foto", "", "failed", "no_link", ""},
    {"Mal Enlace", "foto_de_mal.jpg", "failed", "bad_link", ""},
    {"Carpeta Drive", D "/drive/folders/direct-%s-22", "failed", "bad_link", ""},
    {"../../etc", D "/open?id=direct-%s-23", "downloaded", "", "etc/1.jpg"},
    {"/abs/olute", D "/open?id=direct-%s-24", "downloaded", "", "abs_olute/1.jpg"},
    {"\xf0\x9f\x98\x80\xf0\x9f\x8e\x89", D "/open?id=direct-%s-25", "downloaded", "", "row_*/1.jpg"},
    {"con", D "/open?id=direct-%s-26", "downloaded", "", "con_/1.jpg"},
    {"ANA MARÍA PÉREZ", D "/open?id=direct-%s-27", "downloaded", "", "ANA_MARIA_PEREZ_2/1.jpg"},
    {"Url Plana", "http://127.0.0.1:%2$d/photos/plain.png", "downloaded", "", "Url_Plana/1.png"},
    {"Sin Servidor", "http://127.0.0.1:1/foto.jpg", "failed", "network", ""},
    {"Bartolomé de las Casas y Fernández de Córdoba Martínez de la Rosa Gutiérrez de Quesada y "
     "Álvarez de Toledo Ponce de León Hurtado de Mendoza y Sotomayor", D "/open?id=direct-%s-30",
     "downloaded", "", "Bartolome_de_las_Casas_y_Fernandez_de_Cordoba_Martinez_de_la_Rosa_Gutierrez_de/1.jpg"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void case_link(int i, const char *tag, char *out, size_t n)
{
    snprintf(out, n, cases[i].link, tag, server_port);
}

/* The roster as CSV (';' and a BOM, as Spanish Excel writes it) or .xlsx
 * (hyperlink objects, HYPERLINK formulas and plain text links mixed).
 * "Varias Fotos" has two links in one cell. */
static void write_roster(const char *path, const char *tag, int xlsx)
{
    char link[512], two[1100];
    snprintf(two, sizeof two, D "/open?id=direct-%s-90, " D "/file/d/png-%s-91/view", tag, tag);
    if (!xlsx) {
        FILE *f = fopen(path, "wb");
        fputs("\xEF\xBB\xBFMarca temporal;Nombre completo;Código;Foto\r\n", f);
        for (int i = 0; i < N_CASES; i++) {
            case_link(i, tag, link, sizeof link);
            fprintf(f, "2024-03-01;\"%s\";%d;%s\r\n", cases[i].name, 100 + i, link);
        }
        fprintf(f, ";;;\r\n2024-03-02;Varias Fotos;999;\"%s\"\r\n", two);
        fclose(f);
        return;
    }
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Respuestas de formulario 1");
    worksheet_write_string(ws, 0, 0, "Nombre completo", NULL);
    worksheet_write_string(ws, 0, 1, "Código", NULL);
    worksheet_write_string(ws, 0, 2, "Fotografía", NULL);
    for (int i = 0; i < N_CASES; i++) {
        worksheet_write_string(ws, i + 1, 0, cases[i].name, NULL);
        worksheet_write_number(ws, i + 1, 1, 100 + i, NULL);
        case_link(i, tag, link, sizeof link);
        if (!link[0]) continue;
        if (i % 3 == 0 && !strncmp(link, "http", 4)) worksheet_write_url(ws, i + 1, 2, link, NULL);
        else if (i % 3 == 1 && !strncmp(link, "http", 4)) {
            char f[700];
            snprintf(f, sizeof f, "=HYPERLINK(\"%s\",\"ver foto\")", link);
            worksheet_write_formula_str(ws, i + 1, 2, f, NULL, "ver foto");
        } else worksheet_write_string(ws, i + 1, 2, link, NULL);
    }
    worksheet_write_string(ws, N_CASES + 2, 0, "Varias Fotos", NULL);
    worksheet_write_number(ws, N_CASES + 2, 1, 999, NULL);
    worksheet_write_string(ws, N_CASES + 2, 2, two, NULL);
    CHECK(workbook_close(wb) == LXW_NO_ERROR);
}

static void test_options(pl_import_options *o, int jobs)
{
    static char base[64];
    pl_import_options_default(o);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", server_port);
    o->drive_base_url = base;
    o->jobs = jobs;
    o->timeout_ms = 1000;
    o->connect_timeout_ms = 2000;
    o->retries = 3;
    o->backoff_ms = 50;
    o->max_bytes = 1 << 20;
}

static const pl_import_item *item_of(const pl_roster *r, const pl_import_result *res, const char *name, int index)
{
    for (int i = 0; i < res->n_items; i++)
        if (!strcmp(r->rows[res->items[i].student].name, name) && res->items[i].index == index) return &res->items[i];
    return NULL;
}

static int file_matches(const char *got, const char *want)
{
    const char *star = strchr(want, '*');
    if (!star) return !strcmp(got, want);
    size_t pre = (size_t)(star - want);
    return !strncmp(got, want, pre) && strlen(got) > pre + strlen(star + 1) &&
           !strcmp(got + strlen(got) - strlen(star + 1), star + 1);
}

static void check_outcomes(const pl_roster *r, const pl_import_result *res, const char *photos, int skipped)
{
    for (int i = 0; i < N_CASES; i++) {
        const expect *c = &cases[i];
        const pl_import_item *it = item_of(r, res, c->name, 1);
        CHECK_MSG(it, "no item for %s", c->name);
        const char *want_status = skipped && !strcmp(c->status, "downloaded") ? "skipped" : c->status;
        CHECK_MSG(!strcmp(pl_import_status_name(it->status), want_status) &&
                      !strcmp(pl_import_reason_name(it->reason), c->reason),
                  "%s: %s/%s (%s), want %s/%s", c->name, pl_import_status_name(it->status),
                  pl_import_reason_name(it->reason), it->detail, want_status, c->reason);
        CHECK_MSG(file_matches(it->file, c->file), "%s: file \"%s\", want \"%s\"", c->name, it->file, c->file);
        if (it->file[0]) {
            char full[1200];
            snprintf(full, sizeof full, "%s/%s", photos, it->file);
            CHECK_MSG(pl_file_exists(full), "%s missing", full);
        }
    }
    const pl_import_item *a = item_of(r, res, "Varias Fotos", 1), *b = item_of(r, res, "Varias Fotos", 2);
    CHECK(a && b);
    CHECK_STR(a->file, "Varias_Fotos/1.jpg");
    CHECK_STR(b->file, "Varias_Fotos/2.png");
}

/* Every entry under root is the photos folder or the test's own files. */
static void check_nothing_outside(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        CHECK_MSG(!strcmp(n, ".") || !strcmp(n, "..") || !strncmp(n, "photos", 6) || !strcmp(n, "files") ||
                      !strncmp(n, "roster", 6),
                  "unexpected %s/%s", root, n);
    }
    closedir(d);
    CHECK(!pl_file_exists("/tmp/etc/1.jpg"));
}

static char *slurp(const char *path)
{
    uint8_t *d;
    size_t n;
    return pl_read_file(path, 1 << 24, &d, &n, NULL) == PL_OK ? (char *)d : NULL;
}

static void server_stats(const char *id, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -s 'http://127.0.0.1:%d/stats?id=%s'", server_port, id);
    FILE *p = popen(cmd, "r");
    out[0] = 0;
    if (p) {
        size_t k = fread(out, 1, n - 1, p);
        out[k] = 0;
        pclose(p);
    }
}

static char *root, files[600];

static void setup(void)
{
    if (root) return;
    root = tmpdir_new();
    snprintf(files, sizeof files, "%s/files", root);
    CHECK(pl_mkdirs(files, 0755, NULL) == PL_OK);
    make_files(files);
    if (!server_start(files)) SKIP("cannot start tests/drive_server.py with /usr/bin/python3");
}

static void import_format(int xlsx)
{
    setup();
    const char *tag = xlsx ? "xlsx" : "csv";
    char roster_path[700], photos[700];
    snprintf(roster_path, sizeof roster_path, "%s/roster-%s.%s", root, tag, xlsx ? "xlsx" : "csv");
    snprintf(photos, sizeof photos, "%s/photos-%s", root, tag);
    write_roster(roster_path, tag, xlsx);
    pl_roster r;
    pl_error e = {0};
    CHECK_MSG(pl_roster_read(roster_path, NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(r.n_rows, N_CASES + 1);
    pl_import_options o;
    test_options(&o, 8);
    pl_import_result res;
    CHECK_MSG(pl_roster_import(&r, photos, &o, &res, &e) == PL_OK, "%s", e.msg);
    if (!heic_real) fprintf(stderr, "    note: libheif has no HEVC encoder here; HEIC row served a bare header\n");
    check_outcomes(&r, &res, photos, 0);
    /* retries and resume really happened */
    CHECK_EQ_INT(item_of(&r, &res, "Sara Servidor", 1)->attempts, 4);
    CHECK_EQ_INT(item_of(&r, &res, "Raúl Reintento", 1)->attempts, 2);
    CHECK_EQ_INT(item_of(&r, &res, "Tomás Lento", 1)->attempts, 4);
    char id[64], stats[128];
    snprintf(id, sizeof id, "drop-%s-09", tag);
    server_stats(id, stats, sizeof stats);
    CHECK_STR(stats, "hits=2 ranges=1");
    CHECK_CONTAINS(item_of(&r, &res, "Pedro Privado", 1)->detail, "not shared publicly");
    /* summary and files */
    CHECK_EQ_INT(res.students_without_photo, 14);
    CHECK_EQ_INT(res.duplicates, 2);
    CHECK_EQ_INT(res.by_reason[PL_REASON_TOO_LARGE], 2);
    char path[800];
    snprintf(path, sizeof path, "%s/import-report.csv", photos);
    char *report = slurp(path);
    CHECK(report);
    CHECK(!strncmp(report, "student,link,status,reason,file,detail,row\n", 43));
    CHECK_CONTAINS(report, "Pedro Privado,https://drive.usercontent.google.com/download?id=private-");
    CHECK_CONTAINS(report, ",failed,not_public,,");
    CHECK_CONTAINS(report, "Ana María Pérez,https://drive.google.com/open?id=direct-");
    CHECK_CONTAINS(report, ",downloaded,,Ana_Maria_Perez/1.jpg,");
    free(report);
    snprintf(path, sizeof path, "%s/roster.csv", photos);
    char *ros = slurp(path);
    CHECK(ros);
    CHECK(!strncmp(ros, "folder,name,student_id,email,gender,photos\n", 43));
    CHECK_CONTAINS(ros, "Ana_Maria_Perez,Ana María Pérez,100,,,1\n");
    CHECK_CONTAINS(ros, "Varias_Fotos,Varias Fotos,999,,,2\n");
    CHECK_CONTAINS(ros, "Pedro_Privado,Pedro Privado,103,,,0\n");
    free(ros);
    check_nothing_outside(root);
    snprintf(path, sizeof path, "%s/.partial", photos);
    CHECK(!pl_file_exists(path));
    pl_import_result_free(&res);
    pl_roster_free(&r);
}

TEST(roster_import_csv) { import_format(0); }
TEST(roster_import_xlsx) { import_format(1); }

/* Second run: good photos skipped; failures retried and still failing.
 * Third run: one link changed to a dead one: the earlier photo stays. */
TEST(roster_import_rerun_keeps_good_photos)
{
    setup();
    char roster_path[700], photos[700];
    snprintf(roster_path, sizeof roster_path, "%s/roster-csv.csv", root);
    snprintf(photos, sizeof photos, "%s/photos-csv", root);
    if (!pl_file_exists(roster_path)) SKIP("needs roster_import_csv first");
    pl_roster r;
    pl_error e = {0};
    CHECK(pl_roster_read(roster_path, NULL, &r, &e) == PL_OK);
    pl_import_options o;
    test_options(&o, 8);
    pl_import_result res;
    CHECK(pl_roster_import(&r, photos, &o, &res, &e) == PL_OK);
    check_outcomes(&r, &res, photos, 1);
    CHECK_EQ_INT(res.downloaded, 0);
    pl_import_result_free(&res);
    /* a photo the teacher replaced by hand is kept, not downloaded over */
    char hand[800];
    snprintf(hand, sizeof hand, "%s/Jose_Nunez/1.jpg", photos);
    char src[800];
    snprintf(src, sizeof src, "%s/tiny.jpg", files);
    uint8_t *tiny;
    size_t tiny_len;
    CHECK(pl_read_file(src, 1 << 20, &tiny, &tiny_len, NULL) == PL_OK);
    CHECK(pl_write_file_atomic(hand, tiny, tiny_len, NULL) == PL_OK);
    CHECK(pl_roster_import(&r, photos, &o, &res, &e) == PL_OK);
    const pl_import_item *jose = item_of(&r, &res, "José Núñez", 1);
    CHECK_EQ_INT(jose->status, PL_IMPORT_SKIPPED);
    CHECK_CONTAINS(jose->detail, "changed by hand");
    CHECK_EQ_INT(pl_file_size(hand), (long long)tiny_len);
    free(tiny);
    pl_import_result_free(&res);
    /* Ana's link now points at a file that is gone */
    pl_roster_row *ana = &r.rows[0];
    free(ana->links[0]);
    ana->links[0] = strdup(D "/open?id=missing-csv-77");
    CHECK(pl_roster_import(&r, photos, &o, &res, &e) == PL_OK);
    const pl_import_item *it = item_of(&r, &res, "Ana María Pérez", 1);
    CHECK_EQ_INT(it->status, PL_IMPORT_FAILED);
    CHECK_EQ_INT(it->reason, PL_REASON_NOT_FOUND);
    CHECK_STR(it->file, "Ana_Maria_Perez/1.jpg");
    CHECK_CONTAINS(it->detail, "earlier photo is kept");
    char path[800];
    snprintf(path, sizeof path, "%s/Ana_Maria_Perez/1.jpg", photos);
    CHECK(pl_file_exists(path));
    CHECK_EQ_INT(res.students_without_photo, 14); /* Ana still has her photo */
    pl_import_result_free(&res);
    pl_roster_free(&r);
}

/* An interrupted run leaves .partial/<folder>.<n>.<url hash>.part: the next
 * run continues it with a Range request instead of starting over. */
TEST(roster_import_resumes_interrupted_run)
{
    setup();
    const char *id = "direct-resume-40";
    char photos[700], path[1200], src[800], url[256], h[65];
    snprintf(photos, sizeof photos, "%s/photos-resume", root);
    snprintf(src, sizeof src, "%s/photo.jpg", files);
    uint8_t *jpg;
    size_t len;
    CHECK(pl_read_file(src, 1 << 20, &jpg, &len, NULL) == PL_OK);
    /* the bytes the server sends for this id: the photo with a COM segment */
    size_t idl = strlen(id), full_len = len + 4 + idl;
    uint8_t *full = malloc(full_len);
    memcpy(full, jpg, 2);
    full[2] = 0xFF, full[3] = 0xFE, full[4] = (uint8_t)((idl + 2) >> 8), full[5] = (uint8_t)(idl + 2);
    memcpy(full + 6, id, idl);
    memcpy(full + 6 + idl, jpg + 2, len - 2);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/uc?export=download&id=%s", server_port, id);
    pl_sha256_hex(url, strlen(url), h);
    snprintf(path, sizeof path, "%s/.partial", photos);
    CHECK(pl_mkdirs(path, 0755, NULL) == PL_OK);
    snprintf(path, sizeof path, "%s/.partial/Reanudar_Uno.1.%.12s.part", photos, h);
    CHECK(pl_write_file_atomic(path, full, full_len / 2, NULL) == PL_OK);

    pl_roster r = {0};
    pl_roster_row row = {.row = 2, .name = "Reanudar Uno", .student_id = "", .email = "", .gender = ""};
    char link[128], *links[1] = {link};
    snprintf(link, sizeof link, D "/open?id=%s", id);
    row.links = links;
    row.n_links = 1;
    r.rows = &row;
    r.n_rows = 1;
    pl_import_options o;
    test_options(&o, 2);
    pl_import_result res;
    pl_error e = {0};
    CHECK_MSG(pl_roster_import(&r, photos, &o, &res, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(res.items[0].status, PL_IMPORT_DOWNLOADED);
    char stats[128];
    server_stats(id, stats, sizeof stats);
    CHECK_STR(stats, "hits=1 ranges=1");
    snprintf(path, sizeof path, "%s/Reanudar_Uno/1.jpg", photos);
    uint8_t *got;
    size_t got_len;
    CHECK(pl_read_file(path, 1 << 20, &got, &got_len, NULL) == PL_OK);
    CHECK(got_len == full_len && !memcmp(got, full, full_len));
    free(got);
    free(full);
    free(jpg);
    pl_import_result_free(&res);
}

/* The CLI: summary table, report, exit status 1 when someone has no photo. */
TEST(roster_import_cli)
{
    setup();
    const char *cli = getenv("PASALISTA_CLI");
    if (!cli || access(cli, X_OK) != 0) SKIP("PASALISTA_CLI not set (run through make test)");
    char path[700], photos[600], cmd[2400];
    snprintf(path, sizeof path, "%s/roster-cli.csv", root);
    snprintf(photos, sizeof photos, "%s/photos-cli", root);
    char text[1024];
    snprintf(text, sizeof text, "Nombre,Foto\nAna,%s/open?id=direct-cli-01\nBea,%s/open?id=private-cli-02\n", D, D);
    CHECK(write_text(path, text));
    snprintf(cmd, sizeof cmd, "%s roster import '%s' --photos '%s' --jobs 2 --drive-base-url http://127.0.0.1:%d "
             "--timeout 3 --retries 1 --backoff 10 > '%s/cli.out' 2>&1", cli, path, photos, server_port, root);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc));
    CHECK_EQ_INT(WEXITSTATUS(rc), 1);
    snprintf(path, sizeof path, "%s/cli.out", root);
    char *out = slurp(path);
    CHECK(out);
    char want[80];
    snprintf(want, sizeof want, "  %-26s %5d\n", "downloaded", 1);
    CHECK_CONTAINS(out, want);
    snprintf(want, sizeof want, "    %-24s %5d\n", "not_public", 1);
    CHECK_CONTAINS(out, want);
    CHECK_CONTAINS(out, "Students without a photo: 1 of 2");
    CHECK_CONTAINS(out, "import-report.csv");
    free(out);
    snprintf(path, sizeof path, "%s/Ana/1.jpg", photos);
    CHECK(pl_file_exists(path));
    snprintf(cmd, sizeof cmd, "%s roster --help > /dev/null", cli);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Last: stop the server and remove the temporary folder. */
TEST(roster_import_zz_cleanup)
{
    server_stop();
    tmpdir_rm(root);
    free(root);
    root = NULL;
}
