# Helpers the benchmark scripts share: building the benchmark targets, a
# scratch directory removed at exit, a throwaway nats-server on a free
# loopback port, and a directory of generated inputs kept between runs on
# request. Source it after `set -euo pipefail` and a `cd` to the
# repository root. bench_workdir and bench_inputs each set the EXIT trap:
# a script uses one of them.

# bench_build TARGET...: configures BENCH_BUILD (default build-bench) with
# the benchmarks on, in the project's default build type (RelWithDebInfo,
# -O2 -g, as scripts/build makes it), builds TARGET... and sets $build.
bench_build() {
  build="${BENCH_BUILD:-build-bench}"
  cmake -S . -B "$build" -DSLIP_BUILD_BENCH=ON -DSLIP_BUILD_TESTS=OFF ${BENCH_CMAKE_ARGS:-} >/dev/null
  cmake --build "$build" -j"$(nproc)" --target "$@" >/dev/null
}

# bench_workdir NAME: a fresh directory under BENCH_TMP (default /tmp) in
# $work, removed at exit (also on Ctrl-C) with the nats-server that
# bench_start_nats started, if any.
bench_workdir() {
  work=$(mktemp -d "${BENCH_TMP:-/tmp}/$1.XXXXXX")
  server_pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM # runs bench_cleanup through the EXIT trap
}

bench_cleanup() {
  if [ -n "${server_pid:-}" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

# bench_start_nats: nats-server (BENCH_NATS_SERVER, default the one in PATH)
# with JetStream on the first loopback port
# from a random start that nothing answers on, storing in $work/js and
# logging to $work/nats.log; sets $server_pid and $url once it is ready.
bench_start_nats() {
  local port=$((20000 + RANDOM % 20000))
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  "${BENCH_NATS_SERVER:-nats-server}" -js -a 127.0.0.1 -p "$port" -sd "$work/js" >"$work/nats.log" 2>&1 &
  server_pid=$!
  url="nats://127.0.0.1:$port"
  for _ in $(seq 100); do
    grep -q "Server is ready" "$work/nats.log" && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/nats.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "nats-server did not start" >&2
  exit 1
}

# bench_stop_nats: stops the bench_start_nats server and removes its store.
bench_stop_nats() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  rm -rf "$work/js" "$work/nats.log"
}

now_ns() { date +%s%N; }

# server_cpu: CPU seconds (user + system) the bench_start_nats server has
# used so far.
server_cpu() {
  awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$server_pid/stat"
}

# timed_run NAME CMD...: runs CMD once (stdout to /dev/null, stderr to
# $work/last.err) and appends "NAME wall-s client-cpu-s server-cpu-s
# rss-KiB" to $work/runs. Fails the benchmark when CMD fails.
timed_run() {
  local name="$1"
  shift
  local start end srv0 srv1
  srv0=$(server_cpu)
  start=$(now_ns)
  if ! /usr/bin/time -f '%M %U %S' -o "$work/time.out" "$@" >/dev/null 2>"$work/last.err"; then
    echo "failed: $*" >&2
    cat "$work/last.err" >&2
    exit 1
  fi
  end=$(now_ns)
  srv1=$(server_cpu)
  awk -v n="$name" -v a="$start" -v b="$end" -v s0="$srv0" -v s1="$srv1" \
    'END { printf "%s %.3f %.2f %.2f %d\n", n, (b - a) / 1e9, $2 + $3, s1 - s0, $1 }' \
    "$work/time.out" >>"$work/runs"
}

# best_of EXPECTED_EXIT CMD...: runs CMD $runs times with stdout to
# /dev/null, failing the benchmark when it exits other than EXPECTED_EXIT;
# sets best_s (the least wall seconds) and rss_kib (the largest maximum
# resident set size). For the scripts that use bench_inputs.
best_of() {
  local expected="$1"
  shift
  local i start end s rss code
  best_s=""
  rss_kib=0
  for ((i = 0; i < runs; i++)); do
    start=$(now_ns)
    code=0
    /usr/bin/time -f '%M' -o "$bench_dir/time.out" "$@" >/dev/null || code=$?
    end=$(now_ns)
    if [ "$code" != "$expected" ]; then
      echo "'$*' exited $code, expected $expected" >&2
      exit 1
    fi
    s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    rss=$(tail -n 1 "$bench_dir/time.out")
    ((rss > rss_kib)) && rss_kib=$rss
    if [ -z "$best_s" ] || awk -v s="$s" -v b="$best_s" 'BEGIN { exit !(s < b) }'; then
      best_s=$s
    fi
  done
}

# bench_inputs DIR NAME...: makes DIR for generated inputs and, at exit,
# removes the files or directories NAME... from it (only those: DIR may
# hold others) and DIR if it is then empty; with BENCH_KEEP=1 they stay
# for the next run, which reuses what is there.
bench_inputs() {
  bench_dir="$1"
  shift
  bench_names=("$@")
  mkdir -p "$bench_dir"
  trap bench_remove_inputs EXIT
}

bench_remove_inputs() {
  rm -f "$bench_dir/time.out"
  [ "${BENCH_KEEP:-0}" = 1 ] && return
  for n in "${bench_names[@]}"; do rm -rf "${bench_dir:?}/$n"; done
  rmdir "$bench_dir" 2>/dev/null || true
}
