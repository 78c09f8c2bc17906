#!/usr/bin/env bash
# Anycast benchmark: vip-proxy nodes in anycast mode behind an ECMP router (FRR bgpd + bfdd per
# namespace) against a VRRP vip-proxy pair on the same bed, in one run. See README.md here.
#
#   sudo benches/anycast/run.sh              # RUNS=5 per event and mode, ~8 min
#   RUNS=3 EVENTS="death kill" sudo -E benches/anycast/run.sh
#   VIP_PROXY=/path/to/vip-proxy ...         # a prebuilt binary instead of cargo build
#   benches/anycast/run.sh --build-only      # only build vip-proxy (CI: the bench cannot rot)
#   NODE_CPU=0.05 CONCURRENCY=256 CLIENTS=2 MODES= sudo -E benches/anycast/run.sh
#                                            # throughput only, each node's proxy capped at
#                                            # 5 % of one CPU (a cgroup of its own)
#
# Environment: RUNS (5), RATE (500 new connections/s), EVENTS ("backends graceful kill death"),
# MODES ("anycast vrrp"; empty: throughput only), TPUT_RUNS (3), TPUT_SECS (5), CONCURRENCY (64),
# CLIENTS (1: closed-loop client processes sharing CONCURRENCY), NODE_CPU (unset: no cap; 0.2:
# each node's proxy in a cgroup of its own, cgroup v1 cpu or v2, with a CFS quota of 20 % of one
# CPU), WORK (/tmp/ab-bench, emptied first), BENCH_PROFILE (release; CI builds with dev).
# Needs root, iproute2, python3, nginx (backends) and FRR 8 (apt-get install frr nginx:
# /usr/lib/frr/{zebra,bfdd,bgpd}, vtysh); the host's FRR service is never touched. Addresses: 192.0.2.0/24 (client side),
# 198.51.100.0/24 (node segment), 203.0.113.0/24 (the anycast VIP), only inside namespaces named
# ab-*, which it creates and deletes; it kills only what runs inside them.
set -euo pipefail

P=ab
SW=$P-sw RTR=$P-rtr CLI=$P-cli
FRR=/usr/lib/frr
VIP=203.0.113.10           # anycast: on each healthy node's lo, announced by its bgpd
VRRP_VIP=198.51.100.100    # VRRP: on the master's eth0, on the node segment
RTR_IP=198.51.100.1 RTR_AS=65000
NODES=3
RUNS=${RUNS:-5}
RATE=${RATE:-500}
EVENTS=${EVENTS:-"backends graceful kill death"}
MODES=${MODES-"anycast vrrp"}
TPUT_RUNS=${TPUT_RUNS:-3}
TPUT_SECS=${TPUT_SECS:-5}
CONCURRENCY=${CONCURRENCY:-64}
CLIENTS=${CLIENTS:-1}
NODE_CPU=${NODE_CPU:-}
CG_PERIOD=100000 # us: the CFS period of the node cgroups
WORK=${WORK:-/tmp/$P-bench}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PROXY_BENCH=$ROOT/benches/proxy # its load client
PY=python3

log() { printf '%s %s\n' "$(date -u +%T.%3N)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
case "${1:-}" in
    --build-only | "") ;;
    *) die "unknown argument $1 (settings are environment variables; see the header)" ;;
esac
if [ "${1:-}" != --build-only ]; then
    [[ $(basename "$WORK") == $P* ]] || die "WORK must be a directory named $P* (it is emptied)"
    [ "$(id -u)" = 0 ] || die "needs root"
    for tool in ip python3 nginx vtysh $FRR/zebra $FRR/bfdd $FRR/bgpd; do
        command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install frr iproute2 python3)"
    done
    [[ $CLIENTS =~ ^[1-9][0-9]*$ ]] && [ "$CONCURRENCY" -ge "$CLIENTS" ] ||
        die "CLIENTS must be 1..CONCURRENCY (got $CLIENTS)"
fi

node_ip() { echo "198.51.100.$((10 + $1))"; }
backend_ip() { echo "198.51.100.$((20 + $1))"; }

