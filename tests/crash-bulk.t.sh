#!/usr/bin/env bash
# crash-bulk.t.sh: crash.t.sh on the bulk path of `hansa import`: large
# transactions (--batch 4000, each written by the writer thread while the
# next is signed) and the compaction at the end of every run (--compact
# always), killed with SIGKILL at random moments, also while the data file
# is being copied or renamed. After every kill fsck is clean and every line
# reported committed is in the store.
# 30,000 lines: most of a run of 12,000 was the wait for its first commit.
# Environment: as crash.t.sh (HX_CRASH_LINES default 30000, HX_CRASH_KILLS 12).
export HX_CRASH_IMPORT_ARGS="--batch 4000 --compact always"
export HX_CRASH_LINES=${HX_CRASH_LINES:-30000}
export HX_CRASH_KILLS=${HX_CRASH_KILLS:-12}
exec bash "$(dirname "$0")/crash.t.sh"
