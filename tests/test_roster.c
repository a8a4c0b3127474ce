/* test_roster.c — the roster readers and helpers: Drive links, safe names,
 * CSV dialects, .xlsx as Excel/LibreOffice/Google Sheets write them (made
 * with libxlsxwriter, and by hand for what it never writes), .ods, and bad
 * input that must fail with a clear message. */
#include <xlsxwriter.h>

#include "test.h"
#include "test_roster_util.h"

#define BASE "http://127.0.0.1:9"
#define ID "1AbCdEfGhIjKlMnOpQrStUvWxYz012345"

static void check_link(const char *link, const char *want)
{
    char url[2048];
    pl_error e = {0};
    int drive = -1;
    pl_status st = pl_drive_link_parse(link, BASE, url, sizeof url, &drive, &e);
    CHECK_MSG(st == PL_OK, "%s: %s", link, e.msg);
    CHECK_STR(url, want);
}

TEST(roster_drive_links)
{
    const char *want = BASE "/uc?export=download&id=" ID;
    check_link("https://drive.google.com/file/d/" ID "/view?usp=sharing", want);
    check_link("https://drive.google.com/file/d/" ID "/view", want);
    check_link("https://drive.google.com/file/d/" ID, want);
    check_link("https://drive.google.com/file/d/" ID "/edit?usp=drivesdk", want);
    check_link("https://drive.google.com/open?id=" ID, want);
    check_link("https://drive.google.com/uc?id=" ID "&export=download", want);
    check_link("https://drive.google.com/uc?export=download&id=" ID, want);
    check_link("https://drive.usercontent.google.com/download?id=" ID "&export=download&authuser=0", want);
    check_link("https://docs.google.com/uc?id=" ID, want);
    check_link("https://docs.google.com/file/d/" ID "/edit", want);
    check_link("https://drive.google.com/a/colegio.edu/file/d/" ID "/view", want);
    check_link("https://drive.google.com/u/0/uc?id=" ID "&export=download", want);
    check_link("HTTPS://DRIVE.GOOGLE.COM/open?id=" ID, want);
    check_link("https://example.org/fotos/ana.jpg", "https://example.org/fotos/ana.jpg");

    char url[2048], def[2048];
    pl_error e = {0};
    CHECK(pl_drive_link_parse("https://drive.google.com/open?id=" ID, NULL, def, sizeof def, NULL, &e) == PL_OK);
    CHECK_STR(def, "https://drive.google.com/uc?export=download&id=" ID);
    const char *bad[] = {"ftp://example.org/a.jpg", "file:///etc/passwd", "javascript:alert(1)",
                         "foto.jpg", "https://drive.google.com/drive/folders/" ID,
                         "https://docs.google.com/document/d/" ID "/edit",
                         "https://drive.google.com/open?id=short", "https://drive.google.com/",
                         "https:// drive.google.com/x", "", NULL};
    for (int i = 0; bad[i]; i++) {
        pl_error_clear(&e);
        CHECK_MSG(pl_drive_link_parse(bad[i], BASE, url, sizeof url, NULL, &e) != PL_OK, "accepted %s", bad[i]);
        CHECK(e.msg[0]);
    }
    pl_error_clear(&e);
    pl_drive_link_parse("https://drive.google.com/drive/folders/" ID, BASE, url, sizeof url, NULL, &e);
    CHECK_CONTAINS(e.msg, "folder");
}

