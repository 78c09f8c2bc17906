#!/usr/bin/env bash
# Reload benchmark (issue 10): SIGHUP to a router that is master of 255 VRRP instances, with one
# instance's VIP changed in the configuration; our keepalived-compat daemon vs keepalived, side
# by side in one run, ROUNDS reloads each, alternating.
#
#   benches/reload/run.sh                     # ROUNDS=5, WINDOW=6 s
#   ROUNDS=9 WINDOW=3 benches/reload/run.sh
#   INSTANCES=64 CHANGED=32 OUT=/tmp/64.md benches/reload/run.sh   # how it scales
#   KEEPALIVED_COMPAT=/path/to/keepalived-compat benches/reload/run.sh   # a prebuilt daemon
#   benches/reload/run.sh --build-only        # only build the daemon (CI: the bench cannot rot)
#
# Bed: namespace rl-sw holds two bridges; rl-o (ours, 192.0.2.11) is alone on br0, rl-k
# (keepalived, 192.0.2.12) alone on br1; rl-obs has a port on each bridge and runs tcpdump (it has
# no address, so the only ARP on a link is the router's). Each router: VRIDs 1..255, VRRPv3,
# priority 200, advert_int 1, one /32 VIP per instance, 198.51.100.K for instance K; the
# reload moves instance CHANGED's VIP between 198.51.100.CHANGED and 203.0.113.CHANGED.
#
# Per reload (figures in the table, median (min-max) over the rounds):
#   - HUP -> applied: until the new VIP is on eth0 and the old one gone, by polling `ip addr`
#     (the primary figure), by `ip -ts monitor address` (kernel events, same clock), and until
#     the daemon's own line (ours "VRRP reloaded: ...", keepalived "Reload complete"), both
#     daemons' output timestamped on arrival by this script;
#   - CPU: utime + stime of the daemon's processes (keepalived: parent + VRRP child) over the
#     WINDOW after the HUP, and over the WINDOW before it (idle baseline); 10 ms ticks;
#   - "Entering ... STATE" log lines after the HUP, address changes on eth0 other than the
#     expected two, gratuitous ARPs in the WINDOW (for unchanged VIPs / for the changed one),
#     adverts in the WINDOW after vs before the HUP, and priority-0 adverts.
# WINDOW defaults to 6 s so that keepalived's second gratuitous-ARP batch
# (vrrp_garp_master_delay, 5 s by default) falls inside it.
#
# Needs root, iproute2, tcpdump, keepalived (2.2.7: `apt-get install -y keepalived`), python3,
# cargo. Uses only 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 inside namespaces named rl-*
# that it creates and deletes; it kills only the processes it started (by pid). Before measuring
# it waits while a `cargo test` runs (WAIT_FOR_TESTS=0 to skip). The table goes to stdout and
# to benches/reload/last-run.md (OUT=path to change), raw data to $WORK.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
WINDOW=${WINDOW:-6}
INSTANCES=${INSTANCES:-255}
CHANGED=${CHANGED:-128}
WAIT_FOR_TESTS=${WAIT_FOR_TESTS:-1}
WORK=${WORK:-/tmp/rl-bench}
P=rl
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$HERE/last-run.md}

BENCH=reload
# shellcheck source=../daemon.sh
. "$HERE/../daemon.sh"

[ "$(id -u)" = 0 ] || die "needs root"
for t in ip tcpdump keepalived python3; do command -v "$t" >/dev/null || die "$t is not installed"; done
[ "$INSTANCES" -ge 1 ] && [ "$INSTANCES" -le 255 ] || die "INSTANCES must be 1..255"
[ "$CHANGED" -ge 1 ] && [ "$CHANGED" -le "$INSTANCES" ] || die "CHANGED must be 1..$INSTANCES"