# ------------------------------------------------------------------ processes we started
# A pid is ours when it is alive and inside one of our ab-* namespaces.
ours() {
    [ -n "${1:-}" ] && [ -d "/proc/$1" ] || return 1
    local ns
    ns=$(ip netns identify "$1" 2>/dev/null) || return 1
    [[ $ns == $P-* ]]
}
pidf() { cat "$1" 2>/dev/null || true; }
bg_in() { # NS PIDFILE LOGFILE CMD...: CMD in namespace NS in the background
    local ns=$1 pidfile=$2 logfile=$3
    shift 3
    ip netns exec "$ns" "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$pidfile"
    disown $!
}
wait_gone() { # PID...: up to 10 s until none is alive
    local end=$((SECONDS + 10)) pid alive
    while :; do
        alive=""
        for pid in "$@"; do [ -n "$pid" ] && [ -d "/proc/$pid" ] && alive+=" $pid"; done
        [ -z "$alive" ] && return 0
        [ $SECONDS -lt $end ] || die "still running:$alive"
        sleep 0.02
    done
}
wait_for() { # SECONDS WHAT CMD...: poll CMD every 20 ms
    local end=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        [ $SECONDS -lt $end ] || die "timed out waiting for $what"
        sleep 0.02
    done
}

cleanup() {
    local ns pid
    # Everything we started runs inside our namespaces: FRR, proxies, backends, clients.
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-" || true); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    cgroups_del
}

