#!/usr/bin/env bash
# Reconcile benchmark: what `slip mirror --once --reconcile` costs on a fold
# that is caught up with a 1M-key bucket (the reconcile alone: one
# headers-only last-per-subject scan compared with the fold), against a cold
# `slip mirror --once` of the same bucket into an empty fold measured in the
# same run (the target: reconcile <= 2x the cold run). Both backends, on
# nats-server 2.9 (Debian 12's) and on the newest of the test matrix
# (.tools/nats-server/sid, from scripts/fetch-nats-servers). A second figure
# is a reconcile that has work to do: 1% of the keys deleted silently from
# the stream (purge API with a subject filter) before it runs.
#
#   bench/reconcile_bench.sh                        # 1M keys, both servers
#   BENCH_KEYS=100000 bench/reconcile_bench.sh      # a quick run
#
# Environment: BENCH_KEYS (default 1000000), BENCH_VALUE_SIZE (default 100),
# BENCH_RUNS (default 3; the best wall time counts), BENCH_SERVERS (the
# nats-server binaries, default "/usr/sbin/nats-server
# .tools/nats-server/sid/nats-server"), BENCH_BUILD, BENCH_TMP, BENCH_SLIP.
set -euo pipefail
cd "$(dirname "$0")/.."

keys="${BENCH_KEYS:-1000000}"
value_size="${BENCH_VALUE_SIZE:-100}"
runs="${BENCH_RUNS:-3}"
servers="${BENCH_SERVERS:-/usr/sbin/nats-server $PWD/.tools/nats-server/sid/nats-server}"
bucket=rbench

[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package time; scripts/install-deps)" >&2; exit 1; }

. bench/lib.sh
bench_build slip kv_load
slip="${BENCH_SLIP:-$PWD/$build/slip}"
kv_load="$PWD/$build/bench/kv_load"
bench_workdir slip-reconcile-bench

# reconcile_count FILE: "scanned deleted" from the mirror's reconcile event.
reconcile_count() {
  sed -n 's/.*"event":"reconcile".*"scanned":\([0-9]*\),"deleted":\([0-9]*\).*/\1 \2/p' "$1" | tail -n 1
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
for server in $servers; do
  [ -x "$server" ] || { echo "no nats-server at $server (scripts/fetch-nats-servers)" >&2; exit 1; }
  version=$("$server" --version | awk '{ print $NF }')
  BENCH_NATS_SERVER="$server" bench_start_nats
  echo "nats-server $version: loading $keys keys x $value_size B" >&2
  "$kv_load" --server "$url" --bucket "$bucket" --keys "$keys" --value-size "$value_size"
  for backend in log leveldb; do
    fold="$work/fold.$backend"
    once=("$slip" mirror "$bucket" --to "$fold" --backend "$backend" --once -s "$url" --timeout 300s)
    rm -rf "$fold" "$fold.lock" "$fold.origin"
    "${once[@]}" 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; } # warm-up
    for ((i = 0; i < runs; i++)); do
      rm -rf "$fold" "$fold.lock" "$fold.origin"
      timed_run "$version/$backend/cold" "${once[@]}"
      timed_run "$version/$backend/reconcile" "${once[@]}" --reconcile --log-format json
      got=$(reconcile_count "$work/last.err")
      [ "$got" = "$keys 0" ] || { echo "reconcile reported '$got', expected '$keys 0'" >&2; cat "$work/last.err" >&2; exit 1; }
    done
  done
  # 1% of the keys purged through the stream API, without a marker: the
  # reconcile deletes them from the caught-up log fold.
  gone=$((keys / 100))
  fold="$work/fold.log"
  echo "nats-server $version: purging $gone keys through the stream API" >&2
  "$kv_load" --server "$url" --bucket "$bucket" --keys "$keys" --purge-every 100
  timed_run "$version/log/reconcile-1%" "$slip" mirror "$bucket" --to "$fold" --once -s "$url" \
    --timeout 300s --reconcile --log-format json
  got=$(reconcile_count "$work/last.err")
  [ "$got" = "$((keys - gone)) $gone" ] || { echo "reconcile reported '$got', expected '$((keys - gone)) $gone'" >&2; exit 1; }
  bench_stop_nats
done

echo
awk -v n="$keys" '
  function min(a, b) { return a == "" || b < a ? b : a }
  {
    wall[$1] = min(wall[$1], $2); cpu[$1] = min(cpu[$1], $3); srv[$1] = min(srv[$1], $4)
    if ($5 > rss[$1]) rss[$1] = $5
    all[$1] = all[$1] " " $2
    split($1, p, "/"); if (!(p[1] in seen)) { seen[p[1]] = 1; order[++nv] = p[1] }
  }
  END {
    printf "%-10s %-8s %-14s %8s %7s %7s %8s %9s  %s\n", "server", "backend", "run", "best s",
           "cpu s", "srv s", "RSS MiB", "vs cold", "all runs (s)"
    for (v = 1; v <= nv; v++) {
      split("log leveldb", bs, " ")
      for (b = 1; b <= 2; b++) {
        split("cold reconcile", rs, " ")
        for (r = 1; r <= 2; r++) {
          k = order[v] "/" bs[b] "/" rs[r]
          cold = wall[order[v] "/" bs[b] "/cold"]
          printf "%-10s %-8s %-14s %8.3f %7.2f %7.2f %8.1f %8.2fx %s\n", order[v], bs[b], rs[r],
                 wall[k], cpu[k], srv[k], rss[k] / 1024, wall[k] / cold, all[k]
        }
      }
      k = order[v] "/log/reconcile-1%"
      printf "%-10s %-8s %-14s %8.3f %7.2f %7.2f %8.1f %8.2fx\n", order[v], "log", "reconcile-1%",
             wall[k], cpu[k], srv[k], rss[k] / 1024, wall[k] / wall[order[v] "/log/cold"]
    }
    print "\ntarget: reconcile <= 2x the cold --once of the same bucket"
    for (v = 1; v <= nv; v++) for (b = 1; b <= 2; b++) {
      x = wall[order[v] "/" bs[b] "/reconcile"] / wall[order[v] "/" bs[b] "/cold"]
      printf "  %-8s %-8s %.2fx  %s\n", order[v], bs[b], x, (x <= 2 ? "met" : "MISSED")
    }
  }' "$work/runs"
echo
echo "reconcile: slip mirror --once --reconcile on a fold already caught up (the time includes connect, open and the empty catch-up);"
echo "reconcile-1%: the same after 1% of the keys were purged through the stream API (no marker)"
echo "bucket: $keys keys x $value_size B, history 1, file storage; machine: $(nproc) cores, load before: $load"
