#!/usr/bin/env python3
# ftext-pad.py IN.pdf OUT.pdf MIB: OUT is IN with an incremental update that
# adds an image XObject of incompressible (random) bytes, so the file is
# about MIB MiB while its pages and text stay those of IN (tests/ftext.t.sh).
# Needs IN to end with a classic xref table and trailer (Skia's PDFs do).
import os, re, sys

src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
pdf = open(src, "rb").read()
trailer = pdf[pdf.rindex(b"trailer"):]
size = int(re.search(rb"/Size (\d+)", trailer).group(1))
root = re.search(rb"/Root (\d+ \d+ R)", trailer).group(1)
prev = int(re.search(rb"startxref\s+(\d+)", trailer).group(1))
side = int(((mib << 20) / 3) ** 0.5)
data = os.urandom(side * side * 3)
out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
off = len(out)
out += (b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d"
        b" /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n"
        % (size, side, side, len(data)))
out += data + b"\nendstream\nendobj\n"
x = len(out)
out += b"xref\n%d 1\n%010d 00000 n \n" % (size, off)
out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size + 1, root, prev, x)
open(dst, "wb").write(out)