# ------------------------------------------------------------------ per-node CPU quota (NODE_CPU)
# Each node's proxy (and its crash supervisor, a forked child) runs in cgroup $P-bench/nI with a
# CFS quota of NODE_CPU x one CPU: its own capacity bounds its throughput, not the machine's.
# cgroup v2 when /sys/fs/cgroup/cgroup.controllers exists (cpu.max), else v1's cpu controller
# (cpu.cfs_period_us, cpu.cfs_quota_us); only the cgroups named $P-bench are created and removed.
CG2=/sys/fs/cgroup/$P-bench CG1=/sys/fs/cgroup/cpu/$P-bench CGROOT=
cgroups_del() {
    local d end
    for d in "$CG2" "$CG1"; do
        [ -d "$d" ] || continue
        # A killed process leaves its cgroup a moment later: rmdir is EBUSY until then.
        end=$((SECONDS + 5))
        until rmdir "$d"/n* "$d" 2>/dev/null || [ ! -d "$d" ]; do
            [ $SECONDS -lt $end ] || {
                log "warning: could not remove $d"
                break
            }
            sleep 0.05
        done
    done
}
cgroups_up() {
    local quota i
    [ -n "$NODE_CPU" ] || return 0
    quota=$(awk -v c="$NODE_CPU" -v p=$CG_PERIOD 'BEGIN { q = int(c * p); if (c !~ /^[0-9.]+$/ || q < 1000) exit 1; print q }') ||
        die "NODE_CPU must be a number of CPUs, at least 0.01 (got $NODE_CPU)"
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        grep -qw cpu /sys/fs/cgroup/cgroup.controllers || die "cgroup v2 without the cpu controller"
        CGROOT=$CG2
        echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
        mkdir -p "$CGROOT"
        echo +cpu >"$CGROOT/cgroup.subtree_control"
        for i in $(seq 1 $NODES); do
            mkdir -p "$CGROOT/n$i"
            echo "$quota $CG_PERIOD" >"$CGROOT/n$i/cpu.max"
        done
    elif [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        CGROOT=$CG1
        for i in $(seq 1 $NODES); do
            mkdir -p "$CGROOT/n$i"
            echo $CG_PERIOD >"$CGROOT/n$i/cpu.cfs_period_us"
            echo "$quota" >"$CGROOT/n$i/cpu.cfs_quota_us"
        done
    else
        die "NODE_CPU needs a cgroup cpu controller (v2 /sys/fs/cgroup/cgroup.controllers or v1 /sys/fs/cgroup/cpu)"
    fi
    log "each proxy node capped at $quota us per $CG_PERIOD us ($CGROOT/nI)"
}
# bg_in for node I's proxy, in node I's cgroup with NODE_CPU: a shell moves itself into it,
# then execs `ip netns exec` (same pid, so the pid file stays the proxy's). Outside the
# namespace: `ip netns exec` mounts a sysfs of the namespace, without the cgroup file systems.
bg_node() { # I PIDFILE LOGFILE CMD...
    local i=$1 pidfile=$2 logfile=$3
    shift 3
    if [ -z "$NODE_CPU" ]; then
        bg_in $P-n"$i" "$pidfile" "$logfile" "$@"
        return
    fi
    # shellcheck disable=SC2016
    sh -c 'echo $$ >"$0" && exec "$@"' "$CGROOT/n$i/cgroup.procs" \
        ip netns exec $P-n"$i" "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$pidfile"
    disown $!
}
# Node I's proxy CPU time (clock ticks, /proc/PID/stat utime + stime) and its cgroup's CFS
# periods and throttled periods (cpu.stat, v1 and v2 alike; 0 0 without NODE_CPU), as
# TICKS,PERIODS,THROTTLED.
node_cpu() { # I
    local pid ticks periods=0 throttled=0
    pid=$(pidf "$WORK/n$1/proxy.pid")
    ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    if [ -n "$NODE_CPU" ]; then
        periods=$(awk '$1 == "nr_periods" { print $2 }' "$CGROOT/n$1/cpu.stat")
        throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$CGROOT/n$1/cpu.stat")
    fi
    echo "$ticks,$periods,$throttled"
}

# ------------------------------------------------------------------ topology (testbed::frr::bed)
#   client 192.0.2.100 --- 192.0.2.1 router 198.51.100.1 --- switch (bridge br0) --+-- 198.51.100.1I node nI (AS 6500I)
#                              AS 65000, ECMP, L4 hash                             +-- 198.51.100.2I backend bI
net_up() {
    local i h
    for h in sw rtr cli $(seq -f n%g 1 $NODES) $(seq -f b%g 1 $NODES); do
        ip netns add $P-$h
        ip -n $P-$h link set lo up
        mkdir -p "$WORK/$h"
    done
    # mcast_snooping 0: the VRRP pair's adverts are flooded.
    ip -n $SW link add br0 type bridge mcast_snooping 0
    ip -n $SW link set br0 up
    ip -n $RTR link add cli type veth peer name eth0 netns $CLI
    ip -n $RTR addr add 192.0.2.1/24 dev cli
    ip -n $RTR link set cli up
    ip -n $CLI addr add 192.0.2.100/24 dev eth0
    ip -n $CLI link set eth0 up
    ip -n $CLI route add default via 192.0.2.1
    ip -n $RTR link add nodes type veth peer name rtr netns $SW
    ip -n $SW link set rtr master br0 up
    ip -n $RTR addr add $RTR_IP/24 dev nodes
    ip -n $RTR link set nodes up
    for i in $(seq 1 $NODES); do
        attach n$i "$(node_ip "$i")"
        attach b$i "$(backend_ip "$i")"
        # A new namespace inherits init_net's IPv4 settings: nodes do not forward. A proxy
        # opens a connection to its backend per request and closes it first: at thousands of
        # requests/s its TIME_WAIT sockets fill the default port range, and connect()'s port
        # search then costs more CPU than the proxying (a node under NODE_CPU collapsed).
        ip netns exec $P-n$i sysctl -qw net.ipv4.ip_forward=0 \
            net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
    done
    # The router forwards and hashes on L4 ports (policy 0: one client's flows all on one node).
    ip netns exec $RTR sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
    ip netns exec $CLI sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
}
attach() { # HOST ADDRESS: eth0 on the switch
    ip -n $P-$1 link add eth0 type veth peer name "$1" netns $SW
    ip -n $SW link set "$1" master br0 up
    ip -n $P-$1 addr add "$2/24" dev eth0
    ip -n $P-$1 link set eth0 up
    ip -n $P-$1 route add default via $RTR_IP
}
set_port() { ip -n $SW link set "$1" "$2"; } # HOST up|down: its switch port

# ------------------------------------------------------------------ FRR (testbed::frr::config)
# The same files the test bed generates (testbed/src/frr/config.rs is the documented example).
bfdd_conf() {
    cat <<EOF
hostname $1
log timestamp precision 3
bfd
 profile fast
  detect-multiplier 3
  receive-interval 100
  transmit-interval 100
 exit
exit
EOF
}
rtr_bgpd_conf() {
    local i
    cat <<EOF
frr defaults traditional
hostname rtr
log timestamp precision 3
ip prefix-list ANYCAST seq 10 permit 203.0.113.0/24 le 32
route-map FROM-NODES permit 10
 match ip address prefix-list ANYCAST
exit
route-map NOTHING deny 10
exit
router bgp $RTR_AS
 bgp router-id $RTR_IP
 bgp log-neighbor-changes
 bgp bestpath as-path multipath-relax
 timers bgp 3 9
 neighbor NODES peer-group
 neighbor NODES remote-as external
 neighbor NODES bfd
 neighbor NODES bfd profile fast
 neighbor NODES timers connect 1
EOF
    for i in $(seq 1 $NODES); do echo " neighbor $(node_ip "$i") peer-group NODES"; done
    cat <<EOF
 address-family ipv4 unicast
  maximum-paths 16
  neighbor NODES route-map FROM-NODES in
  neighbor NODES route-map NOTHING out
 exit-address-family
exit
EOF
}
node_bgpd_conf() { # I
    cat <<EOF
frr defaults traditional
hostname n$1
log timestamp precision 3
ip prefix-list VIPS seq 10 permit 203.0.113.0/24 le 32
route-map VIPS permit 10
 match ip address prefix-list VIPS
exit
route-map NOTHING deny 10
exit
router bgp $((RTR_AS + $1))
 bgp router-id $(node_ip "$1")
 bgp log-neighbor-changes
 timers bgp 3 9
 neighbor $RTR_IP remote-as $RTR_AS
 neighbor $RTR_IP bfd
 neighbor $RTR_IP bfd profile fast
 neighbor $RTR_IP timers connect 1
 address-family ipv4 unicast
  redistribute connected route-map VIPS
  neighbor $RTR_IP route-map VIPS out
  neighbor $RTR_IP route-map NOTHING in
 exit-address-family
exit
EOF
}
# zebra, bfdd, bgpd in namespace ab-HOST, everything in WORK/HOST/frr (pid files, vty sockets,
# zebra's API socket, bfdd's control socket), no TCP vty; the daemons run as user frr.
frr_start() { # HOST
    local h=$1 d=$WORK/$1/frr daemon extra
    mkdir -p "$d"
    echo "hostname $h" >"$d/zebra.conf"
    bfdd_conf "$h" >"$d/bfdd.conf"
    if [ "$h" = rtr ]; then rtr_bgpd_conf >"$d/bgpd.conf"; else node_bgpd_conf "${h#n}" >"$d/bgpd.conf"; fi
    chown -R frr:frr "$d"
    for daemon in zebra bfdd bgpd; do
        extra=()
        [ $daemon = bfdd ] && extra=(--bfdctl "$d/bfdd.sock")
        bg_in $P-"$h" "$d/$daemon.run" "$d/$daemon.log" setsid $FRR/$daemon -f "$d/$daemon.conf" \
            -i "$d/$daemon.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 --log stdout "${extra[@]}"
        wait_for 10 "$daemon in $h" test -S "$d/$daemon.vty"
    done
}
vty() { # HOST CMD
    vtysh --vty_socket "$WORK/$1/frr" -c "$2" 2>/dev/null | tr -d ' \n'
}
count() { grep -o "$1" | wc -l; }
hops() { ip -n $RTR route show $VIP 2>/dev/null | count via; }
hops_are() { [ "$(hops)" -eq "$1" ]; }
bfd_up_are() { [ "$(vty rtr 'show bfd peers json' | count '"status":"up"')" -eq "$1" ]; }
bgp_up_are() { [ "$(vty rtr 'show bgp ipv4 unicast summary json' | count '"state":"Established"')" -eq "$1" ]; }

# ------------------------------------------------------------------ backends and proxies
# Backend bI: nginx with one worker answering every request with 200 and its name (a Python
# server would be the bottleneck of one node's throughput, not the proxy).
start_backend() { # I
    local d=$WORK/b$1
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/nginx-error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen $(backend_ip "$1"):8080 backlog=4096;
        default_type text/plain;
        location / { return 200 "b$1"; }
    }
}
EOF
    bg_in $P-b"$1" "$d/httpd.pid" "$d/nginx.out" nginx -e "$d/nginx-error.log" -p "$d/" -c "$d/nginx.conf"
    wait_for 10 "backend b$1" listening $P-b"$1" 8080
}
family() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; } # PID and its children
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

