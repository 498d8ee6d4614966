#!/usr/bin/env bash
# Export benchmark: `slip export` and `slip import` of a 1,000,000-key fold
# with JSON-like values (100-300 B, mean ~260 B; bench/make_json_fold.cc)
# through a file:// location, against `zstd -3 -T0` (the target's
# reference), `zstd -1 -T0` (the level slip compresses at by default) and
# `zstd -d` on the same uncompressed log in the same run.
#
#   bench/export_bench.sh                                  # 1,000,000 keys
#   BENCH_KEYS=200000 BENCH_RUNS=2 bench/export_bench.sh   # a quicker run
#
# Environment: BENCH_KEYS (default 1000000), BENCH_RUNS (default 5),
# BENCH_BUILD (default build-bench), BENCH_TMP (default /tmp).
#
# The fold is a canonical log (what the payload decompresses to), so its
# size is "the uncompressed log"; the mirror-shaped copy has 50 commits
# appended (its MB/s counts the same canonical bytes). Every command runs
# BENCH_RUNS times (interleaved with the others, below) after one warm-up
# of the page cache; the median wall time counts, and the CPU column is
# user+system of that run. Each export goes
# to a fresh location (no reuse of a stored artifact); each import to a
# fresh path. A log fold is exported from its file (passed through when
# canonical, the appended commits merged in otherwise); the LevelDB fold
# (made by `slip import --backend leveldb`, then compacted by
# bench/settle_leveldb) is scanned. file:// fsyncs what
# it stores; zstd does not.
set -euo pipefail
cd "$(dirname "$0")/.."

keys="${BENCH_KEYS:-1000000}"
runs="${BENCH_RUNS:-5}"

command -v zstd >/dev/null || { echo "export_bench: zstd not found: run scripts/install-deps" >&2; exit 2; }
. bench/lib.sh
bench_build slip make_json_fold settle_leveldb
slip="$PWD/$build/slip"
make_json_fold="$PWD/$build/bench/make_json_fold"
settle_leveldb="$PWD/$build/bench/settle_leveldb"

bench_workdir slip-export-bench
cd "$work"

"$make_json_fold" --out fold.snap --keys "$keys"
# The same fold as a running mirror leaves it: 50 commits (5,000 updates)
# appended since its last compaction.
"$make_json_fold" --out mirror.snap --keys "$keys" --commits 50 2>/dev/null
log_bytes=$(stat -c %s fold.snap)
cat fold.snap mirror.snap >/dev/null

# The steps, each a preparation and a command (shell strings). They run in
# BENCH_RUNS rounds, every step once per round, so that a reference and
# the command compared with it see the same moments of this machine
# (whose neighbours make single runs vary by 10-20%); each step's median
# wall time counts.
steps=(zc z1 zd ex e3 em el im il)
prep_zc="rm -f ref.zst";             cmd_zc="zstd -3 -T0 -q -c fold.snap > ref.zst"
prep_z1="rm -f ref1.zst";            cmd_z1="zstd -1 -T0 -q -c fold.snap > ref1.zst"
prep_zd=":";                         cmd_zd="zstd -d -q -c ref1.zst > /dev/null"
prep_ex="rm -rf exp";                cmd_ex="'$slip' export --from fold.snap --bucket bench --to file://$work/exp"
prep_e3="rm -rf exp3";               cmd_e3="'$slip' export --from fold.snap --bucket bench --to file://$work/exp3 --level 3"
prep_em="rm -rf expm";               cmd_em="'$slip' export --from mirror.snap --bucket bench --to file://$work/expm"
prep_el="rm -rf expl";               cmd_el="'$slip' export --from ldb --bucket bench --to file://$work/expl"
prep_im="rm -rf imp.snap imp.snap.lock"; cmd_im="'$slip' import file://$work/exp --to imp.snap"
prep_il="rm -rf impl";               cmd_il="'$slip' import file://$work/exp --to impl --backend leveldb"

# The LevelDB fold to export, made from the log fold's artifact.
eval "$prep_ex; $cmd_ex" >/dev/null
"$slip" import "file://$work/exp" --to ldb --backend leveldb >/dev/null
# Compacted in full first (a best case): otherwise the first exports would
# do the compaction a fresh import still owes.
"$settle_leveldb" ldb
eval "$prep_zc; $cmd_zc"
eval "$prep_z1; $cmd_z1"

