#!/usr/bin/env bash
# Failover benchmark: our keepalived-compat daemon vs keepalived, side by side, same netns
# topology, same keepalived.conf syntax. See README.md in this directory.
#
#   benches/failover/run.sh            # everything: crash failover, graceful handover, CPU
#   RUNS=10 INTS="0.01 1" CPU_SECS=60 PARTS="crash death graceful cpu" benches/failover/run.sh
#
# crash: the host dies (the daemon and everything it started, its VIP deleted by hand);
# death: only the daemon process dies (SIGKILL) on a host that stays up: ours with its crash
# supervisor, ours with --no-crash-supervisor, and keepalived (parent and VRRP child).
#   benches/failover/run.sh --build-only   # only build the daemon (CI: the bench cannot rot)
#
# The daemon is the keepalived-compat package, built as the README says
# (`cargo build --release -p keepalived-compat`); KEEPALIVED_COMPAT=/path uses a prebuilt one.
#
# Needs root, iproute2, tcpdump, keepalived, python3, cargo. Uses only 192.0.2.0/24 inside
# namespaces named fb-* that it creates and deletes.
set -euo pipefail

RUNS=${RUNS:-10}
INTS=${INTS:-"0.01 1"}
CPU_SECS=${CPU_SECS:-60}
CPU_INSTANCES=${CPU_INSTANCES:-255}
CPU_INT=${CPU_INT:-0.1}
PARTS=${PARTS:-"crash death graceful cpu"}
WORK=${WORK:-/tmp/fb-bench}
P=fb
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

BENCH=failover
# shellcheck source=../daemon.sh
. "$HERE/../daemon.sh"

[ "$(id -u)" = 0 ] || die "needs root"
for t in ip tcpdump keepalived python3; do command -v "$t" >/dev/null || die "$t is not installed"; done

RT=""
command -v chrt >/dev/null && RT="chrt -f 10"
PIDS=()          # every process this script started, killed by pid on exit
cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

# One bridge namespace and hosts h1..hN with eth0 = 192.0.2.(10+i)/24.
lab_up() {
    local n=$1
    cleanup
    PIDS=()
    rm -rf "$WORK/hosts"; mkdir -p "$WORK/hosts"
    ip netns add $P-sw
    ip -n $P-sw link add br0 type bridge mcast_snooping 0
    ip -n $P-sw link set br0 up
    for i in $(seq 1 "$n"); do
        local h=$P-h$i
        ip netns add $h
        ip -n $h link add eth0 type veth peer name p$i netns $P-sw
        ip -n $P-sw link set p$i master br0 up
        ip -n $h link set lo up
        ip -n $h link set eth0 up
        ip -n $h addr add 192.0.2.$((10 + i))/24 dev eth0
    done
}

# conf NAME VRID PRIORITY ADVERT_INT VIP [COUNT]: one instance with VIP, or COUNT instances with
# consecutive VRIDs and one VIP each in 198.51.100.0/24 and 203.0.113.0/24
conf() {
    local name=$1 vrid=$2 prio=$3 int=$4 vip=$5 count=${6:-1}
    printf 'global_defs {\n    router_id %s\n    vrrp_version 3\n    vrrp_garp_master_delay 0\n}\n' "$name"
    for k in $(seq 0 $((count - 1))); do
        local v=$((vrid + k)) addr=$vip
        if [ "$count" -gt 1 ]; then
            if [ $k -lt 250 ]; then addr=198.51.100.$((k + 1)); else addr=203.0.113.$((k - 249)); fi
        fi
        printf 'vrrp_instance VI_%d {\n    state BACKUP\n    interface eth0\n    virtual_router_id %d\n    priority %d\n    advert_int %s\n    virtual_ipaddress {\n        %s/24 dev eth0\n    }\n}\n' \
            "$v" "$v" "$prio" "$int" "$addr"
    done
}