build() {
    if [ -n "${VIP_PROXY:-}" ]; then
        BIN=$VIP_PROXY
    else
        # BENCH_PROFILE (default release): dev for CI's build check; figures need release.
        local profile=${BENCH_PROFILE:-release}
        log "building vip-proxy ($profile)"
        (cd "$ROOT" && cargo build --profile "$profile" -q -p examples --example vip-proxy)
        BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")/examples/vip-proxy
    fi
    [ -x "$BIN" ] || die "no vip-proxy binary at $BIN"
    "$BIN" --help >/dev/null || die "$BIN --help failed"
}

# Node I's proxy in front of its own backend bI, health-checked every 100 ms (rise 2, fall 2).
# A dead backend refuses at once; the 500 ms check timeout only keeps a VM stall (other work on
# the shared cores) from failing checks.
COMMON=(--listen-port 80 --check-path / --check-interval 100ms --check-timeout 500ms
    --rise 2 --fall 2 --connect-timeout 300ms --drain-timeout 5s)
start_anycast() { # I
    bg_node "$1" "$WORK/n$1/proxy.pid" "$WORK/n$1/proxy.log" "$BIN" --mode anycast \
        --vip $VIP/32 --withdraw-drain 500ms "${COMMON[@]}" --backend "http://$(backend_ip "$1"):8080"
}
start_vrrp() { # I PRIORITY: VRRPv3, VRID 51, adverts every 100 ms (as benches/proxy)
    bg_node "$1" "$WORK/n$1/proxy.pid" "$WORK/n$1/proxy.log" "$BIN" --vip $VRRP_VIP/24 \
        --interface eth0 --vrid 51 --priority "$2" --advert-interval 0.1 "${COMMON[@]}" \
        --backend "http://$(backend_ip "$1"):8080"
}
stop_proxy() { # I: SIGTERM, wait for the exit
    local pid
    pid=$(pidf "$WORK/n$1/proxy.pid")
    if ours "$pid"; then
        kill -TERM "$pid"
        wait_gone "$pid"
    fi
}
has_vrrp_vip() { ip -n $P-n"$1" -4 addr show dev eth0 | grep -q " $VRRP_VIP/"; }
n1_alone_master() { has_vrrp_vip 1 && ! has_vrrp_vip 2; }
wait_n1_master() { # n1 holds the VIP and n2 does not, still 0.3 s later
    local end=$((SECONDS + 30))
    while :; do
        if n1_alone_master; then
            sleep 0.3
            n1_alone_master && return 0
        fi
        [ $SECONDS -lt $end ] || die "n1 did not become the only VRRP master"
        sleep 0.02
    done
}
wait_anycast() { # N nodes announced, every BFD session up (a node lost before its BFD
    # session is up is caught only by the 9 s hold timer)
    wait_for 20 "$1 next hops" hops_are "$1"
    wait_for 20 "BFD sessions" bfd_up_are $NODES
}