for _ in $(seq "$runs"); do
  for s in "${steps[@]}"; do
    prep="prep_$s" cmd="cmd_$s"
    eval "${!prep}"
    sync  # no step pays for the writeback of an earlier one's files
    /usr/bin/time -f "%e %U %S" -o t.txt bash -c "${!cmd}" >/dev/null
    awk '{print $1, $2 + $3}' t.txt >> "times_$s.txt"
  done
done
# "wall cpu" of the run with the median wall time.
median() { sort -n "times_$1.txt" | awk -v n="$runs" 'NR == int((n + 1) / 2) {print $1, $2}'; }
read -r zc_wall zc_cpu < <(median zc)
read -r z1_wall z1_cpu < <(median z1)
read -r zd_wall zd_cpu < <(median zd)
read -r ex_wall ex_cpu < <(median ex)
read -r e3_wall e3_cpu < <(median e3)
read -r em_wall em_cpu < <(median em)
read -r el_wall el_cpu < <(median el)
read -r im_wall im_cpu < <(median im)
read -r il_wall il_cpu < <(median il)
ref_bytes=$(stat -c %s ref.zst)
ref1_bytes=$(stat -c %s ref1.zst)
payload_bytes=$(stat -c %s exp/bench/artifacts/*.pgss.zst)
payload3_bytes=$(stat -c %s exp3/bench/artifacts/*.pgss.zst)
cmp -s fold.snap imp.snap || { echo "export_bench: imported fold differs from the source" >&2; exit 1; }
[ "$(ls expl/bench/artifacts)" = "$(ls exp/bench/artifacts)" ] ||
  { echo "export_bench: the LevelDB fold's artifact differs from the log fold's" >&2; exit 1; }

mbs() { awk "BEGIN{printf \"%.0f\", $log_bytes / $1 / 1e6}"; }
pct() { awk "BEGIN{printf \"%.0f%%\", 100 * $1 / $2}"; }
echo
echo "fold: $keys keys, $log_bytes bytes uncompressed (canonical PGSS v2 log); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
row() { printf '%-38s %7s %7s %6s %10s %10s\n' "$@"; }
# "vs zstd -3" is the issue's target (the reference zstd's own default
# level); "same level" compares with zstd at the level slip compressed at.
row step "wall s" "cpu s" "MB/s" "vs zstd -3" "same level"
row "zstd -3 -T0 (reference)" "$zc_wall" "$zc_cpu" "$(mbs "$zc_wall")" "" ""
row "zstd -1 -T0 (reference)" "$z1_wall" "$z1_cpu" "$(mbs "$z1_wall")" "$(pct "$zc_wall" "$z1_wall")" ""
row "slip export --from log fold" "$ex_wall" "$ex_cpu" "$(mbs "$ex_wall")" "$(pct "$zc_wall" "$ex_wall")" "$(pct "$z1_wall" "$ex_wall")"
row "  the same with --level 3" "$e3_wall" "$e3_cpu" "$(mbs "$e3_wall")" "$(pct "$zc_wall" "$e3_wall")" "$(pct "$zc_wall" "$e3_wall")"
row "slip export --from mirror's log fold" "$em_wall" "$em_cpu" "$(mbs "$em_wall")" "$(pct "$zc_wall" "$em_wall")" "$(pct "$z1_wall" "$em_wall")"
row "slip export --from leveldb fold" "$el_wall" "$el_cpu" "$(mbs "$el_wall")" "$(pct "$zc_wall" "$el_wall")" "$(pct "$z1_wall" "$el_wall")"
row "zstd -d of the -1 frame (reference)" "$zd_wall" "$zd_cpu" "$(mbs "$zd_wall")" "" ""
row "slip import --to log" "$im_wall" "$im_cpu" "$(mbs "$im_wall")" "" "$(pct "$zd_wall" "$im_wall")"
row "slip import --to leveldb" "$il_wall" "$il_cpu" "$(mbs "$il_wall")" "" "$(pct "$zd_wall" "$il_wall")"
echo
echo "payload: $payload_bytes bytes = $(pct "$payload_bytes" "$log_bytes") of the log (target <= 40%); with --level 3: $payload3_bytes bytes = $(pct "$payload3_bytes" "$log_bytes")"
echo "zstd -1 -T0: $ref1_bytes bytes; zstd -3 -T0: $ref_bytes bytes"
echo "export vs zstd -3 -T0: $(pct "$zc_wall" "$ex_wall") (log fold), $(pct "$zc_wall" "$em_wall") (mirror's log fold), $(pct "$zc_wall" "$el_wall") (leveldb fold), $(pct "$zc_wall" "$e3_wall") (log fold, --level 3); target >= 80%"