TEST(roster_links_in_one_cell)
{
    char **v = NULL;
    int n = 0;
    CHECK(pl_links_split("https://drive.google.com/open?id=AAAAAAAAAAAA, https://drive.google.com/open?id=BBBBBBBBBBBB;"
                         "\nhttps://x.org/c.jpg (foto)", &v, &n, NULL) == PL_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_STR(v[0], "https://drive.google.com/open?id=AAAAAAAAAAAA");
    CHECK_STR(v[1], "https://drive.google.com/open?id=BBBBBBBBBBBB");
    CHECK_STR(v[2], "https://x.org/c.jpg");
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void check_fold(const char *in, const char *want)
{
    char out[96];
    int ok = pl_name_fold(in, out, sizeof out);
    CHECK_MSG(ok == (want[0] != 0), "fold(%s) -> %d \"%s\"", in, ok, out);
    CHECK_STR(out, want);
}

TEST(roster_safe_names)
{
    check_fold("María José Núñez", "Maria_Jose_Nunez");
    check_fold("  Ángela   Pérez-Ochoa ", "Angela_Perez-Ochoa");
    check_fold("Jose\xcc\x81 Mari\xcc\x81""a", "Jose_Maria"); /* decomposed (macOS) */
    check_fold("Łukasz Żółć Straße", "Lukasz_Zolc_Strasse");
    check_fold("O'Brien, Seán", "OBrien_Sean");
    check_fold("../../etc/passwd", "etc_passwd");
    check_fold("..", "");
    check_fold("/abs/path", "abs_path");
    check_fold("C:\\Windows\\x", "C_Windows_x");
    check_fold("con", "con_");
    check_fold("LPT1", "LPT1_");
    check_fold("\xf0\x9f\x98\x80\xf0\x9f\x8e\x89", ""); /* emoji only */
    check_fold("\xff\xfe bad utf8 \xc3", "bad_utf8");
    check_fold("-rf --all", "rf_--all");
    char longname[600], out[96];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(pl_name_fold(longname, out, sizeof out));
    CHECK(strlen(out) < sizeof out);
    char h[64];
    pl_header_fold("  Fotografía:  ", h, sizeof h);
    CHECK_STR(h, "fotografia");
    pl_header_fold("NOMBRES Y APELLIDOS", h, sizeof h);
    CHECK_STR(h, "nombres y apellidos");
}

/* Read a roster from text written to a temporary file. */
static pl_status read_text(const char *dir, const char *file, const char *text,
                           const pl_roster_options *o, pl_roster *r, pl_error *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    CHECK(write_text(path, text));
    return pl_roster_read(path, o, r, e);
}

TEST(roster_csv_dialects)
{
    char *dir = tmpdir_new();
    pl_roster r;
    pl_error e = {0};
    /* Spanish Excel: BOM, ';' separators, quoted field with a ';' and a newline. */
    CHECK_MSG(read_text(dir, "a.csv",
                        "\xEF\xBB\xBFMarca temporal;Nombre completo;Correo;Foto\r\n"
                        "1/3/2024;\"Pérez; Ana\";ana@x.org;https://drive.google.com/open?id=AAAAAAAAAAAA\r\n"
                        ";;;\r\n"
                        "2/3/2024;\"Luis \"\"Lucho\"\"\nGómez\";;\"https://drive.google.com/open?id=BBBBBBBBBBBB, https://drive.google.com/open?id=CCCCCCCCCCCC\"\r\n",
                        NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(r.n_rows, 2);
    CHECK_STR(r.rows[0].name, "Pérez; Ana");
    CHECK_STR(r.rows[0].email, "ana@x.org");
    CHECK_EQ_INT(r.rows[0].n_links, 1);
    CHECK_STR(r.rows[1].name, "Luis \"Lucho\" Gómez");
    CHECK_EQ_INT(r.rows[1].n_links, 2);
    CHECK_EQ_INT(r.rows[1].row, 4);
    pl_roster_free(&r);
    /* Plain comma CSV, first and last names apart, LF ends, Windows-1252. */
    CHECK_MSG(read_text(dir, "b.csv",
                        "Nombre,Apellidos,C\xf3""digo,G\xe9nero,Fotograf\xed""a\n"
                        "Mar\xed""a,N\xfa\xf1""ez Soto,A-17,F,https://example.org/m.jpg\n",
                        NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(r.n_rows, 1);
    CHECK_STR(r.rows[0].name, "María Núñez Soto");
    CHECK_STR(r.rows[0].student_id, "A-17");
    CHECK_STR(r.rows[0].gender, "F");
    CHECK_STR(r.rows[0].links[0], "https://example.org/m.jpg");
    pl_roster_free(&r);
    /* English headers, tab separated, a missing photo and a non-link. */
    CHECK_MSG(read_text(dir, "c.tsv", "Name\tEmail Address\tPhoto\nAnn Lee\ta@b.c\t\nBo Chan\t\tphoto.jpg\n",
                        NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(r.n_rows, 2);
    CHECK_EQ_INT(r.rows[0].n_links, 0);
    CHECK_STR(r.rows[1].links[0], "photo.jpg");
    pl_roster_free(&r);
    /* Columns named on the command line. */
    pl_roster_options o = {.name_col = "B", .photo_col = "Enlace del retrato"};
    CHECK_MSG(read_text(dir, "d.csv", "x,quien,Enlace del retrato\n1,Eva,https://x.org/e.png\n", &o, &r, &e) == PL_OK,
              "%s", e.msg);
    CHECK_STR(r.rows[0].name, "Eva");
    pl_roster_free(&r);
    tmpdir_rm(dir);
    free(dir);
}

TEST(roster_csv_bad)
{
    char *dir = tmpdir_new();
    pl_roster r;
    pl_error e = {0};
    CHECK(read_text(dir, "q.csv", "Nombre,Foto\n\"Ana,https://x.org/a.jpg\nLuis,x\n", NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "q.csv: line 2: a quoted field opens here and is never closed");
    CHECK(read_text(dir, "n.csv", "Edad,Foto\n12,https://x.org/a.jpg\n", NULL, &r, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no name column");
    CHECK_CONTAINS(e.msg, "\"Edad\"");
    CHECK(read_text(dir, "p.csv", "Nombre,Edad\nAna,12\n", NULL, &r, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no photo column");
    CHECK(read_text(dir, "e.csv", "", NULL, &r, &e) != PL_OK);
    CHECK_CONTAINS(e.msg, "empty");
    CHECK(read_text(dir, "h.csv", "Nombre,Foto\n", NULL, &r, &e) != PL_OK);
    CHECK_CONTAINS(e.msg, "no students");
    char path[512];
    snprintf(path, sizeof path, "%s/nul.csv", dir);
    FILE *f = fopen(path, "wb");
    fwrite("Nombre,Foto\nA\0B,x\n", 1, 18, f);
    fclose(f);
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "NUL");
    CHECK(read_text(dir, "old.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest", NULL, &r, &e) == PL_ERR_UNSUPPORTED);
    CHECK_CONTAINS(e.msg, ".xls");
    tmpdir_rm(dir);
    free(dir);
}

/* An .xlsx as Excel writes it: shared strings, URL cells (hyperlink
 * objects), HYPERLINK formulas, an instructions sheet first, a merged title
 * row, empty rows, first and last names apart, several links in a cell. */
static void make_excel_book(const char *path, int constant_memory)
{
    lxw_workbook_options opt = {.constant_memory = (uint8_t)constant_memory};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    lxw_worksheet *info = workbook_add_worksheet(wb, "Instrucciones");
    worksheet_write_string(info, 0, 0, "Suba una foto de frente", NULL);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Respuestas de formulario 1");
    if (!constant_memory) worksheet_merge_range(ws, 0, 0, 0, 4, "Lista 3°B — 2024", NULL);
    else worksheet_write_string(ws, 0, 0, "Lista 3°B — 2024", NULL);
    const char *head[] = {"Marca temporal", "Nombres", "Apellidos", "Número de matrícula", "Fotografía"};
    for (int c = 0; c < 5; c++) worksheet_write_string(ws, 1, c, head[c], NULL);
    worksheet_write_string(ws, 2, 1, "Ana María", NULL);
    worksheet_write_string(ws, 2, 2, "Pérez", NULL);
    worksheet_write_number(ws, 2, 3, 1001, NULL);
    worksheet_write_url(ws, 2, 4, "https://drive.google.com/open?id=AAAAAAAAAAAA", NULL);
    /* row 4 (index 3) left empty */
    worksheet_write_string(ws, 4, 1, "José", NULL);
    worksheet_write_string(ws, 4, 2, "Núñez", NULL);
    worksheet_write_formula_str(ws, 4, 4, "=HYPERLINK(\"https://drive.google.com/file/d/BBBBBBBBBBBB/view\",\"ver foto\")",
                                NULL, "ver foto");
    worksheet_write_string(ws, 5, 1, "Luz", NULL);
    worksheet_write_string(ws, 5, 2, "Ortiz", NULL);
    worksheet_write_string(ws, 5, 4, "https://drive.google.com/open?id=CCCCCCCCCCCC, https://drive.google.com/open?id=DDDDDDDDDDDD", NULL);
    CHECK(workbook_close(wb) == LXW_NO_ERROR);
}

static void check_excel_roster(const pl_roster *r)
{
    CHECK_STR(r->sheet, "Respuestas de formulario 1");
    CHECK_EQ_INT(r->header_row, 2);
    CHECK_EQ_INT(r->n_rows, 3);
    CHECK_STR(r->rows[0].name, "Ana María Pérez");
    CHECK_STR(r->rows[0].student_id, "1001");
    CHECK_EQ_INT(r->rows[0].n_links, 1);
    CHECK_STR(r->rows[0].links[0], "https://drive.google.com/open?id=AAAAAAAAAAAA");
    CHECK_STR(r->rows[1].name, "José Núñez");
    CHECK_EQ_INT(r->rows[1].row, 5);
    CHECK_EQ_INT(r->rows[1].n_links, 1);
    CHECK_STR(r->rows[1].links[0], "https://drive.google.com/file/d/BBBBBBBBBBBB/view");
    CHECK_EQ_INT(r->rows[2].n_links, 2);
    CHECK_STR(r->rows[2].links[1], "https://drive.google.com/open?id=DDDDDDDDDDDD");
}

TEST(roster_xlsx_excel)
{
    char *dir = tmpdir_new(), path[512];
    pl_roster r;
    pl_error e = {0};
    for (int cm = 0; cm < 2; cm++) { /* shared strings, then inline strings */
        snprintf(path, sizeof path, "%s/clase%d.xlsx", dir, cm);
        make_excel_book(path, cm);
        CHECK_MSG(pl_roster_read(path, NULL, &r, &e) == PL_OK, "%s", e.msg);
        check_excel_roster(&r);
        pl_roster_free(&r);
    }
    pl_roster_options o = {.sheet = "Instrucciones"};
    CHECK(pl_roster_read(path, &o, &r, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no name column");
    o.sheet = "Nope";
    CHECK(pl_roster_read(path, &o, &r, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no sheet named \"Nope\"");
    tmpdir_rm(dir);
    free(dir);
}

/* What libxlsxwriter never writes: Google Sheets' inline strings and
 * formula strings without cached values, cells with no r attribute, rich
 * text with phonetic runs, a hyperlink over a range, an absolute target. */
TEST(roster_xlsx_handmade)
{
    char *dir = tmpdir_new(), path[512];
    snprintf(path, sizeof path, "%s/g.xlsx", dir);
    const char *sst = "<si><r><t>Nombre </t></r><r><t>completo</t></r><rPh sb=\"0\" eb=\"1\"><t>XX</t></rPh></si>"
                      "<si><t>Foto</t></si><si><t xml:space=\"preserve\">  Sofía   Ramos </t></si>";
    const char *sheet =
        "<sheetData>"
        "<row r=\"1\"><c t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c><c t=\"inlineStr\"><is><t>Sexo</t></is></c></row>"
        "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>2</v></c><c r=\"B3\" t=\"inlineStr\"><is><t>abrir</t></is></c><c r=\"C3\" t=\"inlineStr\"><is><t>F</t></is></c></row>"
        "<row><c r=\"A4\" t=\"inlineStr\"><is><r><t>Tomás </t></r><r><t>Ruiz</t></r></is></c>"
        "<c r=\"B4\" t=\"str\"><f>HYPERLINK(\"https://drive.google.com/uc?id=EEEEEEEEEEEE&amp;export=download\";\"ver\")</f></c></row>"
        "<row r=\"5\"><c r=\"A5\" t=\"b\"><v>1</v></c></row>"
        "</sheetData><hyperlinks><hyperlink ref=\"B3:B3\" r:id=\"rId7\"/><hyperlink ref=\"A1\" location=\"Hoja1!A1\"/></hyperlinks>";
    const char *rels = "<Relationship Id=\"rId7\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink\" "
                       "Target=\"https://drive.google.com/file/d/FFFFFFFFFFFF/view?usp=sharing\" TargetMode=\"External\"/>";
    CHECK(write_xlsx_raw(path, sheet, sst, rels));
    pl_roster r;
    pl_error e = {0};
    CHECK_MSG(pl_roster_read(path, NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(r.n_rows, 3);
    CHECK_STR(r.rows[0].name, "Sofía Ramos");
    CHECK_STR(r.rows[0].gender, "F");
    CHECK_STR(r.rows[0].links[0], "https://drive.google.com/file/d/FFFFFFFFFFFF/view?usp=sharing");
    CHECK_STR(r.rows[1].name, "Tomás Ruiz");
    CHECK_STR(r.rows[1].links[0], "https://drive.google.com/uc?id=EEEEEEEEEEEE&export=download");
    CHECK_STR(r.rows[2].name, "TRUE");
    CHECK_EQ_INT(r.rows[2].n_links, 0);
    pl_roster_free(&r);
    tmpdir_rm(dir);
    free(dir);
}

TEST(roster_ods)
{
    char *dir = tmpdir_new(), path[512];
    snprintf(path, sizeof path, "%s/c.ods", dir);
    const char *content =
        "<?xml version=\"1.0\"?><office:document-content "
        "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
        "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "
        "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\"><office:body><office:spreadsheet>"
        "<table:table table:name=\"Alumnos\">"
        "<table:table-row><table:table-cell><text:p>Apellidos y nombres</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated=\"2\"/><table:table-cell><text:p>Foto</text:p></table:table-cell></table:table-row>"
        "<table:table-row table:number-rows-repeated=\"3\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>"
        "<table:table-row><table:table-cell><text:p>Quispe<text:s text:c=\"2\"/>Rosa</text:p></table:table-cell>"
        "<table:table-cell table:number-columns-repeated=\"2\"/><table:table-cell><text:p><text:a xlink:href=\"https://drive.google.com/open?id=GGGGGGGGGGGG\">foto</text:a></text:p></table:table-cell></table:table-row>"
        "<table:table-row><table:table-cell><text:p>Mamani Luis</text:p></table:table-cell><table:table-cell table:number-columns-repeated=\"2\"/>"
        "<table:table-cell table:formula=\"of:=HYPERLINK(&quot;https://x.org/l.jpg&quot;;&quot;l&quot;)\"><text:p>l</text:p></table:table-cell></table:table-row>"
        "<table:table-row table:number-rows-repeated=\"1048000\"><table:table-cell/></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>";
    const char *names[] = {"mimetype", "content.xml", NULL};
    const char *texts[] = {"application/vnd.oasis.opendocument.spreadsheet", content, NULL};
    CHECK(write_zip(path, names, texts));
    pl_roster r;
    pl_error e = {0};
    CHECK_MSG(pl_roster_read(path, NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_STR(r.sheet, "Alumnos");
    CHECK_EQ_INT(r.n_rows, 2);
    CHECK_STR(r.rows[0].name, "Quispe Rosa");
    CHECK_EQ_INT(r.rows[0].row, 5);
    CHECK_STR(r.rows[0].links[0], "https://drive.google.com/open?id=GGGGGGGGGGGG");
    CHECK_STR(r.rows[1].links[0], "https://x.org/l.jpg");
    pl_roster_free(&r);
    tmpdir_rm(dir);
    free(dir);
}

TEST(roster_bad_spreadsheets)
{
    char *dir = tmpdir_new(), path[512];
    pl_roster r;
    pl_error e = {0};
    /* corrupt zip: a real xlsx cut in half */
    snprintf(path, sizeof path, "%s/cut.xlsx", dir);
    make_excel_book(path, 0);
    uint8_t *data;
    size_t len;
    CHECK(pl_read_file(path, 1 << 20, &data, &len, NULL) == PL_OK);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len / 2, f);
    fclose(f);
    free(data);
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "corrupt zip");
    /* an empty sheet */
    snprintf(path, sizeof path, "%s/empty.xlsx", dir);
    CHECK(write_xlsx_raw(path, "<sheetData/>", NULL, NULL));
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "empty");
    /* no name column */
    CHECK(write_xlsx_raw(path, "<sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>Foto</t></is></c></row>"
                               "<row r=\"2\"><c t=\"inlineStr\"><is><t>https://x.org/a.jpg</t></is></c></row></sheetData>",
                         NULL, NULL));
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no name column");
    /* broken XML, and a billion-laughs entity bomb */
    CHECK(write_xlsx_raw(path, "<sheetData><row><c></row></sheetData>", NULL, NULL));
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "xl/worksheets/sheet1.xml: line 1");
    /* a zip that is neither */
    snprintf(path, sizeof path, "%s/x.zip", dir);
    const char *n1[] = {"a.txt", NULL}, *t1[] = {"hola", NULL};
    CHECK(write_zip(path, n1, t1));
    CHECK(pl_roster_read(path, NULL, &r, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "neither .xlsx");
    tmpdir_rm(dir);
    free(dir);
}

TEST(roster_zip_bomb)
{
    char *dir = tmpdir_new(), path[512];
    snprintf(path, sizeof path, "%s/bomb.xlsx", dir);
    size_t big = 40u << 20; /* 40 MiB of spaces deflate to ~40 KiB */
    char *spaces = malloc(big + 64);
    memset(spaces, ' ', big);
    strcpy(spaces + big, "<sheetData/>");
    CHECK(write_xlsx_raw(path, "<sheetData/>", NULL, NULL));
    int ze;
    zip_t *z = zip_open(path, 0, &ze);
    CHECK(z);
    zip_source_t *s = zip_source_buffer(z, spaces, strlen(spaces), 0);
    CHECK(zip_file_add(z, "xl/worksheets/sheet1.xml", s, ZIP_FL_OVERWRITE) >= 0);
    CHECK(zip_close(z) == 0);
    free(spaces);
    CHECK(pl_file_size(path) < (1 << 20));
    pl_roster r;
    pl_error e = {0};
    CHECK(pl_roster_read(path, NULL, &r, &e) != PL_OK);
    CHECK_CONTAINS(e.msg, "zip bomb");
    pl_roster_options o = {.max_file_bytes = 1 << 20}; /* and the plain size cap */
    CHECK(pl_roster_read(path, &o, &r, &e) == PL_ERR_NOMEM);
    CHECK_CONTAINS(e.msg, "over the limit");
    tmpdir_rm(dir);
    free(dir);
}

TEST(roster_sniff_and_confirm_page)
{
    CHECK(pl_content_sniff((const uint8_t *)"\xFF\xD8\xFF\xE0", 4) == PL_CONTENT_JPEG);
    CHECK(pl_content_sniff((const uint8_t *)"\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24) == PL_CONTENT_HEIF);
    CHECK(pl_content_sniff((const uint8_t *)"\0\0\0\x18" "ftypmp42\0\0\0\0isommp42", 24) != PL_CONTENT_HEIF);
    CHECK(pl_content_sniff((const uint8_t *)"GIF89a....", 10) == PL_CONTENT_GIF);
    CHECK(pl_content_sniff((const uint8_t *)"\n  <!DOCTYPE html><html>", 24) == PL_CONTENT_HTML);
    const char *page = "<html><body><form id=\"download-form\" action=\"https://drive.usercontent.google.com/download\" method=\"get\">"
                       "<input type=\"submit\" value=\"Download anyway\"/><input type=\"hidden\" name=\"id\" value=\"ABCDEFGHIJKL\">"
                       "<input type=\"hidden\" name=\"export\" value=\"download\"><input type=\"hidden\" name=\"confirm\" value=\"t\">"
                       "<input type=\"hidden\" name=\"uuid\" value=\"a b&amp;c\"></form></body></html>";
    char url[2048];
    CHECK(pl_drive_confirm_url(page, strlen(page), "https://drive.google.com/uc?id=x", url, sizeof url));
    CHECK_STR(url, "https://drive.usercontent.google.com/download?id=ABCDEFGHIJKL&export=download&confirm=t&uuid=a%20b%26c");
    const char *old = "<html><a id=\"uc-download-link\" href=\"/uc?export=download&amp;confirm=XyZ1&amp;id=ABCDEFGHIJKL\">Download anyway</a></html>";
    CHECK(pl_drive_confirm_url(old, strlen(old), "http://127.0.0.1:5/uc?id=ABCDEFGHIJKL", url, sizeof url));
    CHECK_STR(url, "http://127.0.0.1:5/uc?export=download&confirm=XyZ1&id=ABCDEFGHIJKL");
    const char *signin = "<html><head><title>Google Drive: Sign-in</title></head><a href=\"https://accounts.google.com/ServiceLogin\">";
    CHECK(!pl_drive_confirm_url(signin, strlen(signin), "http://h/", url, sizeof url));
    CHECK(pl_html_is_signin(signin, strlen(signin)));
}

/* A short, deterministic fuzz smoke run (the libFuzzer targets in fuzz/ run
 * for real with `make fuzz`): every seed, then truncations and random byte
 * flips of it, through the readers and the roster builder. Under `make asan`
 * this catches out-of-bounds reads and leaks in the paths fuzzing found. */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void smoke_one(const uint8_t *d, size_t n, int zip)
{
    pl_book b;
    pl_roster r;
    if ((zip ? pl_book_read_mem(d, n, "smoke", 1 << 20, &b, NULL) : pl_csv_read_mem(d, n, "smoke", &b, NULL)) != PL_OK)
        return;
    if (pl_roster_from_book(&b, NULL, "smoke", &r, NULL) == PL_OK) pl_roster_free(&r);
    pl_book_free(&b);
}

static int smoke_dir(const char *dir, int zip)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int files = 0;
    uint32_t seed = 12345;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        uint8_t *data;
        size_t len;
        if (pl_read_file(path, 1 << 20, &data, &len, NULL) != PL_OK) continue;
        files++;
        uint8_t *m = malloc(len + 1);
        for (size_t cut = 0; cut < len; cut += 1 + len / 64) smoke_one(data, cut, zip);
        for (int it = 0; it < 300; it++) {
            memcpy(m, data, len);
            for (int k = 0; k < 1 + (int)(rng_next(&seed) % 4); k++) m[rng_next(&seed) % len] = (uint8_t)rng_next(&seed);
            smoke_one(m, len, zip);
        }
        free(m);
        free(data);
    }
    closedir(d);
    return files;
}

TEST(roster_fuzz_smoke)
{
    int n = smoke_dir("fuzz/seeds/xlsx", 1) + smoke_dir("fuzz/seeds/csv", 0);
    if (!n) SKIP("fuzz/seeds not found (run from the repository root)");
    CHECK(n >= 6);
}

TEST(roster_headers_latam)
{
    char *dir = tmpdir_new();
    pl_roster r;
    pl_error e = {0};
    CHECK_MSG(read_text(dir, "l.csv",
                        "N°,APELLIDO PATERNO,APELLIDO MATERNO,NOMBRES,DNI,SEXO,Dirección de correo electrónico,Sube tu foto de frente\n"
                        "1,Quispe,Mamani,Rosa Elena,71234567,F,rosa@x.pe,https://drive.google.com/open?id=AAAAAAAAAAAA\n",
                        NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_STR(r.rows[0].name, "Rosa Elena Quispe Mamani");
    CHECK_STR(r.rows[0].student_id, "71234567");
    CHECK_STR(r.rows[0].gender, "F");
    CHECK_STR(r.rows[0].email, "rosa@x.pe");
    pl_roster_free(&r);
    CHECK_MSG(read_text(dir, "g.csv",
                        "Timestamp,Email Address,Full name,Student ID,Upload a clear photo of your face\n"
                        "x,a@b.c,Ann Lee,S-9,https://drive.google.com/open?id=BBBBBBBBBBBB\n",
                        NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_STR(r.rows[0].name, "Ann Lee");
    CHECK_STR(r.rows[0].student_id, "S-9");
    CHECK_STR(r.name_header, "Full name");
    pl_roster_free(&r);
    tmpdir_rm(dir);
    free(dir);
}

/* A "Fotos" header merged over two columns: both are photo columns. */
TEST(roster_xlsx_merged_photo_header)
{
    char *dir = tmpdir_new(), path[512];
    snprintf(path, sizeof path, "%s/m.xlsx", dir);
    CHECK(write_xlsx_raw(path,
                         "<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Alumno</t></is></c>"
                         "<c r=\"B1\" t=\"inlineStr\"><is><t>Fotos</t></is></c></row>"
                         "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Iván</t></is></c>"
                         "<c r=\"B2\" t=\"inlineStr\"><is><t>https://x.org/1.jpg</t></is></c>"
                         "<c r=\"C2\" t=\"inlineStr\"><is><t>https://x.org/2.jpg</t></is></c></row></sheetData>"
                         "<mergeCells count=\"1\"><mergeCell ref=\"B1:C1\"/></mergeCells>",
                         NULL, NULL));
    pl_roster r;
    pl_error e = {0};
    CHECK_MSG(pl_roster_read(path, NULL, &r, &e) == PL_OK, "%s", e.msg);
    CHECK_STR(r.rows[0].name, "Iván");
    CHECK_EQ_INT(r.rows[0].n_links, 2);
    CHECK_STR(r.rows[0].links[1], "https://x.org/2.jpg");
    pl_roster_free(&r);
    tmpdir_rm(dir);
    free(dir);
}
