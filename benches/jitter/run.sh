#!/usr/bin/env bash
# Advert jitter bench (issue 11 §2): how late a master's adverts leave at advert_int 0.01 s
# while the same daemon runs ~500 TCP checks/s against flapping backends and writes to a
# notify FIFO that nobody reads. keepalived-compat runs VRRP on a thread and runtime of its
# own; keepalived 2.2.7 (VRRP process, `-P`) is measured in the same run as the reference.
#
#   benches/jitter/run.sh                    # SECONDS_PER_RUN=20, SERVERS=100 checked RATE=5/s each
#   SECONDS_PER_RUN=60 benches/jitter/run.sh
#   KEEPALIVED_COMPAT=/path/to/keepalived-compat benches/jitter/run.sh
#   benches/jitter/run.sh --build-only       # only build (CI: the bench cannot rot)
#
# Bed: namespace jt-r (the router, 192.0.2.11 on eth0) and jt-o (192.0.2.99: the backends and
# tcpdump) joined by a veth pair. The backends are SERVERS TCP listeners on ports 20000+ that
# a helper closes and reopens in turns (a fifth of them are down at any time), so checks go
# down and up and every change is a line for the notify FIFO; the FIFO is held open by a
# process that never reads it, so it fills and stays full.
# Runs (each SECONDS_PER_RUN, one after the other):
#   ours-idle      keepalived-compat, the VRRP instance alone
#   ours-loaded    the same + SERVERS real servers with TCP_CHECK every 1/RATE s + the
#                  stalled FIFO (checkers without IPVS: --no-ipvs; this kernel has none)
#   keepalived     keepalived 2.2.7 -P with the VRRP instance and the stalled FIFO (its
#                  checker process needs IPVS, which this kernel does not have)
# Per run: the intervals between consecutive adverts seen on the wire (tcpdump in jt-o), and
# their lateness beyond 10 ms: p50, p99, p99.9, max, and how many exceeded 30 ms (three
# intervals: a backup with skew would be close to taking over). The table goes to stdout and
# to benches/jitter/last-run.md (OUT=path to change).
# Needs root, iproute2, tcpdump, python3, keepalived. Uses only 192.0.2.0/24 inside
# namespaces named jt-* that it creates and deletes; kills only what it started.
set -euo pipefail

SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
SERVERS=${SERVERS:-100}
RATE=${RATE:-5}
WORK=${WORK:-/tmp/jt-bench}
P=jt
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$HERE/last-run.md}

BENCH=jitter
# shellcheck source=../daemon.sh
. "$HERE/../daemon.sh"

[ "$(id -u)" = 0 ] || die "needs root"
for t in ip tcpdump keepalived python3; do command -v "$t" >/dev/null || die "$t is not installed"; done

