#!/usr/bin/env bash
# Diff benchmark: `slip diff A B` against the reference
# `diff <(slip snapshot dump A) <(slip snapshot dump B) > /dev/null`, in the
# same run, on two folds of $BENCH_KEYS keys (default 1,000,000) that differ
# in 1% of their keys, for each backend.
#
#   bench/diff_bench.sh                   # folds in /tmp/slip-diff-bench, deleted afterwards
#   BENCH_KEEP=1 BENCH_RUNS=5 bench/diff_bench.sh
#   BENCH_KEYS=100000 bench/diff_bench.sh # a quicker run
#
# Each command runs $BENCH_RUNS times (default 3) after one untimed run that
# warms the page cache; the best wall time counts. RSS is the largest
# "maximum resident set size" of the runs, from /usr/bin/time (for the
# reference: its largest process). "log, random order" is the same pair of
# folds written in scrambled key order, the indexed path of slip diff (not
# a target, for information).
set -euo pipefail
cd "$(dirname "$0")/.."

bench_dir="${BENCH_DIR:-/tmp/slip-diff-bench}"
runs="${BENCH_RUNS:-3}"
keys="${BENCH_KEYS:-1000000}"

. bench/lib.sh
bench_build slip make_fold
slip="${BENCH_SLIP:-$PWD/$build/slip}"
make_fold="$PWD/$build/bench/make_fold"

bench_inputs "$bench_dir" a.snap b.snap a-random.snap b-random.snap a.ldb b.ldb

# generate NAME ARGS...: makes $bench_dir/NAME unless it is there.
generate() {
  local name="$1"
  shift
  [ -e "$bench_dir/$name" ] || "$make_fold" --out "$bench_dir/$name" --keys "$keys" "$@"
}
generate a.snap --backend log
generate b.snap --backend log --changed 0.01
generate a-random.snap --backend log --order random
generate b-random.snap --backend log --order random --changed 0.01
generate a.ldb --backend leveldb
generate b.ldb --backend leveldb --changed 0.01


# measure EXPECTED_EXIT CMD...: one untimed run, then best_of.
measure() {
  "${@:2}" >/dev/null || true
  best_of "$@"
}

# The reference pipeline, as a command /usr/bin/time can run.
reference=(bash -c 'diff <("$0" snapshot dump "$1") <("$0" snapshot dump "$2") >/dev/null' "$slip")

printf '%-20s %9s %8s %8s %7s %8s %8s  %s\n' fold keys "slip s" "ref s" faster \
  "RSS MiB" "ref MiB" "target (>= 5x and < 2 s)"
row() { # LABEL A B TARGET(yes/no)
  local label="$1" a="$2" b="$3" target="$4" slip_s slip_rss ref_s ref_rss lines
  lines=$("$slip" diff "$a" "$b" | wc -l || true)
  if [ "$lines" != "$((keys / 100))" ]; then
    echo "diff_bench: slip diff printed $lines lines, expected $((keys / 100))" >&2
    exit 1
  fi
  measure 1 "$slip" diff "$a" "$b"
  slip_s=$best_s
  slip_rss=$rss_kib
  measure 1 "${reference[@]}" "$a" "$b"
  ref_s=$best_s
  ref_rss=$rss_kib
  awk -v l="$label" -v k="$keys" -v s="$slip_s" -v r="$ref_s" -v m="$slip_rss" -v n="$ref_rss" \
    -v t="$target" 'BEGIN {
      x = r / s
      verdict = t == "yes" ? ((x >= 5 && s < 2) ? "met" : "MISSED") : "-"
      printf "%-20s %9d %8.3f %8.3f %6.1fx %8.1f %8.1f  %s\n", l, k, s, r, x, m / 1024, n / 1024, verdict
    }'
}

row "log (canonical)" "$bench_dir/a.snap" "$bench_dir/b.snap" yes
row "leveldb" "$bench_dir/a.ldb" "$bench_dir/b.ldb" yes
row "log, random order" "$bench_dir/a-random.snap" "$bench_dir/b-random.snap" no
