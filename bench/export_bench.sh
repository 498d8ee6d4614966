#!/usr/bin/env bash
# Export benchmark: `slip export` and `slip import` of a 1,000,000-key fold
# with JSON-like values (100-300 B, mean ~260 B; bench/make_json_fold.cc)
# through a file:// location, against `zstd -3 -T0` and `zstd -d` on the
# same uncompressed log in the same run (the reference).
#
#   bench/export_bench.sh                                  # 1,000,000 keys
#   BENCH_KEYS=200000 BENCH_RUNS=2 bench/export_bench.sh   # a quicker run
#
# Environment: BENCH_KEYS (default 1000000), BENCH_RUNS (default 3),
# BENCH_BUILD (default build-bench), BENCH_TMP (default /tmp).
#
# The fold is a canonical log (what the payload decompresses to), so its
# size is "the uncompressed log". Every command runs BENCH_RUNS times after
# one warm-up of the page cache; the best wall time counts, and the CPU
# column is user+system of that run. Each export goes to a fresh location
# (no reuse of a stored artifact); each import to a fresh path. The slip
# export of the log fold includes opening it (the log store replays the
# file into memory); the LevelDB fold (made by `slip import --backend
# leveldb`) opens without a replay, which is what a mirror exporting
# between commits pays. file:// fsyncs what it stores; zstd does not.
set -euo pipefail
cd "$(dirname "$0")/.."

keys="${BENCH_KEYS:-1000000}"
runs="${BENCH_RUNS:-3}"
build="${BENCH_BUILD:-build-bench}"

command -v zstd >/dev/null || { echo "export_bench: zstd not found: run scripts/install-deps" >&2; exit 2; }
cmake -S . -B "$build" -DSLIP_BUILD_BENCH=ON -DSLIP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target slip make_json_fold >/dev/null
slip="$PWD/$build/slip"

work=$(mktemp -d "${BENCH_TMP:-/tmp}/slip-export-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

"$OLDPWD/$build/bench/make_json_fold" --out fold.snap --keys "$keys"
log_bytes=$(stat -c %s fold.snap)
cat fold.snap >/dev/null

# best RUNS CMD...: runs CMD (a shell string) RUNS times with PREP before
# each; prints "wall cpu" of the fastest run.
best() {
  local prep="$1" cmd="$2" best_wall="" best_cpu=""
  for _ in $(seq "$runs"); do
    eval "$prep"
    /usr/bin/time -f "%e %U %S" -o t.txt bash -c "$cmd" >/dev/null
    read -r wall user sys < t.txt
    if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then
      best_wall=$wall
      best_cpu=$(awk "BEGIN{print $user + $sys}")
    fi
  done
  echo "$best_wall $best_cpu"
}

read -r zc_wall zc_cpu < <(best "rm -f ref.zst" "zstd -3 -T0 -q -c fold.snap > ref.zst")
ref_bytes=$(stat -c %s ref.zst)
read -r zd_wall zd_cpu < <(best ":" "zstd -d -q -c ref.zst > /dev/null")
read -r ex_wall ex_cpu < <(best "rm -rf exp" "'$slip' export --from fold.snap --bucket bench --to file://$work/exp")
payload_bytes=$(stat -c %s exp/bench/artifacts/*.pgss.zst)
read -r im_wall im_cpu < <(best "rm -rf imp.snap imp.snap.lock" "'$slip' import file://$work/exp --to imp.snap")
cmp -s fold.snap imp.snap || { echo "export_bench: imported fold differs from the source" >&2; exit 1; }
"$slip" import "file://$work/exp" --to ldb --backend leveldb >/dev/null
read -r el_wall el_cpu < <(best "rm -rf expl" "'$slip' export --from ldb --bucket bench --to file://$work/expl")
read -r il_wall il_cpu < <(best "rm -rf impl" "'$slip' import file://$work/exp --to impl --backend leveldb")

mbs() { awk "BEGIN{printf \"%.0f\", $log_bytes / $1 / 1e6}"; }
pct() { awk "BEGIN{printf \"%.0f%%\", 100 * $1 / $2}"; }
echo
echo "fold: $keys keys, $log_bytes bytes uncompressed (canonical PGSS v2 log); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %8s %8s %8s %10s\n' step "wall s" "cpu s" "MB/s" "vs zstd"
printf '%-36s %8s %8s %8s %10s\n' "zstd -3 -T0 (reference)" "$zc_wall" "$zc_cpu" "$(mbs "$zc_wall")" ""
printf '%-36s %8s %8s %8s %10s\n' "slip export --from log fold" "$ex_wall" "$ex_cpu" "$(mbs "$ex_wall")" "$(pct "$zc_wall" "$ex_wall")"
printf '%-36s %8s %8s %8s %10s\n' "slip export --from leveldb fold" "$el_wall" "$el_cpu" "$(mbs "$el_wall")" "$(pct "$zc_wall" "$el_wall")"
printf '%-36s %8s %8s %8s %10s\n' "zstd -d (reference)" "$zd_wall" "$zd_cpu" "$(mbs "$zd_wall")" ""
printf '%-36s %8s %8s %8s %10s\n' "slip import --to log" "$im_wall" "$im_cpu" "$(mbs "$im_wall")" "$(pct "$zd_wall" "$im_wall")"
printf '%-36s %8s %8s %8s %10s\n' "slip import --to leveldb" "$il_wall" "$il_cpu" "$(mbs "$il_wall")" "$(pct "$zd_wall" "$il_wall")"
echo
echo "payload: $payload_bytes bytes = $(pct "$payload_bytes" "$log_bytes") of the log (target <= 40%); zstd -3 -T0: $ref_bytes bytes"
echo "export vs zstd -3 -T0: $(pct "$zc_wall" "$ex_wall") (log fold), $(pct "$zc_wall" "$el_wall") (leveldb fold); target >= 80%"
