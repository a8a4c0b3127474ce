/* test_roster_util.h — what the roster tests share: temporary folders,
 * writing files, building .xlsx files (libxlsxwriter) and hand-made zips
 * (libzip) for what libxlsxwriter never writes. */
#ifndef TEST_ROSTER_UTIL_H
#define TEST_ROSTER_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "roster/roster.h"
#include "util/fs.h"

static char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/pl_roster_XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

/* rm -rf of a folder the test made (only under /tmp/pl_roster_). */
static void tmpdir_rm(const char *path)
{
    if (!path || strncmp(path, "/tmp/pl_roster_", 15) != 0) return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

__attribute__((unused)) static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* A zip with members name[i] = text[i] (NULL-terminated lists). */
__attribute__((unused)) static int write_zip(const char *path, const char *const *names, const char *const *texts)
{
    int e;
    unlink(path);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
    if (!z) return 0;
    for (int i = 0; names[i]; i++) {
        zip_source_t *s = zip_source_buffer(z, texts[i], strlen(texts[i]), 0);
        if (!s || zip_file_add(z, names[i], s, ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(s);
            zip_discard(z);
            return 0;
        }
    }
    return zip_close(z) == 0;
}

#define XLSX_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
                "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

/* A one-sheet .xlsx from raw sheet XML (inside <worksheet>), optional
 * shared strings XML (inside <sst>) and sheet rels (inside <Relationships>). */
__attribute__((unused)) static int write_xlsx_raw(const char *path, const char *sheet_body, const char *sst_body,
                          const char *sheet_rels)
{
    static char wb[1024], wbrels[1024], sheet[65536], sst[65536], srels[8192];
    snprintf(wb, sizeof wb,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook " XLSX_NS
             "><sheets><sheet name=\"Hoja 1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
    snprintf(wbrels, sizeof wbrels,
             "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
             "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
             "Target=\"/xl/worksheets/sheet1.xml\"/></Relationships>");
    snprintf(sheet, sizeof sheet, "<?xml version=\"1.0\"?><worksheet " XLSX_NS ">%s</worksheet>", sheet_body);
    snprintf(sst, sizeof sst, "<?xml version=\"1.0\"?><sst " XLSX_NS ">%s</sst>", sst_body ? sst_body : "");
    snprintf(srels, sizeof srels,
             "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">%s</Relationships>",
             sheet_rels ? sheet_rels : "");
    const char *names[] = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml",
                           sst_body ? "xl/sharedStrings.xml" : NULL,
                           sheet_rels ? "xl/worksheets/_rels/sheet1.xml.rels" : NULL, NULL};
    const char *texts[] = {wb, wbrels, sheet, sst, srels, NULL};
    if (!sst_body) { names[3] = sheet_rels ? names[4] : NULL; texts[3] = srels; names[4] = NULL; }
    return write_zip(path, names, texts);
}

#endif