# ------------------------------------------------------------------ the two modes
mode_up() { # MODE
    local i
    case $1 in
        anycast)
            for i in $(seq 1 $NODES); do start_anycast "$i"; done
            wait_anycast $NODES
            ;;
        vrrp)
            start_vrrp 2 100
            start_vrrp 1 150
            wait_n1_master
            ;;
    esac
    sleep 1
}
mode_down() { # MODE
    local i
    for i in $(seq 1 $NODES); do stop_proxy "$i"; done
    for i in $(seq 1 $NODES); do ip -n $P-n"$i" addr del $VRRP_VIP/24 dev eth0 2>/dev/null || true; done
    wait_for 10 "the VIP withdrawn" hops_are 0
}

# Events on node I (anycast: a different node each run; VRRP: the master n1).
# backends: its backend's server SIGKILLed (anycast: withdrawn; VRRP: priority -100, moves);
# graceful: SIGTERM to its proxy (anycast: withdraw, answer 500 ms, exit; VRRP: hand over);
# kill: its proxy SIGKILLed (the crash supervisor removes the VIP; VRRP: priority-0 advert);
# death: the node leaves the switch, every process of the proxy dies, the VIP goes with the host
#   (anycast: BFD 100 ms x 3 tells the router; VRRP: the backup's Master_Down_Interval).
VICTIMS=
event() { # MODE EVENT I
    local i=$3
    case $2 in
        backends)
            # shellcheck disable=SC2086
            kill -9 $VICTIMS
            ;;
        graceful) kill -TERM "$(pidf "$WORK/n$i/proxy.pid")" ;;
        kill) kill -9 "$(pidf "$WORK/n$i/proxy.pid")" ;;
        death)
            set_port n"$i" down
            # shellcheck disable=SC2086
            kill -9 $VICTIMS
            if [ "$1" = anycast ]; then ip -n $P-n"$i" addr del $VIP/32 dev lo 2>/dev/null || true; fi
            if [ "$1" = vrrp ]; then ip -n $P-n"$i" addr del $VRRP_VIP/24 dev eth0 2>/dev/null || true; fi
            ;;
    esac
}
restore() { # MODE EVENT I
    local i=$3
    case $2 in
        backends) start_backend "$i" ;;
        graceful)
            wait_gone "$(pidf "$WORK/n$i/proxy.pid")"
            start_proxy "$1" "$i"
            ;;
        kill) start_proxy "$1" "$i" ;;
        death)
            set_port n"$i" up
            start_proxy "$1" "$i"
            ;;
    esac
    if [ "$1" = anycast ]; then wait_anycast $NODES; else wait_n1_master; fi
    sleep 1
}
start_proxy() { # MODE I
    if [ "$1" = anycast ]; then start_anycast "$2"; else start_vrrp "$2" 150; fi
}
post_of() { # seconds of load after the event
    case $1 in
        backends) echo 2 ;;
        *) echo 3 ;;
    esac
}

