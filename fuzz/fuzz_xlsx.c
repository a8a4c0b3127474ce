/* fuzz_xlsx.c — libFuzzer target: any bytes as a zipped spreadsheet (.xlsx
 * or .ods), then header detection and student building. Must never crash,
 * leak, or read out of bounds; errors are fine. */
#include <stdint.h>
#include <stdlib.h>

#include "roster/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    pl_book b;
    pl_error e = {0};
    if (pl_book_read_mem(data, len, "fuzz.xlsx", 4u << 20, &b, &e) != PL_OK) return 0;
    pl_roster r;
    if (pl_roster_from_book(&b, NULL, "fuzz.xlsx", &r, &e) == PL_OK) {
        for (int i = 0; i < r.n_rows; i++) {
            char folder[96], url[2048];
            pl_name_fold(r.rows[i].name, folder, sizeof folder);
            for (int k = 0; k < r.rows[i].n_links; k++)
                pl_drive_link_parse(r.rows[i].links[k], NULL, url, sizeof url, NULL, NULL);
        }
        pl_roster_free(&r);
    }
    pl_book_free(&b);
    return 0;
}
