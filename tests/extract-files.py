#!/usr/bin/env python3
"""extract-files.py DIR: writes the office files tests/extract.t.sh reads:
a .docx, .odt, .odp, .pptx, .xlsx with known words, a .docx whose XML has a
DOCTYPE with entities (billion laughs), a zip bomb named .docx (word/
document.xml inflating to 1 GiB of zeros), a zip that is no office file, a .docx
whose member inflates past the size its headers declare, and a Latin-1
text file. Standard library only."""
import os
import struct
import sys
import zipfile

D = sys.argv[1]
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
ODF = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def z(name, members, odf_type=None):
    with zipfile.ZipFile(os.path.join(D, name), "w", zipfile.ZIP_DEFLATED) as f:
        if odf_type:
            f.writestr(zipfile.ZipInfo("mimetype"), odf_type)  # stored, first
        for n, data in members:
            f.writestr(n, data)


def docx_xml(body):
    return '<?xml version="1.0" encoding="UTF-8"?><w:document %s><w:body>%s</w:body></w:document>' % (W, body)


z("report.docx", [("[Content_Types].xml", CT), ("word/document.xml", docx_xml(
    '<w:p><w:r><w:t>Cēsis culture</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">toolkit </w:t></w:r></w:p>'
    '<w:p><w:r><w:t>municipalitiesword</w:t></w:r><w:r><w:instrText>HIDDENFIELD</w:instrText></w:r></w:p>'))])
z("notes.odt", [("content.xml",
                 '<?xml version="1.0" encoding="UTF-8"?><office:document-content %s>'
                 '<office:automatic-styles><text:p>STYLEONLY</text:p></office:automatic-styles>'
                 '<office:body><office:text><text:h>Peipsiääre heading</text:h>'
                 '<text:p>odtword<text:s/>here<text:line-break/>next</text:p></office:text></office:body>'
                 '</office:document-content>' % ODF)],
  "application/vnd.oasis.opendocument.text")
z("slides.odp", [("content.xml",
                  '<?xml version="1.0"?><office:document-content %s><office:body><office:presentation>'
                  '<draw:page><text:p>firstslideword</text:p></draw:page>'
                  '<draw:page><text:p>secondslideword</text:p></draw:page>'
                  '</office:presentation></office:body></office:document-content>' % ODF)],
  "application/vnd.oasis.opendocument.presentation")
slide = '<?xml version="1.0"?><p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" %s><a:p><a:r><a:t>%s</a:t></a:r></a:p></p:sld>'
z("deck.pptx", [("[Content_Types].xml", CT), ("ppt/presentation.xml", "<p/>"),
                ("ppt/slides/slide1.xml", slide % (A, "pptxone")),
                ("ppt/slides/slide2.xml", slide % (A, "pptxtwo"))])
z("sheet.xlsx", [("[Content_Types].xml", CT), ("xl/workbook.xml", "<w/>"),
                 ("xl/sharedStrings.xml",
                  '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                  '<si><t>xlsxcell</t></si><si><t>Białystok</t></si></sst>')])
laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i else "&lol;") * 10) for i in range(1, 10))
          + ']><w:document %s><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>' % W)
z("laughs.docx", [("[Content_Types].xml", CT), ("word/document.xml", laughs)])
z("plain.zip", [("readme.txt", "just a zip")])

# the bomb: 1 GiB of zeros deflated to about 1 MiB, streamed
with zipfile.ZipFile(os.path.join(D, "bomb.docx"), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as f:
    f.writestr("[Content_Types].xml", CT)
    with f.open("word/document.xml", "w", force_zip64=True) as m:
        chunk = b"\0" * (1 << 20)
        for _ in range(1024):
            m.write(chunk)

# a liar: word/document.xml inflates to 4 MiB but its headers say 200 bytes
body = docx_xml('<w:p><w:r><w:t>%s</w:t></w:r></w:p>' % ("x" * (4 << 20))).encode()
z("liar.docx", [("[Content_Types].xml", CT), ("word/document.xml", body)])
with open(os.path.join(D, "liar.docx"), "r+b") as f:
    data = bytearray(f.read())
    real, n = struct.pack("<I", len(body)), 0
    i = data.find(real)
    while i >= 0:  # the local header and the central directory
        data[i:i + 4] = struct.pack("<I", 200)
        n += 1
        i = data.find(real, i + 4)
    assert n == 2, n
    f.seek(0)
    f.write(data)

with open(os.path.join(D, "latin1.txt"), "wb") as f:
    f.write("caf\u00e9 na\u00efve S\u00f8r\u00f8\n".encode("latin-1"))