# ------------------------------------------------------------------ load
CLIENT=
client_start() { # HOST SECONDS LOG: open loop at RATE; returns once it is sending
    rm -f "$3.ready"
    ip netns exec $CLI $PY "$PROXY_BENCH/client.py" --host "$1" --rate "$RATE" --duration "$2" \
        --out "$3" --ready "$3.ready" &
    CLIENT=$!
    wait_for 10 "the client" test -s "$3.ready"
}
client_wait() { wait "$CLIENT" || die "client failed"; }
vip_of() { if [ "$1" = anycast ]; then echo $VIP; else echo $VRRP_VIP; fi; }

measure() { # MODE EVENT RUN
    local mode=$1 ev=$2 run=$3 f=$WORK/log/$1-$2-$3.txt pre i t
    i=1
    [ "$mode" = anycast ] && i=$(((run - 1) % NODES + 1))
    pre=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 1 + r / 32768 }')
    client_start "$(vip_of "$mode")" "$(awk -v a="$pre" -v b="$(post_of "$ev")" 'BEGIN { print a + b }')" "$f"
    sleep "$pre"
    # Read before the clock: the proxy and its crash supervisor (its child), or the backend's
    # nginx master and worker.
    if [ "$ev" = backends ]; then
        VICTIMS=$(family "$(pidf "$WORK/b$i/httpd.pid")")
    else
        VICTIMS=$(family "$(pidf "$WORK/n$i/proxy.pid")")
    fi
    t=$(date +%s%N)
    event "$mode" "$ev" "$i"
    echo "$mode $ev $run n$i $t $f" >>"$WORK/events.txt"
    client_wait
    restore "$mode" "$ev" "$i"
}

baseline() { # MODE: 3 s of the open-loop load, no event
    local f=$WORK/log/$1-none-1.txt
    client_start "$(vip_of "$1")" 3 "$f"
    echo "$1 none 1 - $(date +%s%N) $f" >>"$WORK/events.txt"
    client_wait
}

cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; } # busy idle
children_cpu() { # CHILDREN_CPU: user + system seconds of this shell's reaped children
    # `times` in this shell, not in a $(...) subshell, whose children are its own.
    times >"$WORK/times.txt"
    CHILDREN_CPU=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } print t }' "$WORK/times.txt")
}
throughput() { # LABEL RUN HOST NODES: closed loop, CONCURRENCY connections over CLIENTS
    # processes, TPUT_SECS; logs the machine's CPU, the clients' and each node's proxy's
    local f=$WORK/log/tput-$1-$2.txt a b ca cb c i per pids=() before=() nodes=""
    per=$((CONCURRENCY / CLIENTS))
    for i in $(seq 1 "$4"); do before[i]=$(node_cpu "$i"); done
    a=$(cpu)
    children_cpu
    ca=$CHILDREN_CPU
    for c in $(seq 1 "$CLIENTS"); do
        # The last process takes the remainder of CONCURRENCY.
        [ "$c" = "$CLIENTS" ] && per=$((CONCURRENCY - per * (CLIENTS - 1)))
        ip netns exec $CLI $PY "$PROXY_BENCH/client.py" --host "$3" --concurrency "$per" \
            --duration "$TPUT_SECS" --out "$f.$c" &
        pids+=($!)
    done
    for c in "${pids[@]}"; do wait "$c" || die "client failed"; done
    b=$(cpu)
    children_cpu
    cb=$CHILDREN_CPU
    for i in $(seq 1 "$4"); do nodes+=" n$i=${before[i]}/$(node_cpu "$i")"; done
    echo "$1 $2 $f $a $b $(awk -v a="$ca" -v b="$cb" 'BEGIN { print b - a }')$nodes" >>"$WORK/tput.txt"
}

main() {
    local t0=$SECONDS mode ev run k i
    if [ "${1:-}" = --build-only ]; then
        build
        log "built $BIN"
        return 0
    fi
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    cleanup
    rm -rf "$WORK"
    mkdir -p "$WORK/log"
    chmod 755 "$WORK" # the FRR daemons (user frr) must reach their directories
    : >"$WORK/events.txt"
    : >"$WORK/tput.txt"
    build
    cgroups_up
    log "bed up"
    net_up
    frr_start rtr
    for i in $(seq 1 $NODES); do frr_start n"$i"; done
    for i in $(seq 1 $NODES); do start_backend "$i"; done
    wait_for 30 "BGP sessions" bgp_up_are $NODES
    for mode in $MODES; do
        log "mode $mode: up"
        mode_up "$mode"
        baseline "$mode"
        for run in $(seq 1 "$RUNS"); do
            for ev in $EVENTS; do
                log "mode $mode run $run event $ev"
                measure "$mode" "$ev" "$run"
            done
        done
        mode_down "$mode"
    done
    # Throughput: 1, 2, 3 anycast nodes and the VRRP pair, alternating, so that each sees the
    # same machine.
    for run in $(seq 1 "$TPUT_RUNS"); do
        for k in $(seq 1 $NODES) vrrp; do
            log "throughput run $run: $k"
            if [ "$k" = vrrp ]; then
                mode_up vrrp
                throughput vrrp "$run" $VRRP_VIP 2
                mode_down vrrp
            else
                for i in $(seq 1 "$k"); do start_anycast "$i"; done
                wait_anycast "$k"
                sleep 1
                throughput "anycast-$k" "$run" $VIP "$k"
                mode_down anycast
            fi
        done
    done
    {
        echo "Run $(date -u +%FT%TZ): kernel $(uname -r), $(nproc) vCPUs, load average $(cut -d' ' -f1-3 /proc/loadavg),"
        echo "FRR $($FRR/bgpd --version 2>/dev/null | head -1 | awk '{print $3}'), $(nginx -v 2>&1 | sed 's/^nginx version: //') backends, RUNS=$RUNS, RATE=$RATE, $((SECONDS - t0)) s,"
        echo "throughput: TPUT_RUNS=$TPUT_RUNS x ${TPUT_SECS} s, CONCURRENCY=$CONCURRENCY over CLIENTS=$CLIENTS, NODE_CPU=${NODE_CPU:-unset}${CGROOT:+ ($CGROOT)}"
    } >"$WORK/info.txt"
    $PY "$HERE/analyze.py" "$WORK" | tee "$WORK/results.md"
    log "raw data in $WORK"
}

main "$@"
