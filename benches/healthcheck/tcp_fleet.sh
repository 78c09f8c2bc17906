#!/bin/sh
# 10,000 loopback TCP targets, each checked every second, for 60 s by the healthcheck
# scheduler: prints the checker process's CPU time, peak RSS and the spread of probe
# start times. The listeners run in a separate process so only the checker is measured.
#
#   benches/healthcheck/tcp_fleet.sh [count] [seconds]
#
# Uses 127.77.0.1 and up, port 18080 (loopback only). Needs ~3 file descriptors per
# target in the server and 2 per in-flight probe in the checker; raises the soft `ulimit -n` to the hard limit.
set -eu
count=${1:-10000}
seconds=${2:-60}
first=127.77.0.1
port=18080
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

cargo build --release -q -p healthcheck --example tcp_fleet --manifest-path "$root/Cargo.toml"
bin=$target/release/examples/tcp_fleet
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
