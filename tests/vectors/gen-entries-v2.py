#!/usr/bin/env python3
"""Format 2 entry vectors (docs/FORMAT.md §1.7) for tests/vectors/entries.txt.

An encoder written apart from the C code: its own canonical CBOR, Ed25519
from Python's `cryptography` (OpenSSL), BLAKE2b from hashlib. Prints the
vectors; the C test signs the same fields and must produce the same bytes.
"""
import hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

CHUNK = 256 * 1024


def head(major, v):
    if v < 24:
        return bytes([major << 5 | v])
    for extra, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if v < 1 << (8 * n):
            return bytes([major << 5 | extra]) + v.to_bytes(n, "big")


def uint(v):
    return head(0, v)


def bstr(b):
    return head(2, len(b)) + b


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


def meta_map(pairs):
    pairs = sorted(pairs, key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
    return head(5, len(pairs)) + b"".join(text(k) + text(v) for k, v in pairs)


def pub(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    return sk, sk.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)


def blob_hash(data):
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    h = hashlib.blake2b(digest_size=32)
    h.update(len(data).to_bytes(8, "big"))
    for c in chunks:
        h.update(hashlib.blake2b(c, digest_size=32).digest())
    return h.digest()


def entry(v):
    _, author = pub(bytes.fromhex(v["author-seed"] if "author-seed" in v else v["seed"]))
    sk, signer = pub(bytes.fromhex(v["seed"]))
    extra = []
    if signer != author:
        extra.append(uint(10) + bstr(signer))
    atts = [a.split("|") for a in v.get("attach", "").split(";") if a]
    if atts:
        body = b"".join(head(5, 4) + uint(0) + text(n) + uint(1) + uint(int(s)) + uint(2) +
                        text(t) + uint(3) + bstr(bytes.fromhex(h)) for n, s, t, h in atts)
        extra.append(uint(11) + head(4, len(atts)) + body)
    tags = [t for t in v["tags"].split(",") if t]
    meta = [m.split("=", 1) for m in v["meta"].split(";") if m]
    fields = (head(5, 10 + len(extra)) + uint(0) + uint(2 if extra else 1) +
              uint(1) + bstr(author) + uint(2) + text(v["path"]) +
              uint(3) + uint(int(v["timestamp"])) + uint(4) + text(v["kind"]) +
              uint(5) + text(v["title"]) + uint(6) + text(v["body"].replace("\\n", "\n")) +
              uint(7) + head(4, len(tags)) + b"".join(text(t) for t in tags) +
              uint(8) + text(v["lang"]) + uint(9) + meta_map(meta) + b"".join(extra))
    eid = hashlib.blake2b(fields, digest_size=32).digest()
    sig = sk.sign(eid)
    return b"\x82" + fields + bstr(sig), eid, sig


ORG = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
LAPTOP = "11" * 32
PATTERN = bytes(i % 251 for i in range(300000))
BH = blob_hash(PATTERN).hex()

print("# Format 2 (docs/FORMAT.md §1.7), from tests/vectors/gen-entries-v2.py.")
print("# author-seed: the organisation whose entry a device (seed) signs;")
print("# attach: name|size|type|hash;... in the order given.")
print("# blob: the hash of 300,000 bytes i % 251 (two chunks), see §1.7.")
print("blob: 300000 " + BH)
vectors = [
    {"author-seed": ORG, "seed": LAPTOP, "path": "practices/innovation-brokerage",
     "timestamp": "1767225800000000", "kind": "practice",
     "title": "Innovation brokerage for SMEs", "body": "Second edition, from the office laptop.",
     "tags": "innovation,smes", "lang": "en", "meta": "org=Region Zealand"},
    {"seed": ORG, "path": "toolkits/culture-resilience", "timestamp": "1767225900000000",
     "kind": "toolkit", "title": "Culture-driven social resilience", "body": "The toolkit and its casebook.",
     "tags": "", "lang": "en", "meta": "",
     "attach": "toolkit.pdf|300000|application/pdf|" + BH +
               ";casebook.odt|0|application/vnd.oasis.opendocument.text|" + blob_hash(b"").hex()},
    {"author-seed": ORG, "seed": LAPTOP, "path": "toolkits/kultur",
     "timestamp": "1767226000000000", "kind": "toolkit", "title": "Kultur", "body": "",
     "tags": "", "lang": "de", "meta": "",
     "attach": "Werkzeugkasten für Kommunen.pdf|300000|application/pdf|" + BH},
]
for v in vectors:
    raw, eid, sig = entry(v)
    print()
    for k in ("author-seed", "attach", "seed", "path", "timestamp", "kind", "title", "body",
              "tags", "lang", "meta"):
        if k in v or k not in ("author-seed", "attach"):
            print("%s: %s" % (k, v.get(k, "")))
    print("bytes: " + raw.hex())
    print("id: " + eid.hex())
    print("sig: " + sig.hex())