PIDS=()
cleanup() {
    local pid ns
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK"
ip netns add $P-r
ip netns add $P-o
ip -n $P-r link add eth0 type veth peer name eth0 netns $P-o
for ns in $P-r $P-o; do ip -n $ns link set lo up; ip -n $ns link set eth0 up; done
ip -n $P-r addr add 192.0.2.11/24 dev eth0
ip -n $P-o addr add 192.0.2.99/24 dev eth0

# Backends that flap: every 0.2 s one more fifth of the ports goes down and the previous one up.
cat >"$WORK/backends.py" <<'PY'
import selectors, socket, sys, time
n, base = int(sys.argv[1]), 20000
sel = selectors.DefaultSelector()
socks = {}
def up(i):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.99", base + i)); s.listen(128); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ); socks[i] = s
def down(i):
    s = socks.pop(i, None)
    if s: sel.unregister(s); s.close()
for i in range(n): up(i)
turn, nxt = 0, time.monotonic() + 0.2
while True:
    for key, _ in sel.select(0.05):
        try:
            c, _ = key.fileobj.accept(); c.close()
        except OSError:
            pass
    if time.monotonic() >= nxt:
        nxt += 0.2
        for i in range(n):
            if i % 5 == turn % 5: down(i)
            elif i not in socks: up(i)
        turn += 1
PY
ip netns exec $P-o python3 "$WORK/backends.py" "$SERVERS" &
PIDS+=($!)

# The stalled FIFO: opened for reading by a process that never reads.
mkfifo -m 0644 "$WORK/stalled.fifo"
( exec 3<>"$WORK/stalled.fifo"; exec sleep 100000 ) &
PIDS+=($!)

conf() { # conf WITH_CHECKS
    printf 'global_defs {\n    router_id jitter\n    vrrp_version 3\n    script_user root\n'
    printf '    notify_fifo %s\n}\n' "$WORK/stalled.fifo"
    printf 'vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n'
    printf '    priority 200\n    advert_int 0.01\n    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n'
    [ "$1" = yes ] || return 0
    local i
    printf 'virtual_server 192.0.2.100 80 {\n    delay_loop %s\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n' \
        "$(python3 -c "print(1/$RATE)")"
    for i in $(seq 0 $((SERVERS - 1))); do
        printf '    real_server 192.0.2.99 %d {\n        TCP_CHECK {\n            connect_port %d\n            connect_timeout 1\n            retry 0\n        }\n    }\n' \
            $((20000 + i)) $((20000 + i))
    done
    printf '}\n'
}

run() { # run NAME
    local name=$1 d=$WORK/$1
    mkdir -p "$d"
    case $name in
        ours-idle) conf no >"$d/keepalived.conf" ;;
        *) conf yes >"$d/keepalived.conf" ;;
    esac
    [ "$name" = keepalived ] && conf no >"$d/keepalived.conf"
    ip netns exec $P-o tcpdump -i eth0 -n -tt -l -B 16384 "ip proto 112 and src 192.0.2.11" >"$d/cap" 2>"$d/cap.err" &
    local cap=$!; PIDS+=($cap)
    # The checks actually made: SYNs to the backends (a check is one connection).
    ip netns exec $P-o tcpdump -i eth0 -n -l -B 16384 "dst host 192.0.2.99 and tcp[tcpflags] == tcp-syn" >"$d/syn" 2>"$d/syn.err" &
    local syn=$!; PIDS+=($syn)
    local end=$((SECONDS + 5))
    until grep -qs "listening on" "$d/cap.err"; do [ $SECONDS -lt $end ] || die "tcpdump did not start"; sleep 0.01; done
    if [ "$name" = keepalived ]; then
        ip netns exec $P-r keepalived -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" >"$d/log" 2>&1 &
    else
        local extra=()
        [ "$name" = ours-loaded ] && extra=(--no-ipvs)
        ip netns exec $P-r "$OURS" -n -l -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" "${extra[@]}" >"$d/log" 2>&1 &
    fi
    local daemon=$!; PIDS+=($daemon)
    sleep "$SECONDS_PER_RUN"
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    sleep 0.5
    kill "$cap" "$syn" 2>/dev/null; wait "$cap" "$syn" 2>/dev/null || true
    grep -q "^0 packets dropped by kernel" "$d/cap.err" || echo "jitter bench: tcpdump dropped packets ($name)" >&2
}

for name in ours-idle ours-loaded keepalived; do
    echo "jitter bench: $name ($SECONDS_PER_RUN s)" >&2
    run "$name"
done

python3 - "$WORK" "$SECONDS_PER_RUN" "$SERVERS" "$RATE" "$(keepalived --version 2>&1 | head -1)" >"$OUT" <<'PY'
import os, platform, statistics, sys
work, secs, servers, rate, kav = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]
rows = []
for name, label in [("ours-idle", "ours, VRRP alone"),
                    ("ours-loaded", f"ours, + {int(servers * rate)} TCP checks/s, stalled FIFO"),
                    ("keepalived", f"{kav} -P, stalled FIFO")]:
    ts = []
    for line in open(f"{work}/{name}/cap"):
        parts = line.split()
        if parts and "VRRPv3" in line and "prio 200" in line:
            ts.append(float(parts[0]))
    # The steady state: from the first advert as master, without the last (the stop).
    iv = [(b - a) * 1e3 for a, b in zip(ts, ts[1:])][:-1]
    late = [max(0.0, x - 10.0) for x in iv]
    if not late:
        rows.append(f"| {label} | | no adverts | | | | | |")
        continue
    syns = sum(1 for _ in open(f"{work}/{name}/syn"))
    rows.append(f"| {label} | {syns / float(secs):.0f} | {len(iv)} | {pct(late, 0.5):.3f} | "
                f"{pct(late, 0.99):.3f} | {pct(late, 0.999):.3f} | {max(late):.3f} | "
                f"{sum(1 for x in iv if x > 30)} |")
load = os.getloadavg()
print(f"<!-- benches/jitter/run.sh -->")
print(f"### Advert lateness at advert_int 0.01 s, {secs} s per run, ms beyond the 10 ms interval\n")
print("| run | checks/s seen | intervals | p50 | p99 | p99.9 | max | > 30 ms |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
print(f"\nHost: {platform.release()}, {os.cpu_count()} CPUs, load average "
      f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end.")
PY
cat "$OUT"
echo "jitter bench: table written to $OUT" >&2
