#!/usr/bin/env bash
# Watch benchmark: how fast `slip watch BUCKET --until-caught-up` reads a
# bucket's current state, against a bare cnats ordered consumer reading the
# same bucket in the same run (the limit). Starts a throwaway nats-server
# (JetStream, store in a temp dir, a free loopback port), loads the bucket
# with kv_load, and prints one table. The server and its store are removed
# on exit, however the script ends.
#
#   bench/watch_bench.sh                                  # 1,000,000 keys x 100 B
#   BENCH_KEYS=100000 BENCH_RUNS=5 bench/watch_bench.sh   # a quicker run
#
# Environment: BENCH_KEYS (default 1000000), BENCH_VALUE_SIZE (bytes,
# default 100), BENCH_RUNS (default 3), BENCH_BUILD (build directory,
# default build-bench), BENCH_TMP (where the temp store goes, default /tmp),
# BENCH_SLIP (a slip binary to time instead of the one built, e.g. an older
# build for a before/after comparison).
#
# Each reader runs once untimed (a warm-up that also checks it saw every
# key), then the two run alternately BENCH_RUNS times; the best wall time of
# each counts, process start to exit, connect included. RSS is the largest
# "maximum resident set size" of the timed runs, from /usr/bin/time; the
# CPU columns are the least user+system time of the reader and of
# nats-server (from /proc) over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

keys="${BENCH_KEYS:-1000000}"
value_size="${BENCH_VALUE_SIZE:-100}"
runs="${BENCH_RUNS:-3}"
bucket=wbench

. bench/lib.sh
bench_build slip kv_load raw_consumer
slip="${BENCH_SLIP:-$PWD/$build/slip}"
kv_load="$PWD/$build/bench/kv_load"
raw_consumer="$PWD/$build/bench/raw_consumer"

bench_workdir slip-watch-bench
bench_start_nats

echo "loading $keys keys x $value_size B into bucket $bucket on $url" >&2
"$kv_load" --server "$url" --bucket "$bucket" --keys "$keys" --value-size "$value_size"

raw_cmd=("$raw_consumer" --server "$url" --bucket "$bucket" --expect "$keys")
slip_cmd=("$slip" watch "$bucket" --until-caught-up -s "$url")

echo "warm-up: one untimed run of each" >&2
"${raw_cmd[@]}" >&2
lines=$("${slip_cmd[@]}" | wc -l)
if [ "$lines" -ne "$keys" ]; then
  echo "slip watch printed $lines lines, expected $keys" >&2
  exit 1
fi


load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "measuring (best of $runs runs each, alternating)" >&2
for ((i = 0; i < runs; i++)); do
  timed_run raw "${raw_cmd[@]}"
  timed_run slip "${slip_cmd[@]}"
done

# Per reader: the best wall time, the least client and server CPU, the
# largest RSS, and every wall time in run order.
echo
awk -v n="$keys" '
  function min(a, b) { return a == "" || b < a ? b : a }
  {
    wall[$1] = min(wall[$1], $2); cpu[$1] = min(cpu[$1], $3); srv[$1] = min(srv[$1], $4)
    if ($5 > rss[$1]) rss[$1] = $5
    all[$1] = all[$1] " " $2
  }
  END {
    label["raw"] = "bare cnats ordered consumer"; label["slip"] = "slip watch --until-caught-up"
    printf "%-30s %8s %8s %10s %7s %7s %7s  %s\n", "reader", "entries", "best s", "entries/s",
           "cpu s", "srv s", "RSS MiB", "all runs (s)"
    split("raw slip", order, " ")
    for (i = 1; i <= 2; i++) {
      k = order[i]
      printf "%-30s %8d %8.3f %10.0f %7.2f %7.2f %7.1f  %s\n", label[k], n, wall[k], n / wall[k],
             cpu[k], srv[k], rss[k] / 1024, all[k]
    }
    ratio = wall["raw"] / wall["slip"]
    verdict = (ratio >= 0.8) ? "met" : "MISSED"
    printf "\nslip / bare consumer: %.0f%% (target >= 80%%: %s)\n", 100 * ratio, verdict
  }' "$work/runs"
echo "cpu s: the reader's user+system CPU; srv s: nats-server's CPU during the run (least of the runs)"
echo "bucket: $keys keys x $value_size B, history 1, file storage; nats-server $(nats-server --version | awk '{ print $NF }') on the same machine"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load before: $load"
