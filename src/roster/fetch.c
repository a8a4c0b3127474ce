/* fetch.c — many downloads at once with libcurl's multi interface:
 * parallel up to a limit, connect and total timeouts, retries with
 * exponential backoff on 429 / 5xx / timeouts / dropped connections,
 * resuming a partial file with a Range request, a size cap checked while
 * the bytes arrive, redirects within limits and only to http(s), and Drive's
 * "can't scan this file for viruses" page answered. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roster/roster.h"

enum { WAITING = 0, RUNNING, FINISHED };
#define MAX_HOPS 3                 /* confirmation pages followed per job */
#define HTML_PEEK (1u << 20)       /* how much of an HTML answer we read */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct run {
    CURLM *multi;
    pl_fetch *jobs;
    int n, active, finished;
    char *state;
    const pl_fetch_opts *o;
    pl_fetch_done_fn done;
    void *user;
} run;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    pl_fetch *f = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300 || code == 0) return n; /* error bodies are not the photo */
    if (f->written == 0 && f->resume_from > 0 && code == 200) {
        /* we asked for a range and got the whole file: start over */
        if (ftruncate(fileno((FILE *)f->fp), 0) != 0) return 0;
        rewind((FILE *)f->fp);
        f->resume_from = 0;
    }
    if (f->resume_from + f->written + (long long)n > f->cap) {
        f->too_large = 1;
        return 0;
    }
    if (fwrite(p, 1, n, (FILE *)f->fp) != n) return 0;
    f->written += (long long)n;
    return n;
}

static void finish(run *r, pl_fetch *f, int ok, pl_import_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void finish(run *r, pl_fetch *f, int ok, pl_import_reason reason, const char *fmt, ...)
{
    f->ok = ok;
    f->reason = ok ? PL_REASON_NONE : reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    struct stat st;
    f->bytes = stat(f->path, &st) == 0 ? (long long)st.st_size : 0;
    if (!ok) unlink(f->path);
    r->state[f - r->jobs] = FINISHED;
    r->finished++;
    if (r->done) r->done(r->user, f);
}

static int start(run *r, pl_fetch *f)
{
    const pl_fetch_opts *o = r->o;
    struct stat st;
    /* A partial file is continued: left by the previous try, or by an
     * earlier run that was interrupted (its name carries the URL's hash,
     * and finished or failed downloads never leave one behind). */
    f->resume_from = !f->no_resume && stat(f->path, &st) == 0 ? (long long)st.st_size : 0;
    f->fp = fopen(f->path, f->resume_from ? "ab" : "wb");
    if (!f->fp) return 0;
    CURL *e = curl_easy_init();
    if (!e) {
        fclose(f->fp);
        return 0;
    }
    f->easy = e;
    f->written = 0;
    f->too_large = 0;
    f->cap = o->max_bytes;
    f->attempts++;
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    char agent[64];
    snprintf(agent, sizeof agent, "pasalista/%s", pl_version());
    curl_easy_setopt(e, CURLOPT_USERAGENT, agent); /* curl copies it */
    if (f->resume_from) curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)f->resume_from);
    if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        fclose(f->fp);
        f->easy = f->fp = NULL;
        return 0;
    }
    r->state[f - r->jobs] = RUNNING;
    r->active++;
    return 1;
}

/* Try again later if attempts remain; else finish with the reason. */
static void retry_or_fail(run *r, pl_fetch *f, long retry_after_s, pl_import_reason reason,
                          const char *what)
{
    if (f->attempts > r->o->retries) {
        finish(r, f, 0, reason, "%s (after %d attempt%s)", what, f->attempts, f->attempts == 1 ? "" : "s");
        return;
    }
    long long wait = r->o->backoff_ms;
    for (int i = 1; i < f->attempts && wait < 30000; i++) wait *= 2;
    if (retry_after_s > 0) {
        long long ra = retry_after_s * 1000LL;
        wait = ra > wait ? (ra < 60000 ? ra : 60000) : wait;
    }
    f->ready_at_ms = now_ms() + wait;
    r->state[f - r->jobs] = WAITING;
}

static char *read_head(const char *path, size_t max, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = malloc(max + 1);
    *len = buf ? fread(buf, 1, max, fp) : 0;
    fclose(fp);
    if (buf) buf[*len] = 0;
    return buf;
}

/* A 200 that may be HTML: Drive's confirmation, a sign-in page, or junk. */
static void check_html(run *r, pl_fetch *f)
{
    size_t len;
    char *head = read_head(f->path, 1024, &len); /* enough to tell HTML */
    if (!head) {
        finish(r, f, 0, PL_REASON_IO, "cannot read back %s", f->path);
        return;
    }
    if (pl_content_sniff((uint8_t *)head, len) != PL_CONTENT_HTML) {
        free(head);
        finish(r, f, 1, PL_REASON_NONE, "HTTP %d", f->http_code);
        return;
    }
    free(head);
    if (!(head = read_head(f->path, HTML_PEEK, &len))) {
        finish(r, f, 0, PL_REASON_IO, "cannot read back %s", f->path);
        return;
    }
    char next[2048];
    if (f->hops < MAX_HOPS && pl_drive_confirm_url(head, len, f->url, next, sizeof next)) {
        free(head);
        unlink(f->path); /* the page is not part of the photo */
        snprintf(f->url, sizeof f->url, "%s", next);
        f->hops++;
        f->attempts = 0; /* a new request, not a retry: start clean */
        f->ready_at_ms = 0;
        r->state[f - r->jobs] = WAITING;
        return;
    }
    int signin = pl_html_is_signin(head, len);
    free(head);
    if (signin)
        finish(r, f, 0, PL_REASON_NOT_PUBLIC,
               "file is not shared publicly (Drive answered with a sign-in page)");
    else
        finish(r, f, 0, PL_REASON_NOT_IMAGE, "the server sent an HTML page, not a photo");
}

