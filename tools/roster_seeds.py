#!/usr/bin/python3
"""roster_seeds.py — write the synthetic seed files for fuzz/fuzz_xlsx and
fuzz/fuzz_csv (fuzz/seeds/xlsx, fuzz/seeds/csv). Python stdlib only; every
name and link is made up."""
import os, sys, zipfile

here = os.path.dirname(os.path.abspath(__file__))
seeds = os.path.join(here, "..", "fuzz", "seeds")
NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
RELNS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'

def xlsx(path, sheet, sst=None, rels=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", f'<workbook {NS}><sheets><sheet name="Hoja 1" sheetId="1" r:id="rId1"/>'
                   f'<sheet name="Otra" sheetId="2" r:id="rId2"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships {RELNS}><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                   f'<Relationship Id="rId2" Target="/xl/worksheets/sheet2.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {NS}>{sheet}</worksheet>')
        z.writestr("xl/worksheets/sheet2.xml", f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
        if sst is not None:
            z.writestr("xl/sharedStrings.xml", f'<sst {NS}>{sst}</sst>')
        if rels is not None:
            z.writestr("xl/worksheets/_rels/sheet1.xml.rels", f'<Relationships {RELNS}>{rels}</Relationships>')

def main():
    os.makedirs(os.path.join(seeds, "xlsx"), exist_ok=True)
    os.makedirs(os.path.join(seeds, "csv"), exist_ok=True)
    x = lambda n: os.path.join(seeds, "xlsx", n)
    xlsx(x("shared.xlsx"),
         '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>4</v></c></row>'
         '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>17</v></c></row></sheetData>'
         '<mergeCells count="1"><mergeCell ref="B1:C1"/></mergeCells><hyperlinks><hyperlink ref="B2" r:id="rId1"/></hyperlinks>',
         '<si><t>Nombre completo</t></si><si><t>Foto</t></si><si><r><t>Ana </t></r><r><t>Pérez</t></r><rPh sb="0" eb="1"><t>a</t></rPh></si>'
         '<si><t>ver</t></si><si><t>Código</t></si>',
         '<Relationship Id="rId1" Target="https://drive.google.com/file/d/AAAAAAAAAAAA/view" TargetMode="External"/>')
    xlsx(x("inline.xlsx"),
         '<sheetData><row><c t="inlineStr"><is><t>Nombres</t></is></c><c t="inlineStr"><is><t>Apellidos</t></is></c>'
         '<c t="inlineStr"><is><t>Fotografía</t></is></c></row><row r="3"><c t="inlineStr"><is><t>Luz</t></is></c>'
         '<c t="inlineStr"><is><t>Díaz</t></is></c><c t="str"><f>HYPERLINK("https://drive.google.com/open?id=BBBBBBBBBBBB","f")</f><v>f</v></c></row>'
         '<row r="4"><c r="A4" t="b"><v>1</v></c><c r="C4" t="inlineStr"><is><t>https://x.org/a.jpg, https://x.org/b.png</t></is></c></row></sheetData>')
    with zipfile.ZipFile(x("content.ods"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("content.xml",
                   '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                   'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                   'xmlns:xlink="http://www.w3.org/1999/xlink"><office:body><office:spreadsheet><table:table table:name="A">'
                   '<table:table-row><table:table-cell><text:p>Name</text:p></table:table-cell><table:table-cell><text:p>Photo</text:p></table:table-cell></table:table-row>'
                   '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="4"/></table:table-row>'
                   '<table:table-row><table:table-cell><text:p>Bo<text:s text:c="2"/>Li</text:p></table:table-cell><table:table-cell>'
                   '<text:p><text:a xlink:href="https://drive.google.com/uc?id=CCCCCCCCCCCC">x</text:a></text:p></table:table-cell></table:table-row>'
                   '</table:table></office:spreadsheet></office:body></office:document-content>')
    c = lambda n, t: open(os.path.join(seeds, "csv", n), "wb").write(t)
    c("comma.csv", b'Nombre completo,Correo,Foto\n"P\xc3\xa9rez, Ana",a@x.org,https://drive.google.com/open?id=AAAAAAAAAAAA\n')
    c("semicolon_bom.csv", b'\xef\xbb\xbfNombres;Apellidos;G\xc3\xa9nero;Enlace\r\nLuis;"G\xc3\xb3mez\r\nSoto";M;"https://drive.google.com/file/d/BBBBBBBBBBBB/view, https://x.org/c.jpg"\r\n;;;\r\n')
    c("tab_cp1252.csv", b'Name\tPhoto\tStudent ID\nJos\xe9\thttps://docs.google.com/uc?id=DDDDDDDDDDDD\t7\n')
    c("confirm.html", b'<html><form id="download-form" action="/download"><input type="hidden" name="id" value="AAAAAAAAAAAA">'
                      b'<input type="hidden" name="confirm" value="t"></form><a href="/uc?confirm=x&amp;id=y">a</a> accounts.google.com</html>')

if __name__ == "__main__":
    main()
