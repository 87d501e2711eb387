#!/usr/bin/env python3
# gen-negentropy.py: writes tests/vectors/negentropy.txt, the expected
# Negentropy v1 message traces that tests/test_negentropy.c replays. The
# item sets come from a formula (below) and are written into the file, so
# that the file alone is enough to replay the traces; the
# messages come from any harness speaking the reference test suite's line
# protocol, e.g. the reference C++ implementation's test harness:
#   python3 gen-negentropy.py CMD > negentropy.txt
# (CMD is run with /bin/sh -c; FRAMESIZELIMIT is set per case.)
import hashlib, os, subprocess, sys

# name, universe size, timestamp rule, frame size limit (both sides)
CASES = [
    ("empty", 0, "spread", 0),
    ("one", 1, "spread", 0),
    ("small", 40, "spread", 0),
    ("spread1000", 1000, "spread", 0),
    ("sameTs3000", 3000, "clustered", 0),
    ("limit6000", 6000, "spread", 4096),
    ("limitSameTs6000", 6000, "clustered", 5000),
]

def item(i, rule):
    # ts: "spread" = 1677970534 + (i * 7919) % 5003; "clustered" = 1000 + i // 40
    ts = 1677970534 + (i * 7919) % 5003 if rule == "spread" else 1000 + i // 40
    ident = hashlib.sha256(b"hansa-ne" + i.to_bytes(4, "little")).hexdigest()
    return ts, ident

def in_a(i): return i % 7 != 3    # A lacks every 7th item (from 3)
def in_b(i): return i % 11 != 5   # B lacks every 11th item (from 5)

HEADER = """\
# Negentropy v1 traces (tests/vectors/gen-negentropy.py); per case:
# case NAME N RULE LIMIT (LIMIT: both sides' frame size limit, 0 = none;
#   N and RULE: how the generator made the items),
# then the items, one a line: item TIMESTAMP ID-HEX SIDES
#   (SIDES: a = only the initiator holds it, b = only the responder, ab = both),
# then the messages in order, one a line:
# i|r (initiator|responder) LENGTH SHA-256(message) [HEX, when under 400 bytes]
# end: the initiator is done; it found have = the a items, need = the b items.
"""

def start(cmd, limit):
    env = dict(os.environ)
    env.pop("FRAMESIZELIMIT", None)
    if limit: env["FRAMESIZELIMIT"] = str(limit)
    return subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)

def show(who, hexmsg):
    m = bytes.fromhex(hexmsg)
    extra = " " + hexmsg if len(m) < 400 else ""
    print(f"{who} {len(m)} {hashlib.sha256(m).hexdigest()}{extra}")

def main():
    cmd = sys.argv[1]
    print(HEADER, end="")
    for name, n, rule, limit in CASES:
        a, b = start(cmd, limit), start(cmd, limit)
        for i in range(n):
            ts, ident = item(i, rule)
            if in_a(i): a.stdin.write(f"item,{ts},{ident}\n")
            if in_b(i): b.stdin.write(f"item,{ts},{ident}\n")
        a.stdin.write("seal\ninitiate\n"); a.stdin.flush()
        b.stdin.write("seal\n"); b.stdin.flush()
        print(f"case {name} {n} {rule} {limit}")
        for i in range(n):
            ts, ident = item(i, rule)
            sides = ("a" if in_a(i) else "") + ("b" if in_b(i) else "")
            if sides:
                print(f"item {ts} {ident} {sides}")
        while True:
            line = a.stdout.readline().strip()
            if line.startswith(("have,", "need,")): continue
            if line == "done": break
            assert line.startswith("msg,"), line
            show("i", line[4:])
            b.stdin.write(line + "\n"); b.stdin.flush()
            line = b.stdout.readline().strip()
            assert line.startswith("msg,"), line
            show("r", line[4:])
            a.stdin.write(line + "\n"); a.stdin.flush()
        print("end")
        for p in (a, b):
            p.stdin.close(); p.wait()

main()
