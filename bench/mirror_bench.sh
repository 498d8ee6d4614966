#!/usr/bin/env bash
# Mirror benchmark: how fast a cold `slip mirror BUCKET --to FOLD --once`
# builds a fold with each backend, against a bare cnats ordered consumer
# reading the same bucket in the same run (the limit); how much memory it
# takes; how a restart after 1,000 new updates catches up; and the peak RSS
# of a LevelDB mirror following a bucket that grows to 10M keys. Starts a throwaway
# nats-server (JetStream, store in a temp dir, a free loopback port), loads
# the bucket with kv_load, and prints one table. The server, its store and
# the folds are removed on exit, however the script ends.
#
#   bench/mirror_bench.sh                                        # 1M keys, then 10M for LevelDB
#   BENCH_KEYS=100000 BENCH_BIG_KEYS=0 bench/mirror_bench.sh     # a quick run
#
# Environment: BENCH_KEYS (default 1000000), BENCH_VALUE_SIZE (bytes,
# default 100), BENCH_RUNS (default 3), BENCH_UPDATES (new updates before
# the restart, default 1000), BENCH_BIG_KEYS (keys for the LevelDB RSS run,
# default 10000000; 0 skips it), BENCH_BUILD (build directory, default
# build-bench), BENCH_TMP (where the server store and folds go, default
# /tmp), BENCH_SLIP (a slip binary to time instead of the one built).
#
# Each reader runs once untimed first (a warm-up; the folds it leaves are
# checked to hold every key), then the three run alternately BENCH_RUNS
# times, each mirror into a fold that does not exist yet; the best wall
# time counts, process start to exit, connect and open included. RSS is the
# largest "maximum resident set size" of the timed runs, from
# /usr/bin/time; the CPU columns are the least user+system time of the
# reader and of nats-server (from /proc) over the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

keys="${BENCH_KEYS:-1000000}"
value_size="${BENCH_VALUE_SIZE:-100}"
runs="${BENCH_RUNS:-3}"
updates="${BENCH_UPDATES:-1000}"
big_keys="${BENCH_BIG_KEYS:-10000000}"
bucket=mbench
key_size=16 # "key/" plus 12 digits, as kv_load writes them

[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package time; scripts/install-deps)" >&2; exit 1; }

. bench/lib.sh
bench_build slip kv_load raw_consumer
slip="${BENCH_SLIP:-$PWD/$build/slip}"
kv_load="$PWD/$build/bench/kv_load"
raw_consumer="$PWD/$build/bench/raw_consumer"

bench_workdir slip-mirror-bench
bench_start_nats


# N from the mirror's last line, "slip: mirror: applied N updates, ...".
applied() { sed -n 's/^slip: mirror: applied \([0-9]*\) updates.*/\1/p' "$1" | tail -n 1; }

