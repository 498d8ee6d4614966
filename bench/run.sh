#!/usr/bin/env bash
# Snapshot benchmarks: builds slip and make_snapshot into build-bench/,
# generates the files under $BENCH_DIR and prints one table.
#
#   bench/run.sh                      # files in /tmp/slip-bench, deleted afterwards
#   BENCH_DIR=/data/b BENCH_KEEP=1 bench/run.sh
#
# Throughput is file bytes / wall time in GB/s (10^9 bytes). Each command
# runs on a page-cached file (warmed by one untimed cat) and the best of
# $BENCH_RUNS runs (default 3) is reported; "cat" is `cat FILE > /dev/null`
# timed the same way in the same run. RSS is the largest "maximum resident
# set size" of the runs, from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

bench_dir="${BENCH_DIR:-/tmp/slip-bench}"
runs="${BENCH_RUNS:-3}"

. bench/lib.sh
bench_build slip make_snapshot
slip="$PWD/$build/slip"
make_snapshot="$PWD/$build/bench/make_snapshot"

bench_inputs "$bench_dir" v4k.snap r100.snap r100-random.snap r100-dead50.snap \
  r100-dead50.compact.snap

# generate NAME ARGS...: makes $bench_dir/NAME.snap unless it is there.
generate() {
  local name="$1"
  shift
  [ -f "$bench_dir/$name.snap" ] || "$make_snapshot" --out "$bench_dir/$name.snap" "$@" >&2
}


# measure CMD...: best_of runs of CMD, which must exit 0.
measure() { best_of 0 "$@"; }

rows=()
# verify_row LABEL FILE TARGET (ratio, gbs or none): times cat and verify on FILE, appends a table row.
verify_row() {
  local label="$1" file="$2" target="$3"
  local size cat_s verify_s verify_rss
  size=$(stat -c %s "$file")
  cat "$file" >/dev/null # warm the page cache
  measure cat "$file" # measure sends stdout to /dev/null
  cat_s=$best_s
  measure "$slip" snapshot verify "$file"
  verify_s=$best_s
  verify_rss=$rss_kib
  rows+=("$(awk -v l="$label" -v n="$size" -v c="$cat_s" -v v="$verify_s" -v r="$verify_rss" \
    -v t="$target" 'BEGIN {
      cat_gbs = n / c / 1e9; gbs = n / v / 1e9; ratio = c / v; rss = r / 1024
      verdict = "-"
      if (t == "ratio") verdict = (ratio >= 0.5 && rss < 64) ? "met" : "MISSED"
      if (t == "gbs") verdict = (gbs >= 1.5 && rss < 64) ? "met" : "MISSED"
      printf "%-34s %8.2f %9.3f %7.2f %8.2f %6.0f%% %8.1f  %s", l, n / 1e9, v, gbs, cat_gbs,
             100 * ratio, rss, verdict
    }')")
}

echo "generating files in $bench_dir (reused when present)" >&2
generate v4k --bytes 1G --value-size 4096 --order asc
generate r100 --records 10000000 --record-size 100 --order asc
generate r100-random --records 10000000 --record-size 100 --order random
generate r100-dead50 --records 10000000 --record-size 100 --order asc --dead-ratio 0.5

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "measuring (best of $runs runs each)" >&2
verify_row "verify 4 KiB values, 1 GiB" "$bench_dir/v4k.snap" ratio
verify_row "verify 10M x 100 B, ascending" "$bench_dir/r100.snap" gbs
verify_row "verify 10M x 100 B, random order" "$bench_dir/r100-random.snap" none
verify_row "verify 10M x 100 B, 50% dead" "$bench_dir/r100-dead50.snap" none

# Compaction of the 50%-dead file to a new file in the same directory (the
# output is fsynced, so this includes writing ~0.5 GB to disk).
dead="$bench_dir/r100-dead50.snap"
compacted="$bench_dir/r100-dead50.compact.snap"
cat "$dead" >/dev/null
rm -f "$compacted"
measure "$slip" snapshot compact "$dead" -o "$compacted"
compact_s=$best_s
compact_rss=$rss_kib
live=$("$slip" snapshot verify --json "$compacted" | sed -n 's/.*"live_keys":\([0-9]*\).*/\1/p')
rows+=("$(awk -v n="$(stat -c %s "$dead")" -v s="$compact_s" -v r="$compact_rss" 'BEGIN {
  printf "%-34s %8.2f %9.3f %7.2f %8s %7s %8.1f  %s", "compact 10M x 100 B, 50% dead", n / 1e9, s,
         n / s / 1e9, "", "", r / 1024, "-"
}')")

echo
printf '%-34s %8s %9s %7s %8s %7s %8s  %s\n' "benchmark" "GB" "time s" "GB/s" "cat GB/s" \
  "vs cat" "RSS MiB" "target"
printf '%s\n' "${rows[@]}"
echo
echo "compacted: $live live keys, $(stat -c %s "$compacted") bytes"
echo "targets: 4 KiB values >= 50% of cat; 100 B records >= 1.5 GB/s; RSS < 64 MiB for both"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load before: $load"
