/* bench_import.c — roster import speed: N students (default 300) whose
 * photos come from the local fake Drive (tests/drive_server.py), at
 * --jobs 8 and, for comparison, --jobs 1; then again with 50 ms added to
 * every answer, as a real network would. Run from the repository root:
 *
 *     make build/bench/bench_import && build/bench/bench_import [N]
 *
 * Each photo is a 640x480 JPEG (~21 KB) made unique per student. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../tests/test_roster_util.h"
#include "image/image.h"

static pid_t server;

static int start_server(const char *files, const char *latency, int *port)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return 0;
    server = fork();
    if (server == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl("/usr/bin/python3", "python3", "tests/drive_server.py", files, "--lifetime", "600", "--latency",
              latency, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char line[32] = "";
    size_t got = 0;
    struct pollfd p = {out[0], POLLIN, 0};
    while (got < sizeof line - 1 && !memchr(line, '\n', got) && poll(&p, 1, 30000) == 1) {
        ssize_t n = read(out[0], line + got, sizeof line - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        line[got] = 0;
    }
    *port = atoi(line);
    return *port > 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int run(const char *roster_path, const char *photos, int port, int jobs, pl_import_result *res)
{
    pl_roster r;
    pl_error e = {0};
    if (pl_roster_read(roster_path, NULL, &r, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 0;
    }
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    pl_import_options o;
    pl_import_options_default(&o);
    o.drive_base_url = base;
    o.jobs = jobs;
    pl_status st = pl_roster_import(&r, photos, &o, res, &e);
    pl_roster_free(&r);
    if (st) fprintf(stderr, "%s\n", e.msg);
    return st == PL_OK;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300, port;
    char *dir = tmpdir_new(), files[512], roster_path[600], photos[600];
    snprintf(files, sizeof files, "%s/files", dir);
    pl_mkdirs(files, 0755, NULL);
    pl_image img;
    pl_image_new(640, 480, 3, &img, NULL);
    for (unsigned i = 0; i < 640u * 480u * 3u; i++) img.px[i] = (uint8_t)((i / 3 % 640) / 3 + (i / 1920) / 2 + (i % 3) * 40);
    uint8_t *jpg;
    size_t len;
    if (pl_image_encode_jpeg(&img, 85, &jpg, &len, NULL)) return 1;
    pl_image_free(&img);
    snprintf(photos, sizeof photos, "%s/photo.jpg", files);
    FILE *f = fopen(photos, "wb");
    fwrite(jpg, 1, len, f);
    fclose(f);
    free(jpg);
    const char *latencies[] = {"0", "0.05"};
    for (int l = 0; l < 2; l++) {
        if (!start_server(files, latencies[l], &port)) {
            fprintf(stderr, "cannot start tests/drive_server.py (run from the repository root)\n");
            return 1;
        }
        printf("roster import: %d students, one %zu-byte JPEG each, local fake Drive on 127.0.0.1:%d, "
               "%s s added per answer\n", n, len, port, latencies[l]);
        int jobs_list[] = {8, 1};
        for (int k = 0; k < 2; k++) {
            snprintf(roster_path, sizeof roster_path, "%s/roster%d%d.csv", dir, l, k);
            f = fopen(roster_path, "w");
            fprintf(f, "Nombre completo,Foto\n");
            for (int i = 0; i < n; i++)
                fprintf(f, "Estudiante %04d,https://drive.google.com/file/d/direct-bench%d%d-%05d/view\n", i, l, k, i);
            fclose(f);
            snprintf(photos, sizeof photos, "%s/photos%d%d", dir, l, k);
            pl_import_result res;
            double t0 = now_s();
            if (!run(roster_path, photos, port, jobs_list[k], &res)) return 1;
            double t1 = now_s();
            printf("  --jobs %d: %.2f s  (%.0f photos/s), downloaded %d, failed %d\n", jobs_list[k], t1 - t0,
                   res.downloaded / (t1 - t0), res.downloaded, res.failed);
            pl_import_result_free(&res);
            if (k == 0) { /* the same roster again: everything skipped */
                t0 = now_s();
                if (!run(roster_path, photos, port, 8, &res)) return 1;
                printf("  re-run (all present): %.2f s, skipped %d\n", now_s() - t0, res.skipped);
                pl_import_result_free(&res);
            }
        }
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    tmpdir_rm(dir);
    free(dir);
    return 0;
}