# start IMPL HOST CONF: starts ours, ours-nosup (no crash supervisor) or keepalived in
# fb-HOST, records pids in $WORK/HOST.*
start() {
    local impl=$1 h=$2 c=$3 d=$WORK/hosts/$2 extra=()
    mkdir -p "$d"; rm -f "$d"/*.pid
    [ "$impl" = ours-nosup ] && extra=(--no-crash-supervisor)
    if [ "$impl" != keepalived ]; then
        ip netns exec $P-$h "$OURS" -n -f "$c" --pid "$d/v.pid" "${extra[@]}" >>"$d/log" 2>&1 &
        PIDS+=($!); echo $! >"$d/k.pid"; disown $!
    else
        ip netns exec $P-$h keepalived -n -l -P -f "$c" -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" >>"$d/log" 2>&1 &
        PIDS+=($!); disown $!
    fi
    local end=$((SECONDS + 10))
    until [ -s "$d/v.pid" ]; do [ $SECONDS -lt $end ] || die "$impl did not start in $h"; sleep 0.02; done
    PIDS+=("$(cat "$d/v.pid")")
}

# a host crash: ours' crash supervisor (its child) too; keepalived's VRRP process first, then
# its parent, in one kill
crash() {
    local d=$WORK/hosts/$1
    pkill -9 -P "$(cat "$d/k.pid")" 2>/dev/null || true
    kill -9 "$(cat "$d/v.pid")" "$(cat "$d/k.pid")" 2>/dev/null || true
}
# a process death: SIGKILL of the daemon (both keepalived processes: its parent would respawn
# the VRRP child); ours' supervisor, if any, lives on. The pids are read before the clock is.
victims() { local d=$WORK/hosts/$1; echo "$(cat "$d/v.pid") $(cat "$d/k.pid")"; }
stop() { kill -TERM "$(cat "$WORK/hosts/$1/k.pid")"; }
has() { ip -n $P-$1 -4 addr show dev eth0 | grep -q " $2/"; }
wait_has() { local end=$((SECONDS + $3)); until has "$1" "$2"; do [ $SECONDS -lt $end ] || return 1; sleep 0.01; done; }
wait_gone() { local end=$((SECONDS + $3)); while has "$1" "$2"; do [ $SECONDS -lt $end ] || return 1; sleep 0.01; done; }

# measure KIND IMPL INT MASTER BACKUP VIP MASTER_IP: one crash or graceful event, appends a row
measure() {
    local kind=$1 impl=$2 int=$3 m=$4 b=$5 vip=$6 mip=$7 out=$WORK/$1-$2-$3.txt
    # The monitors run SCHED_FIFO so that the load of a shared machine does not delay the
    # timestamps `ip monitor` takes in user space.
    TZ=UTC $RT ip -n $P-$b -ts monitor address >"$WORK/mon" 2>&1 & local mon=$!; PIDS+=($mon)
    $RT ip netns exec $P-sw tcpdump -i br0 -n -tt -l "(arp and src host $vip) or (ip proto 112 and src host $mip)" \
        >"$WORK/cap" 2>"$WORK/cap.err" & local cap=$!; PIDS+=($cap)
    local end=$((SECONDS + 5)); until grep -q "listening on" "$WORK/cap.err"; do [ $SECONDS -lt $end ] || die "tcpdump"; sleep 0.01; done
    # at least one advert on the capture, then a random phase of the advert timer
    sleep "$(python3 -c "import random; print($int * (1.5 + random.random()) + 0.05)")"
    local t0 pids; pids=$(victims "$m")
    t0=$(date +%s%N)
    case $kind in
    crash) crash "$m"; ip -n $P-$m addr del "$vip/24" dev eth0 2>/dev/null || true ;;
    # shellcheck disable=SC2086
    death) kill -9 $pids 2>/dev/null || true ;;
    *) stop "$m" ;;
    esac
    wait_has "$b" "$vip" $((10 + ${int%.*} * 5)) || die "$impl: backup never took over"
    sleep 0.2
    # without a supervisor the dead master's VIP stays: gone before the next run
    [ "$kind" = death ] && ip -n $P-$m addr del "$vip/24" dev eth0 2>/dev/null || true
    kill "$mon" "$cap" 2>/dev/null; wait "$mon" "$cap" 2>/dev/null || true
    python3 - "$kind" "$t0" "$WORK/mon" "$WORK/cap" "$vip" >>"$out" <<'PY'
import sys, re, datetime
kind, t0, vip = sys.argv[1], int(sys.argv[2]) / 1e9, sys.argv[5]
vip_t = garp = last = prio0 = None
for line in open(sys.argv[3]):
    m = re.match(r"\[(\S+)\].*inet (\S+)/", line)
    if m and m.group(2) == vip and vip_t is None:
        ts = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
        vip_t = ts.timestamp() - t0
for line in open(sys.argv[4]):
    if not line.strip():
        continue
    t = float(line.split()[0]) - t0
    if "VRRP" in line:
        if "prio 0," in line and t >= 0 and prio0 is None:
            prio0 = t
        elif t < 0:
            last = t
    elif "ARP" in line and garp is None and t > 0:
        garp = t
ref = prio0 if kind == "graceful" else last
if None in (vip_t, garp, ref):
    print("# incomplete", vip_t, garp, ref)
else:
    print(f"{vip_t*1e3:.2f} {garp*1e3:.2f} {(vip_t - ref)*1e3:.2f} {(garp - ref)*1e3:.2f}")
PY
}

# events KIND INT: RUNS events per implementation, alternating, same topology
events() {
    local kind=$1 int=$2
    lab_up 4
    conf ours-m 51 200 "$int" 192.0.2.100 >"$WORK/ours-m.conf"; conf ours-b 51 100 "$int" 192.0.2.100 >"$WORK/ours-b.conf"
    conf ka-m 52 200 "$int" 192.0.2.101 >"$WORK/ka-m.conf"; conf ka-b 52 100 "$int" 192.0.2.101 >"$WORK/ka-b.conf"
    start ours h2 "$WORK/ours-b.conf"; start keepalived h4 "$WORK/ka-b.conf"
    local impls="ours keepalived"
    [ "$kind" = death ] && impls="ours ours-nosup keepalived"
    for run in $(seq 1 "$RUNS"); do
        for impl in $impls; do
            local m=h1 b=h2 vip=192.0.2.100 mip=192.0.2.11 c=$WORK/ours-m.conf
            [ "$impl" = keepalived ] && m=h3 b=h4 vip=192.0.2.101 mip=192.0.2.13 c=$WORK/ka-m.conf
            start "$impl" $m "$c"
            wait_has $m $vip 20 || die "$impl: master never took the VIP"
            wait_gone $b $vip 20 || die "$impl: dual master"
            measure "$kind" "$impl" "$int" $m $b $vip $mip
        done
        printf '.' >&2
    done
    echo >&2
}

# cpu: CPU_INSTANCES instances at CPU_INT on one interface, a master and a backup per
# implementation, both implementations at once on two bridges; CPU seconds over CPU_SECS.
cpu() {
    lab_up 4
    # split the lab: h3/h4 get their own bridge so the two sets of VRIDs do not meet
    ip -n $P-sw link add br1 type bridge mcast_snooping 0; ip -n $P-sw link set br1 up
    ip -n $P-sw link set p3 master br1; ip -n $P-sw link set p4 master br1
    conf ours-m 1 200 "$CPU_INT" x "$CPU_INSTANCES" >"$WORK/cpu-m.conf"
    conf ours-b 1 100 "$CPU_INT" x "$CPU_INSTANCES" >"$WORK/cpu-b.conf"
    start ours h1 "$WORK/cpu-m.conf"; start ours h2 "$WORK/cpu-b.conf"
    start keepalived h3 "$WORK/cpu-m.conf"; start keepalived h4 "$WORK/cpu-b.conf"
    sleep 5 # elections settle
    ticks() { local s=0; for pid in "$@"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $s; }
    local pids_ours="$(cat $WORK/hosts/h1/v.pid) $(cat $WORK/hosts/h2/v.pid)"
    local pids_ka="$(cat $WORK/hosts/h3/v.pid) $(cat $WORK/hosts/h3/k.pid) $(cat $WORK/hosts/h4/v.pid) $(cat $WORK/hosts/h4/k.pid)"
    local o0 k0 o1 k1; o0=$(ticks $pids_ours); k0=$(ticks $pids_ka)
    sleep "$CPU_SECS"
    o1=$(ticks $pids_ours); k1=$(ticks $pids_ka)
    local masters_ours masters_ka
    masters_ours=$(ip -n $P-h1 -4 addr show dev eth0 | grep -c "198.51.100\|203.0.113" || true)
    masters_ka=$(ip -n $P-h3 -4 addr show dev eth0 | grep -c "198.51.100\|203.0.113" || true)
    local on_backups
    on_backups=$(for h in h2 h4; do ip -n $P-$h -4 addr show dev eth0 | grep -c "198.51.100\|203.0.113" || true; done | paste -sd/)
    python3 - "$((o1 - o0))" "$((k1 - k0))" "$(getconf CLK_TCK)" "$CPU_SECS" "$CPU_INSTANCES" "$CPU_INT" "$masters_ours" "$masters_ka" "$on_backups" <<'PY'
import sys
o, k, hz, secs, n, i, mo, mk, ob = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
print(f"\n### CPU: {n} instances, advert_int {i} s, master + backup each, {secs} s\n")
print("| implementation | VIPs on the master | CPU s (master + backup) | % of one core |")
print("|---|---|---|---|")
print(f"| ours | {mo} | {o/hz:.2f} | {100*o/hz/float(secs):.1f} |")
print(f"| keepalived 2.2.7 | {mk} | {k/hz:.2f} | {100*k/hz/float(secs):.1f} |")
print(f"\nVIPs on the backups (ours/keepalived): {ob}")
print(f"ours / keepalived = {o/k:.2f}" if k else "keepalived used no measurable CPU")
PY
}

report() {
    local kind=$1
    python3 - "$kind" "$RUNS" "$WORK" $INTS <<'PY'
import sys, statistics, os
kind, runs, work, ints = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ref = "priority-0 advert -> VIP" if kind == "graceful" else "last advert -> VIP"
bound = "Skew_Time" if kind == "graceful" else "Master_Down_Interval"
title = {"crash": "Host crash (the master's processes killed, its VIP deleted)",
         "death": "Process death (SIGKILL of the master daemon, host up; ours with and without the crash supervisor)",
         "graceful": "Graceful handover (SIGTERM: priority 0)"}[kind]
print(f"\n### {title}, VRRPv3, backup priority 100, median (min-max) ms\n")
short = "priority-0 advert" if kind == "graceful" else "last advert"
print(f"| advert_int | implementation | n | kill -> VIP | kill -> first GARP | {ref} | {short} -> first GARP | {bound} | GARP excess over the bound |")
print("|---|---|---|---|---|---|---|---|---|")
ratios = []
for i in ints:
    a = float(i)
    b = (256 - 100) * a / 256 * 1e3 if kind == "graceful" else (3 * a + (256 - 100) * a / 256) * 1e3
    med = {}
    for impl in (("ours", "ours-nosup", "keepalived") if kind == "death" else ("ours", "keepalived")):
        path = os.path.join(work, f"{kind}-{impl}-{i}.txt")
        rows = [tuple(map(float, l.split())) for l in open(path) if l.strip() and not l.startswith("#")] if os.path.exists(path) else []
        if not rows:
            print(f"| {i} | {impl} | 0 | - | - | - | - | {b:.1f} | - |"); continue
        cols = list(zip(*rows))
        f = lambda c: f"{statistics.median(c):.1f} ({min(c):.1f}-{max(c):.1f})"
        med[impl] = (statistics.median(cols[2]), statistics.median(cols[3]), statistics.median(cols[0]))
        print(f"| {i} | {impl} | {len(rows)} | {f(cols[0])} | {f(cols[1])} | {f(cols[2])} | {f(cols[3])} | {b:.1f} | {statistics.median(cols[3]) - b:+.1f} |")
    if "ours" in med and "keepalived" in med:
        ratios.append((i, "ours", med["ours"], med["keepalived"]))
    if "ours-nosup" in med and "keepalived" in med:
        ratios.append((i, "ours without supervisor", med["ours-nosup"], med["keepalived"]))
print()
for i, who, o, k in ratios:
    print(f"advert_int {i}: {who} / keepalived, medians: kill -> VIP {o[2] / k[2]:.3f}, {ref} {o[0] / k[0]:.3f}, {short} -> first GARP {o[1] / k[1]:.3f}")
PY
}

rm -rf "$WORK"; mkdir -p "$WORK"
for part in $PARTS; do
    case $part in
    crash | death | graceful)
        for int in $INTS; do events "$part" "$int"; done
        report "$part" ;;
    cpu) cpu ;;
    *) die "unknown part $part" ;;
    esac
done