PIDS=()          # every process this script started, killed by pid on exit
cleanup() {
    local f pid
    for f in "$WORK"/ours/*.pid "$WORK"/keepalived/*.pid; do
        [ -s "$f" ] && PIDS+=("$(cat "$f")")
    done 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each line of the daemon's output, prefixed with its arrival time (epoch seconds.micros):
# one clock and one method for both daemons (keepalived's own stamps have 1 s resolution).
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }

lab_up() {
    ip netns add $P-sw
    ip netns add $P-obs
    ip -n $P-obs link set lo up
    local i=0 h
    for h in o k; do
        ip -n $P-sw link add br$i type bridge mcast_snooping 0
        ip -n $P-sw link set br$i up
        ip netns add $P-$h
        ip -n $P-$h link add eth0 type veth peer name r$i netns $P-sw
        ip -n $P-sw link set r$i master br$i up
        ip -n $P-obs link add e$i type veth peer name w$i netns $P-sw
        ip -n $P-sw link set w$i master br$i up
        ip -n $P-obs link set e$i up
        ip -n $P-$h link set lo up
        ip -n $P-$h link set eth0 up
        ip -n $P-$h addr add 192.0.2.$((11 + i))/24 dev eth0
        i=$((i + 1))
    done
}

# conf VARIANT: a puts instance CHANGED's VIP at 198.51.100.CHANGED, b at 203.0.113.CHANGED
vip_of() { if [ "$1" = a ]; then echo 198.51.100.$CHANGED; else echo 203.0.113.$CHANGED; fi; }
conf() {
    printf 'global_defs {\n    router_id reload-bench\n    vrrp_version 3\n}\n'
    local k addr
    for k in $(seq 1 $INSTANCES); do
        addr=198.51.100.$k
        [ "$k" = "$CHANGED" ] && addr=$(vip_of "$1")
        printf 'vrrp_instance VI_%d {\n    state BACKUP\n    interface eth0\n    virtual_router_id %d\n    priority 200\n    advert_int 1\n    virtual_ipaddress {\n        %s/32 dev eth0\n    }\n}\n' \
            "$k" "$k" "$addr"
    done
}

ns_of() { if [ "$1" = ours ]; then echo $P-o; else echo $P-k; fi; }
if_of() { if [ "$1" = ours ]; then echo e0; else echo e1; fi; }
ip_of() { if [ "$1" = ours ]; then echo 192.0.2.11; else echo 192.0.2.12; fi; }

# start IMPL: the daemon in its namespace on $WORK/IMPL/keepalived.conf (variant a)
start() {
    local impl=$1 d=$WORK/$1 ns; ns=$(ns_of "$1")
    mkdir -p "$d"
    conf a >"$d/keepalived.conf"
    echo a >"$d/variant"
    if [ "$impl" = ours ]; then
        ip netns exec "$ns" "$OURS" -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" 2>&1 | stamp >"$d/log" &
    else
        ip netns exec "$ns" keepalived -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" 2>&1 | stamp >"$d/log" &
    fi
    PIDS+=($!)
    local end=$((SECONDS + 10))
    until [ -s "$d/k.pid" ] && [ -s "$d/v.pid" ]; do [ $SECONDS -lt $end ] || die "$impl did not start"; sleep 0.05; done
}

vips() { ip -n "$(ns_of "$1")" -4 -o addr show dev eth0 | awk '{print $4}' | grep -c '/32$' || true; }
has() { ip -n "$(ns_of "$1")" -4 -o addr show dev eth0 | grep -q " $2/32 "; }
# wait until IMPL is master of every instance and holds exactly its current variant's VIPs
settled() {
    local impl=$1 end=$((SECONDS + 60)) v; v=$(cat "$WORK/$impl/variant")
    local want other; want=$(vip_of "$v"); other=$(vip_of "$([ "$v" = a ] && echo b || echo a)")
    until [ "$(vips "$impl")" = $INSTANCES ] && has "$impl" "$want" && ! has "$impl" "$other"; do
        [ $SECONDS -lt $end ] || die "$impl: not master of $INSTANCES instances with variant $v (VIPs: $(vips "$impl"))"
        sleep 0.2
    done
}
ticks() {
    local s=0 pid
    for pid in $(cat "$WORK/$1/k.pid" "$WORK/$1/v.pid" | sort -u); do
        s=$((s + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo $s
}

# reload IMPL ROUND: baseline WINDOW, the new variant written, SIGHUP, poll, WINDOW; one row
reload() {
    local impl=$1 round=$2 d=$WORK/$1 ns; ns=$(ns_of "$1")
    local r=$d/round$round; mkdir -p "$r"
    local old new next
    old=$(vip_of "$(cat "$d/variant")")
    next=$([ "$(cat "$d/variant")" = a ] && echo b || echo a)
    new=$(vip_of "$next")
    settled "$impl"
    ip netns exec $P-obs tcpdump -i "$(if_of "$impl")" -n -tt -l -B 8192 "arp or ip proto 112" >"$r/cap" 2>"$r/cap.err" &
    local cap=$!; PIDS+=($cap)
    TZ=UTC ip -n "$ns" -ts monitor address dev eth0 >"$r/mon" 2>&1 &
    local mon=$!; PIDS+=($mon)
    local end=$((SECONDS + 5))
    until grep -qs "listening on" "$r/cap.err"; do [ $SECONDS -lt $end ] || die "tcpdump did not start"; sleep 0.01; done
    conf "$next" >"$d/keepalived.conf.new" && mv "$d/keepalived.conf.new" "$d/keepalived.conf"
    echo "$next" >"$d/variant"
    local c0 c1 c2 t_hup t_poll lines
    c0=$(ticks "$impl")
    sleep "$WINDOW"
    lines=$(wc -l <"$d/log")
    c1=$(ticks "$impl")
    # The pid is read before the clock starts: `$(cat ...)` forks a process, which would add
    # its milliseconds to both daemons' figures and squeeze the ratio towards 1.
    local pid; pid=$(cat "$d/k.pid")
    t_hup=$EPOCHREALTIME
    kill -HUP "$pid"
    end=$((SECONDS + 30))
    until has "$impl" "$new" && ! has "$impl" "$old"; do
        [ $SECONDS -lt $end ] || die "$impl: reload not applied after 30 s"
        sleep 0.002
    done
    t_poll=$EPOCHREALTIME
    sleep "$(python3 -c "import time; print(max(0, $t_hup + $WINDOW - time.time()))")"
    c2=$(ticks "$impl")
    sleep 1 # tcpdump lags on a loaded machine: packets it has not printed yet die with it
    kill "$cap" "$mon" 2>/dev/null; wait "$cap" "$mon" 2>/dev/null || true
    tail -n +"$((lines + 1))" "$d/log" >"$r/log"
    grep -q "^0 packets dropped by kernel" "$r/cap.err" || echo "reload bench: tcpdump dropped packets ($impl, round $round)" >&2
    [ "$(awk '/packets captured/ {print $1}' "$r/cap.err")" = "$(awk '/received by filter/ {print $1}' "$r/cap.err")" ] ||
        echo "reload bench: tcpdump stopped with packets unprinted ($impl, round $round): $(tr '\n' ' ' <"$r/cap.err")" >&2
    python3 - "$impl" "$t_hup" "$t_poll" "$WINDOW" "$((c1 - c0))" "$((c2 - c1))" "$(getconf CLK_TCK)" \
        "$old" "$new" "$(ip_of "$impl")" "$r" >>"$WORK/$impl.rows" <<'PY'
import sys, re, datetime, json
impl, t_hup, t_poll, win, base, cpu, hz, old, new, rip, r = sys.argv[1:]
t_hup, t_poll, win, hz = float(t_hup), float(t_poll), float(win), int(hz)
row = {"poll": (t_poll - t_hup) * 1e3, "cpu": int(cpu) * 1e3 / hz, "cpu_base": int(base) * 1e3 / hz}
# ip -ts monitor: "[2026-12-02T05:47:14.123456] [Deleted] 3: eth0    inet A/32 ..."
added = deleted = None
other = 0
for line in open(f"{r}/mon"):
    m = re.match(r"\[(\S+)\]\s+(Deleted )?.*inet (\S+)/", line)
    if not m:
        continue
    t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc).timestamp()
    if t < t_hup:
        other += 1
    elif m.group(3) == new and not m.group(2) and added is None:
        added = t
    elif m.group(3) == old and m.group(2) and deleted is None:
        deleted = t
    else:
        other += 1
row["mon"] = (max(added, deleted) - t_hup) * 1e3 if added and deleted else None
row["addr_other"] = other
logline, entering, done = None, 0, ""
for line in open(f"{r}/log"):
    ts, _, text = line.rstrip("\n").partition(" ")
    t = float(ts)
    if t > t_hup + win:
        break
    if "Entering" in text:
        entering += 1
    if logline is None and ("VRRP reloaded" in text or "Reload complete" in text):
        logline = (t - t_hup) * 1e3
        done = text
row.update(log=logline, transitions=entering, logtext=done)
garp_other = garp_changed = adverts = adverts_base = prio0 = 0
for line in open(f"{r}/cap"):
    f = line.split()
    if len(f) < 3:
        continue
    t = float(f[0])
    if "ARP" in line:
        if not (t_hup <= t < t_hup + win):
            continue
        m = re.search(r"(?:who-has|Reply) (\S+)", line)
        if m and m.group(1) == new:
            garp_changed += 1
        else:
            garp_other += 1
    elif "VRRP" in line and f[2] == rip:
        if t_hup - win <= t < t_hup:
            adverts_base += 1
        elif t_hup <= t < t_hup + win:
            adverts += 1
            if "prio 0," in line:
                prio0 += 1
row.update(garp_other=garp_other, garp_changed=garp_changed, adverts=adverts,
           adverts_base=adverts_base, prio0=prio0)
print(json.dumps(row))
PY
}

report() {
    python3 - "$WORK" "$ROUNDS" "$WINDOW" "$INSTANCES" "$CHANGED" "$(keepalived --version 2>&1 | head -1)" <<'PY'
import sys, json, statistics, platform, os
work, rounds, win, n, changed, kav = sys.argv[1:]
rows = {i: [json.loads(l) for l in open(f"{work}/{i}.rows")] for i in ("ours", "keepalived")}
figures = [
    ("poll", "HUP -> VIP change applied, `ip addr` polling, ms", 1),
    ("mon", "HUP -> VIP change applied, `ip monitor` events, ms", 1),
    ("log", "HUP -> daemon's reload-done line, ms", 1),
    ("cpu", f"CPU ms in the {win} s after the HUP", 0),
    ("cpu_base", f"CPU ms in the {win} s before the HUP (idle)", 0),
    ("transitions", "state transitions (`Entering` lines)", 0),
    ("addr_other", "address changes other than the expected two", 0),
    ("garp_other", f"gratuitous ARPs for the {int(n) - 1} unchanged VIPs", 0),
    ("garp_changed", "gratuitous ARPs for the changed VIP", 0),
    ("adverts", f"adverts in the {win} s after the HUP", 0),
    ("adverts_base", f"adverts in the {win} s before the HUP", 0),
    ("prio0", "priority-0 adverts after the HUP", 0),
]
def cell(vals, prec):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-", None
    fmt = (lambda v: f"{v:.{prec}f}") if prec else (lambda v: f"{v:g}")
    med = statistics.median(vals)
    return f"{fmt(med)} ({fmt(min(vals))}-{fmt(max(vals))})", med
out = []
out.append(f"### Reload: {n} instances (VRRPv3, advert_int 1, priority 200, master), one VIP changed "
           f"(instance {changed}), SIGHUP, median (min-max) of {len(rows['ours'])} / {len(rows['keepalived'])} reloads\n")
out.append(f"| figure | ours | {kav.split(' (')[0]} | ours / keepalived (medians) |")
out.append("|---|---|---|---|")
med = {}
for key, name, prec in figures:
    o, mo = cell([r[key] for r in rows["ours"]], prec)
    k, mk = cell([r[key] for r in rows["keepalived"]], prec)
    med[key] = (mo, mk)
    ratio = f"{mo / mk:.3f}" if mo is not None and mk else "-"
    out.append(f"| {name} | {o} | {k} | {ratio} |")
out.append("")
for impl in ("ours", "keepalived"):
    lines = sorted({r["logtext"].split(": ", 1)[-1] for r in rows[impl] if r["logtext"]})
    out.append(f"{impl}'s reload-done line: " + ("; ".join(f"`{l}`" for l in lines) or "none seen"))
mo, mk = med["poll"]
goal = (med["transitions"][0] == 0 and med["garp_other"][0] == 0 and mo is not None and mk
        and all(r["transitions"] == 0 and r["garp_other"] == 0 for r in rows["ours"]))
out.append("")
out.append(f"Goal (issue 10): 0 transitions and 0 gratuitous ARPs for unchanged instances in every reload, "
           f"reload time <= 0.1 x keepalived's: transitions/GARPs {'met' if goal else 'NOT met'}, "
           + (f"time ratio {mo / mk:.3f} ({'met' if mo / mk <= 0.1 else 'NOT met'})." if mo is not None and mk else "time ratio unavailable."))
load = open("/proc/loadavg").read().split()[:3]
out.append(f"\nHost: {platform.release()}, {os.cpu_count()} CPUs, load average {' '.join(load)} at the end; "
           f"WINDOW {win} s, ROUNDS {rounds}, raw rows in {work}/{{ours,keepalived}}.rows.")
print("\n".join(out))
PY
}

rm -rf "$WORK"; mkdir -p "$WORK"
if [ "$WAIT_FOR_TESTS" = 1 ]; then
    while pgrep -f "cargo test" >/dev/null; do
        echo "reload bench: a cargo test is running; waiting (WAIT_FOR_TESTS=0 to skip)" >&2
        sleep 30
    done
fi
cleanup
PIDS=()
lab_up
start ours
start keepalived
for impl in ours keepalived; do settled "$impl"; done
sleep 6 # the start's second batch of gratuitous ARPs (vrrp_garp_master_delay, 5 s) passes
for round in $(seq 1 "$ROUNDS"); do
    for impl in ours keepalived; do reload "$impl" "$round"; done
    printf '.' >&2
done
echo >&2
report | tee "$WORK/results.md"
{
    echo "<!-- benches/reload/run.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ) -->"
    cat "$WORK/results.md"
} >"$OUT"
echo "reload bench: table written to $OUT" >&2