# live_keys FOLD: the live key count `slip snapshot verify` reports.
live_keys() { "$slip" snapshot verify --json "$1" | sed -n 's/.*"live_keys":\([0-9]*\).*/\1/p'; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "loading $keys keys x $value_size B into bucket $bucket on $url" >&2
"$kv_load" --server "$url" --bucket "$bucket" --keys "$keys" --value-size "$value_size"

log_fold="$work/fold.snap"
ldb_fold="$work/fold.ldb"
# Creating a DeliverLastPerSubject consumer on a million subjects takes
# nats-server 2.9 several seconds, more than the default 5 s API timeout
# on a loaded machine: both readers get 300 s (10M keys take far longer).
raw_cmd=("$raw_consumer" --server "$url" --bucket "$bucket" --expect "$keys" --wait-ms 300000)
log_cmd=("$slip" mirror "$bucket" --to "$log_fold" --backend log --once -s "$url" --timeout 300s)
ldb_cmd=("$slip" mirror "$bucket" --to "$ldb_fold" --backend leveldb --once -s "$url" --timeout 300s)

echo "warm-up: one untimed run of each" >&2
"${raw_cmd[@]}" >&2
rm -rf "$log_fold" "$log_fold.lock" "$ldb_fold"
"${log_cmd[@]}" 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
"${ldb_cmd[@]}" 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
for fold in "$log_fold" "$ldb_fold"; do
  n=$(live_keys "$fold")
  if [ "$n" != "$keys" ]; then
    echo "the fold $fold holds $n keys, expected $keys" >&2
    exit 1
  fi
done

echo "measuring cold runs (best of $runs runs each, alternating)" >&2
for ((i = 0; i < runs; i++)); do
  timed_run raw "${raw_cmd[@]}"
  rm -rf "$log_fold" "$log_fold.lock"
  timed_run log "${log_cmd[@]}"
  rm -rf "$ldb_fold"
  timed_run leveldb "${ldb_cmd[@]}"
done
log_bytes=$(stat -c %s "$log_fold")
ldb_bytes=$(du -sb "$ldb_fold" | cut -f1)

# The restart: new updates on top of the bucket both folds are caught up
# with, then each mirror started again on its fold.
echo "writing $updates new updates, then restarting each mirror" >&2
"$kv_load" --server "$url" --bucket "$bucket" --keys "$updates" --value-size "$value_size" --update
timed_run restart-log "${log_cmd[@]}"
log_delta=$(applied "$work/last.err")
timed_run restart-leveldb "${ldb_cmd[@]}"
ldb_delta=$(applied "$work/last.err")

big_line=""
if [ "$big_keys" -gt 0 ]; then
  # Not a cold --once: nats-server 2.9 did not finish creating a
  # DeliverLastPerSubject consumer on 10M subjects within 5 minutes (at
  # 5.9 GB of RSS), and resuming --once after revision 1 of a 10M-message
  # stream failed twice with "consumer info for bucket mbench: Not Found"
  # (see the README). So a LevelDB mirror follows the bucket while kv_load
  # writes BIG_KEYS new keys into it, and is stopped with SIGTERM once it
  # has gone idle; its last line must say it applied them all.
  echo "LevelDB mirror following $big_keys new keys x $value_size B" >&2
  "$kv_load" --server "$url" --bucket "$bucket" --keys 1 --value-size "$value_size"
  rm -rf "$log_fold" "$log_fold.lock" "$ldb_fold"
  /usr/bin/time -f '%M %U %S' -o "$work/time.out" \
    "$slip" mirror "$bucket" --to "$ldb_fold" --backend leveldb -s "$url" 2>"$work/big.err" &
  time_pid=$!
  mirror_pid=""
  for _ in $(seq 100); do
    mirror_pid=$(pgrep -P "$time_pid" || true)
    [ -n "$mirror_pid" ] && [ -s "$ldb_fold/CURRENT" ] && break
    sleep 0.1
  done
  srv0=$(server_cpu)
  start=$(now_ns)
  "$kv_load" --server "$url" --bucket "$bucket" --keys "$big_keys" --value-size "$value_size" \
    --update --first 1
  # Idle: no CPU used by the mirror for 2 s in a row.
  cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
  last=$(cpu_of "$mirror_pid")
  idle=0
  while [ "$idle" -lt 4 ]; do
    sleep 0.5
    now=$(cpu_of "$mirror_pid")
    if [ "$now" = "$last" ]; then idle=$((idle + 1)); else idle=0; fi
    last=$now
  done
  end=$(now_ns)
  srv1=$(server_cpu)
  kill -TERM "$mirror_pid"
  wait "$time_pid" || { cat "$work/big.err" >&2; exit 1; }
  awk -v a="$start" -v b="$end" -v s0="$srv0" -v s1="$srv1" \
    'END { printf "big-leveldb %.3f %.2f %.2f %d\n", (b - a) / 1e9, $2 + $3, s1 - s0, $1 }' \
    "$work/time.out" >>"$work/runs"
  big_applied=$(applied "$work/big.err")
  big_bytes=$(du -sb "$ldb_fold" | cut -f1)
  big_line="$big_keys $big_applied $big_bytes"
fi

echo
awk -v n="$keys" -v vs="$value_size" -v ks="$key_size" -v updates="$updates" \
  -v log_delta="$log_delta" -v ldb_delta="$ldb_delta" -v log_bytes="$log_bytes" \
  -v ldb_bytes="$ldb_bytes" -v big="$big_line" '
  function min(a, b) { return a == "" || b < a ? b : a }
  {
    wall[$1] = min(wall[$1], $2); cpu[$1] = min(cpu[$1], $3); srv[$1] = min(srv[$1], $4)
    if ($5 > rss[$1]) rss[$1] = $5
    all[$1] = all[$1] " " $2
  }
  END {
    label["raw"] = "bare cnats ordered consumer"
    label["log"] = "slip mirror --once, log"
    label["leveldb"] = "slip mirror --once, leveldb"
    printf "%-30s %8s %8s %10s %7s %7s %7s %8s  %s\n", "cold run", "entries", "best s",
           "entries/s", "vs bare", "cpu s", "srv s", "RSS MiB", "all runs (s)"
    split("raw log leveldb", order, " ")
    for (i = 1; i <= 3; i++) {
      k = order[i]
      printf "%-30s %8d %8.3f %10.0f %6.0f%% %7.2f %7.2f %8.1f  %s\n", label[k], n, wall[k],
             n / wall[k], 100 * wall["raw"] / wall[k], cpu[k], srv[k], rss[k] / 1024, all[k]
    }
    live = n * (vs + ks)
    printf "\nfold on disk: log %.1f MB, leveldb %.1f MB; live data %.1f MB (%d x (%d B key + %d B value))\n",
           log_bytes / 1e6, ldb_bytes / 1e6, live / 1e6, n, ks, vs
    printf "\nrestart after %d new updates          time s  delivered  RSS MiB\n", updates
    printf "%-36s %7.3f %10d %8.1f\n", "slip mirror --once, log", wall["restart-log"], log_delta,
           rss["restart-log"] / 1024
    printf "%-36s %7.3f %10d %8.1f\n", "slip mirror --once, leveldb", wall["restart-leveldb"],
           ldb_delta, rss["restart-leveldb"] / 1024
    if (big != "") {
      split(big, b, " ")
      printf "\nleveldb following %d new keys: %.1f s from the first write to idle, %.2f s CPU, %d applied, RSS %.1f MiB, fold %.2f GB on disk\n",
             b[1], wall["big-leveldb"], cpu["big-leveldb"], b[2], rss["big-leveldb"] / 1024, b[3] / 1e9
    }
    print "\ntargets"
    ratio = wall["raw"] / wall["log"]
    printf "  log >= 70%% of the bare consumer:      %3.0f%%  %s\n", 100 * ratio,
           (ratio >= 0.7 ? "met" : "MISSED")
    x = rss["log"] * 1024 / live
    printf "  log RSS <= 2.5x live data:            %.2fx (%.1f MiB for %.1f MB) %s\n", x,
           rss["log"] / 1024, live / 1e6, (x <= 2.5 ? "met" : "MISSED")
    ok = (log_delta == updates && ldb_delta == updates)
    printf "  restart delivers the delta only:      log %d, leveldb %d of %d  %s\n", log_delta,
           ldb_delta, updates, (ok ? "met" : "MISSED")
    if (big != "") {
      printf "  leveldb RSS < 256 MiB at %d keys: %.1f MiB  %s\n", b[1],
             rss["big-leveldb"] / 1024, (rss["big-leveldb"] < 256 * 1024 ? "met" : "MISSED")
    }
  }' "$work/runs"
echo
echo "cpu s: the reader's user+system CPU; srv s: nats-server's CPU during the run (least of the runs)"
echo "bucket: $keys keys x $value_size B, history 1, file storage; nats-server $(nats-server --version | awk '{ print $NF }') on the same machine"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load before: $load"