static void on_done(run *r, CURL *e, CURLcode rc)
{
    pl_fetch *f;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&f);
    long code = 0;
    curl_off_t retry_after = 0;
    char *eff = NULL;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry_after);
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
    if (eff && rc == CURLE_OK) snprintf(f->url, sizeof f->url, "%s", eff);
    curl_multi_remove_handle(r->multi, e);
    curl_easy_cleanup(e);
    fclose((FILE *)f->fp);
    f->easy = f->fp = NULL;
    r->active--;
    f->http_code = (int)code;
    char what[160];
    if (f->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        finish(r, f, 0, PL_REASON_TOO_LARGE, "larger than the limit of %lld bytes", r->o->max_bytes);
    } else if (rc == CURLE_OK) {
        if (code == 200 || code == 206) check_html(r, f);
        else if (code == 416) { /* our partial file is stale: start over */
            unlink(f->path);
            retry_or_fail(r, f, 0, PL_REASON_HTTP, "HTTP 416");
        } else if (code == 404 || code == 410)
            finish(r, f, 0, PL_REASON_NOT_FOUND, "HTTP %ld: no such file (deleted, or a wrong link)", code);
        else if (code == 401 || code == 403)
            finish(r, f, 0, PL_REASON_NOT_PUBLIC, "HTTP %ld: file is not shared publicly", code);
        else if (code == 429 || code >= 500) {
            snprintf(what, sizeof what, "HTTP %ld", code);
            retry_or_fail(r, f, (long)retry_after, PL_REASON_HTTP, what);
        } else
            finish(r, f, 0, PL_REASON_HTTP, "HTTP %ld", code);
    } else if (rc == CURLE_RANGE_ERROR) {
        /* the server ignores Range: start over from byte 0, not a new try */
        unlink(f->path);
        f->no_resume = 1;
        f->attempts--;
        f->ready_at_ms = 0;
        r->state[f - r->jobs] = WAITING;
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        finish(r, f, 0, PL_REASON_HTTP, "more than %d redirects", r->o->max_redirects);
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        finish(r, f, 0, PL_REASON_BAD_LINK, "%s", curl_easy_strerror(rc));
    } else if (rc == CURLE_WRITE_ERROR) {
        finish(r, f, 0, PL_REASON_IO, "cannot write %s", f->path);
    } else {
        snprintf(what, sizeof what, "%s", curl_easy_strerror(rc));
        retry_or_fail(r, f, 0, rc == CURLE_OPERATION_TIMEDOUT ? PL_REASON_TIMEOUT : PL_REASON_NETWORK,
                      what);
    }
}

/* Start what is due; returns ms until the next waiting job is due. */
static long launch(run *r)
{
    long long now = now_ms(), next = -1;
    for (int i = 0; i < r->n && r->active < r->o->jobs; i++) {
        if (r->state[i] != WAITING) continue;
        pl_fetch *f = &r->jobs[i];
        if (f->ready_at_ms > now) {
            if (next < 0 || f->ready_at_ms < next) next = f->ready_at_ms;
            continue;
        }
        if (!start(r, f)) finish(r, f, 0, PL_REASON_IO, "cannot write %s", f->path);
    }
    return next < 0 ? 1000 : (long)(next - now > 0 ? next - now : 0);
}

pl_status pl_fetch_all(pl_fetch *jobs, int n, const pl_fetch_opts *o, pl_fetch_done_fn done,
                       void *user, pl_error *err)
{
    if (n <= 0) return PL_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return pl_fail(err, PL_ERR_NET, "cannot start libcurl");
    run r = {.jobs = jobs, .n = n, .o = o, .done = done, .user = user};
    r.multi = curl_multi_init();
    r.state = calloc((size_t)n, 1);
    if (!r.multi || !r.state) {
        if (r.multi) curl_multi_cleanup(r.multi);
        free(r.state);
        curl_global_cleanup();
        return pl_fail(err, PL_ERR_NOMEM, "cannot start the downloads");
    }
    curl_multi_setopt(r.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->jobs);
    while (r.finished < n) {
        long wait = launch(&r);
        int running = 0;
        curl_multi_perform(r.multi, &running);
        CURLMsg *msg;
        int left, progressed = 0;
        while ((msg = curl_multi_info_read(r.multi, &left)))
            if (msg->msg == CURLMSG_DONE) {
                on_done(&r, msg->easy_handle, msg->data.result);
                progressed = 1;
            }
        if (r.finished >= n) break;
        if (progressed) continue; /* start the next ones now, not after a poll */
        if (wait > 200) wait = 200;
        curl_multi_poll(r.multi, NULL, 0, (int)wait, NULL);
    }
    curl_multi_cleanup(r.multi);
    free(r.state);
    curl_global_cleanup();
    return PL_OK;
}
