#!/bin/sh
# 10,000 loopback TCP targets, each checked every second, for 60 s by the healthcheck
# scheduler: prints the checker process's CPU time, peak RSS and the spread of probe
# start times. The listeners run in a separate process so only the checker is measured.
#
#   benches/healthcheck/tcp_fleet.sh [count] [seconds]
#   benches/healthcheck/tcp_fleet.sh --build-only   # only build (CI: the bench cannot rot)
#
# Uses 127.77.0.1 and up, port 18080 (loopback only). Needs ~3 file descriptors per
# target in the server and 2 per in-flight probe in the checker; raises the soft `ulimit -n` to the hard limit.
set -eu
build_only=false
if [ "${1:-}" = --build-only ]; then
    build_only=true
    shift
fi
count=${1:-10000}
seconds=${2:-60}
first=127.77.0.1
port=18080
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

# The healthcheck folder's package (by manifest, whatever the package is called).
# BENCH_PROFILE (default release): dev for CI's smoke round; figures need release.
profile=${BENCH_PROFILE:-release}
dir=release
[ "$profile" = dev ] && dir=debug
[ "$profile" != dev ] && [ "$profile" != release ] && dir=$profile
cargo build --profile "$profile" -q --example tcp_fleet --manifest-path "$root/healthcheck/Cargo.toml"
bin=$target/$dir/examples/tcp_fleet
[ -x "$bin" ] || { echo "no tcp_fleet binary at $bin" >&2; exit 1; }
if $build_only; then
    echo "tcp_fleet bench: built $bin"
    exit 0
fi
ulimit -n "$(ulimit -Hn)"

out=$(mktemp)
"$bin" serve "$count" "$first" "$port" >"$out" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT INT TERM
for _ in $(seq 1 100); do
    grep -q ready "$out" && break
    sleep 0.1
done
grep -q ready "$out" || { echo "server did not start" >&2; exit 1; }

"$bin" "${MODE:-check}" "$count" "$first" "$port" "$seconds" ${RST:+rst}
