/* fuzz_csv.c — libFuzzer target: any bytes as a CSV roster, then header
 * detection, students, safe folder names and Drive link rewriting; the
 * same bytes also go through the HTML checks the downloader applies to
 * answers (confirmation page, sign-in page, content sniffing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roster/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *text = malloc(len + 1); /* the HTML checks expect a NUL after the bytes */
    if (!text) return 0;
    memcpy(text, data, len);
    text[len] = 0;
    char url[2048];
    pl_content_sniff(data, len);
    pl_drive_confirm_url(text, len, "http://127.0.0.1:1/uc?id=x", url, sizeof url);
    pl_html_is_signin(text, len);
    free(text);

    pl_book b;
    pl_error e = {0};
    if (pl_csv_read_mem(data, len, "fuzz.csv", &b, &e) != PL_OK) return 0;
    pl_roster r;
    pl_roster_options o = {0};
    if (len && data[0] & 1) o.name_col = "B", o.photo_col = "foto";
    if (pl_roster_from_book(&b, len && (data[0] & 1) ? &o : NULL, "fuzz.csv", &r, &e) == PL_OK) {
        for (int i = 0; i < r.n_rows; i++) {
            char folder[96];
            pl_name_fold(r.rows[i].name, folder, sizeof folder);
            for (int k = 0; k < r.rows[i].n_links; k++)
                pl_drive_link_parse(r.rows[i].links[k], "http://127.0.0.1:1", url, sizeof url, NULL, NULL);
        }
        pl_roster_free(&r);
    }
    pl_book_free(&b);
    return 0;
}
