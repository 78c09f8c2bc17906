#!/usr/bin/env bash
# HA HTTP proxy pair benchmark: our vip-proxy (examples/examples/vip-proxy.rs, release build)
# vs nginx + keepalived, in the same network-namespace topology, with the same backends and
# the same load generator, in one run. See README.md in this directory.
#
#   sudo benches/proxy/run.sh               # RUNS=5 per scenario and pair, ~7 min
#   RUNS=7 SCENARIOS="A B" sudo -E benches/proxy/run.sh
#   VIP_PROXY=/path/to/vip-proxy ...       # a prebuilt binary instead of cargo build --release
#   benches/proxy/run.sh --build-only      # only build vip-proxy (CI: the bench cannot rot)
#
# Pairs: ours (vip-proxy with its crash supervisor, the default), ours-nosup (vip-proxy
# --no-crash-supervisor), nginx (nginx + keepalived).
# Environment: RUNS (5), RATE (500 requests/s), SCENARIOS ("A B C D"), PAIRS ("ours ours-nosup nginx"),
# TPUT_RUNS (3), WORK (/tmp/pb-bench, emptied first).
# Needs root, iproute2, tcpdump, python3, nginx (1.22), keepalived (2.2.7). Only 192.0.2.0/24, only
# inside namespaces named pb-*, which it creates and deletes; it kills only what it started.
set -euo pipefail

P=pb
SW=$P-sw
VIP=192.0.2.100
ADVERT=0.1
RUNS=${RUNS:-5}
RATE=${RATE:-500}
SCENARIOS=${SCENARIOS:-"A B C D"}
PAIRS=${PAIRS:-"ours ours-nosup nginx"}
OURS_EXTRA=() # extra vip-proxy arguments of the pair being measured
TPUT_RUNS=${TPUT_RUNS:-3}
WORK=${WORK:-/tmp/$P-bench}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=python3
declare -A OCT=([p1]=11 [p2]=12 [b1]=21 [b2]=22 [b3]=23 [c]=99)
HOSTS="p1 p2 b1 b2 b3 c"

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
    tools="ip python3 tcpdump"
    # nginx + keepalived only for their pair (PAIRS=ours is the smoke run CI does).
    case " $PAIRS " in *" nginx "*) tools="$tools nginx keepalived" ;; esac
    for tool in $tools; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
fi

# ------------------------------------------------------------------ processes we started
# A pid is ours when it is alive and inside one of our pb-* namespaces.
ours() {
    [ -n "${1:-}" ] && [ -d "/proc/$1" ] || return 1
    local ns
    ns=$(ip netns identify "$1" 2>/dev/null) || return 1
    [[ $ns == $P-* ]]
}
pidf() { cat "$1" 2>/dev/null || true; }
# Starts "$@" in namespace $1 in the background; its pid goes to file $2.
bg_in() {
    local ns=$1 pidfile=$2 logfile=$3
    shift 3
    ip netns exec "$P-$ns" "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$pidfile"
    echo $! >>"$WORK/pids"
    disown $!
}
wait_gone() { # pids...: wait up to 10 s until none of them is alive
    local end=$((SECONDS + 10)) pid alive
    while :; do
        alive=""
        for pid in "$@"; do [ -n "$pid" ] && [ -d "/proc/$pid" ] && alive+=" $pid"; done
        [ -z "$alive" ] && return 0
        [ $SECONDS -lt $end ] || die "still running:$alive"
        sleep 0.02
    done
}

cleanup() {
    local f pid ns
    for f in "$WORK"/*/*.pid "$WORK/pids"; do
        [ -f "$f" ] || continue
        for pid in $(cat "$f"); do ours "$pid" && kill -9 "$pid" 2>/dev/null || true; done
    done
    # What is left inside our namespaces is theirs (nginx workers, check scripts).
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-" || true); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}

# ------------------------------------------------------------------ topology
net_up() {
    ip netns add $SW
    ip -n $SW link add br0 type bridge mcast_snooping 0
    ip -n $SW link set br0 up
    local h
    for h in $HOSTS; do
        ip netns add $P-$h
        ip -n $SW link add "$h" type veth peer name eth0 netns $P-$h
        ip -n $SW link set "$h" master br0 up
        ip -n $P-$h link set lo up
        ip -n $P-$h link set eth0 up
        ip -n $P-$h addr add 192.0.2.${OCT[$h]}/24 dev eth0
        mkdir -p "$WORK/$h"
    done
    # nginx binds the VIP before owning it this way; vip-proxy uses IP_FREEBIND instead.
    for h in p1 p2; do ip netns exec $P-$h sysctl -qw net.ipv4.ip_nonlocal_bind=1; done
    ip netns exec $P-c sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
}

has_vip() { ip -n $P-$1 -4 addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }

wait_p1_master() { # p1 holds the VIP and p2 does not, still 0.3 s later
    local end=$((SECONDS + 30))
    while :; do
        if has_vip p1 && ! has_vip p2; then
            sleep 0.3
            has_vip p1 && ! has_vip p2 && return 0
        fi
        [ $SECONDS -lt $end ] || die "p1 did not become the only VIP holder"
        sleep 0.02
    done
}

start_backend() {
    local b=$1 end=$((SECONDS + 10))
    bg_in "$b" "$WORK/$b/httpd.pid" "$WORK/$b/httpd.log" $PY "$HERE/backend.py" "$b" 192.0.2.${OCT[$b]} 8080
    until ip netns exec $P-$b ss -Hltn "sport = :8080" | grep -q LISTEN; do
        [ $SECONDS -lt $end ] || die "backend $b did not start"
        sleep 0.02
    done
}

start_monitors() { # VIP additions on both nodes, with timestamps from the same clock as the client
    local n
    for n in p1 p2; do
        TZ=UTC ip -n $P-$n -ts monitor address >>"$WORK/mon-$n.log" 2>&1 &
        echo $! >>"$WORK/pids"
        disown $!
    done
    # p1's adverts, to compare "last advert -> VIP on p2" with Master_Down_Interval.
    ip netns exec $SW tcpdump -i br0 -n -tt -l -U 'ip proto 112 and src host 192.0.2.11' \
        >"$WORK/cap.txt" 2>"$WORK/cap.err" &
    echo $! >>"$WORK/pids"
    disown $!
    sleep 0.5
}

# ------------------------------------------------------------------ ours: vip-proxy
build_ours() {
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

start_ours() { # $1 node, $2 priority
    local backends=() b
    for b in b1 b2 b3; do backends+=(--backend "http://192.0.2.${OCT[$b]}:8080"); done
    bg_in "$1" "$WORK/$1/proxy.pid" "$WORK/$1/proxy.log" "$BIN" --vip $VIP/24 --interface eth0 \
        --vrid 51 --priority "$2" --advert-interval $ADVERT --listen-port 80 \
        --check-path / --check-interval 100ms --check-timeout 100ms --rise 2 --fall 2 \
        --connect-timeout 1s --drain-timeout 5s "${backends[@]}" "${OURS_EXTRA[@]}"
}

stop_ours() { # $1 node: SIGTERM, wait for the exit
    local pid
    pid=$(pidf "$WORK/$1/proxy.pid")
    if ours "$pid"; then
        kill -TERM "$pid"
        wait_gone "$pid"
    fi
}

# ------------------------------------------------------------------ nginx + keepalived
nginx_conf() { # $1 node; nginx's upstream defaults (proxy_next_upstream error timeout)
    local d=$WORK/$1
    cat <<EOF
worker_processes auto;
worker_rlimit_nofile 16384;
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
    upstream pool {
        server 192.0.2.21:8080;
        server 192.0.2.22:8080;
        server 192.0.2.23:8080;
    }
    server {
        listen $VIP:80 backlog=4096;
        location / { proxy_pass http://pool; }
    }
}
EOF
}

start_nginx() {
    local d=$WORK/$1 end=$((SECONDS + 10)) pid
    mkdir -p "$d/tmp"
    nginx_conf "$1" >"$d/nginx.conf"
    rm -f "$d/nginx.pid"
    bg_in "$1" "$d/nginx.master" "$d/nginx.out" nginx -e "$d/nginx-error.log" -p "$d/" -c "$d/nginx.conf"
    pid=$(pidf "$d/nginx.master")
    until [ "$(pidf "$d/nginx.pid")" = "$pid" ] && [ -n "$(pgrep -P "$pid")" ]; do
        [ $SECONDS -lt $end ] || die "nginx did not start on $1"
        sleep 0.02
    done
}

nginx_pids() { local m; m=$(pidf "$WORK/$1/nginx.pid"); echo "$m $(pgrep -P "$m" | tr '\n' ' ')"; }

reload_nginx() { # fresh workers: forget which backend failed
    local m old
    m=$(pidf "$WORK/$1/nginx.pid")
    old=$(pgrep -P "$m" | tr '\n' ' ')
    kill -HUP "$m"
    # shellcheck disable=SC2086
    wait_gone $old
}

stop_nginx() {
    local m
    m=$(pidf "$WORK/$1/nginx.pid")
    if ours "$m"; then
        local all
        all=$(nginx_pids "$1")
        kill -TERM "$m"
        # shellcheck disable=SC2086
        wait_gone $all
    fi
}

start_ka() { # $1 node, $2 priority. The check is this node's nginx master pid (pidof would
    # see the other node's nginx too: one PID namespace); keepalived 2.2.7 refuses intervals < 1 s.
    local d=$WORK/$1 end=$((SECONDS + 10))
    rm -f "$d"/k.pid "$d"/v.pid "$d"/c.pid
    printf '#!/bin/sh\nread pid < %s && kill -0 "$pid" 2>/dev/null\n' "$d/nginx.pid" >"$d/check-nginx.sh"
    chmod 755 "$d/check-nginx.sh"
    cat >"$d/keepalived.conf" <<EOF
global_defs {
    router_id $P-$1
    vrrp_version 3
    script_user root
    enable_script_security
}
vrrp_script chk_nginx {
    script "$d/check-nginx.sh"
    interval 1
    weight -60
    fall 1
    rise 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $2
    advert_int $ADVERT
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
    track_script {
        chk_nginx
    }
}
EOF
    (ip netns exec $P-$1 keepalived -n -l -P -f "$d/keepalived.conf" \
        -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" </dev/null >>"$d/keepalived.log" 2>&1 &)
    until [ -s "$d/v.pid" ] && [ -s "$d/k.pid" ]; do
        [ $SECONDS -lt $end ] || die "keepalived did not start on $1"
        sleep 0.02
    done
    cat "$d/k.pid" "$d/v.pid" >>"$WORK/pids"
}

stop_ka() {
    local d=$WORK/$1 k v
    k=$(pidf "$d/k.pid")
    v=$(pidf "$d/v.pid")
    ours "$k" && kill -TERM "$k"
    wait_gone $k $v
}

# ------------------------------------------------------------------ pairs
pair_up() {
    case $1 in
    ours | ours-nosup)
        start_ours p2 100
        start_ours p1 150
        ;;
    nginx)
        start_nginx p1
        start_nginx p2
        start_ka p2 100
        start_ka p1 150
        ;;
    esac
    wait_p1_master
    sleep 1
}

pair_down() {
    case $1 in
    ours | ours-nosup)
        stop_ours p1
        stop_ours p2
        ;;
    nginx)
        stop_ka p1
        stop_ka p2
        stop_nginx p1
        stop_nginx p2
        ;;
    esac
    local n
    for n in p1 p2; do ip -n $P-$n addr del $VIP/24 dev eth0 2>/dev/null || true; done
}

# ------------------------------------------------------------------ load and events
CLIENT=
client_start() { # $1 seconds (open loop at RATE), $2 log; returns once it is sending
    rm -f "$2.ready"
    ip netns exec $P-c $PY "$HERE/client.py" --rate "$RATE" --duration "$1" --out "$2" --ready "$2.ready" &
    CLIENT=$!
    echo $CLIENT >>"$WORK/pids"
    local end=$((SECONDS + 10))
    until [ -s "$2.ready" ]; do
        [ $SECONDS -lt $end ] || die "client did not start"
        sleep 0.01
    done
}
client_wait() { wait "$CLIENT" || die "client failed"; }

# $1 pair, $2 scenario, $3 run, $4 seconds after the event: load with the event at a random
# phase (1-2 s in), the event itself from the function event_<pair>_<scenario>.
# VICTIMS: the pids a process-death event (C) kills, read before the clock so that reading
# them (forks) does not count as outage.
EVENT_T=
VICTIMS=
measure() {
    local pair=$1 sc=$2 run=$3 post=$4 f=$WORK/log/$1-$2-$3.txt pre
    pre=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 1 + r / 32768 }')
    client_start "$(awk -v a="$pre" -v b="$post" 'BEGIN { print a + b }')" "$f"
    sleep "$pre"
    case $pair in
    nginx) VICTIMS=$(nginx_pids p1) ;;
    *) VICTIMS=$(pidf "$WORK/p1/proxy.pid") ;;
    esac
    EVENT_T=$(date +%s%N)
    "event_${pair}_$sc" "$run"
    echo "$pair $sc $run $EVENT_T $f" >>"$WORK/events.txt"
    client_wait
}

backend_of() { echo "b$(((($1 - 1) % 3) + 1))"; }

# A: the master host crashes: every process of the pair on p1 dies at once (vip-proxy's crash
# supervisor, its child, too), and its VIP with it.
event_ours_A() {
    pkill -9 -P "$(pidf "$WORK/p1/proxy.pid")" || true
    kill -9 "$(pidf "$WORK/p1/proxy.pid")"
    ip -n $P-p1 addr del $VIP/24 dev eth0
}
event_nginx_A() {
    # shellcheck disable=SC2046
    kill -9 "$(pidf "$WORK/p1/v.pid")" "$(pidf "$WORK/p1/k.pid")" $(nginx_pids p1)
    ip -n $P-p1 addr del $VIP/24 dev eth0
}
restore_ours_A() { start_ours p1 150; }
restore_nginx_A() {
    start_nginx p1
    start_ka p1 150
}
# B: planned stop of the master's VRRP (ours: the whole proxy; nginx keeps running).
event_ours_B() { kill -TERM "$(pidf "$WORK/p1/proxy.pid")"; }
event_nginx_B() { kill -TERM "$(pidf "$WORK/p1/k.pid")"; }
restore_ours_B() {
    wait_gone "$(pidf "$WORK/p1/proxy.pid")"
    start_ours p1 150
}
restore_nginx_B() {
    wait_gone "$(pidf "$WORK/p1/k.pid")" "$(pidf "$WORK/p1/v.pid")"
    start_ka p1 150
}
# C: the proxy process dies; the host stays (and so does the VIP it holds, unless the crash
# supervisor removes it).
# shellcheck disable=SC2086
event_ours_C() { kill -9 $VICTIMS; }
# shellcheck disable=SC2086
event_nginx_C() { kill -9 $VICTIMS; }
restore_ours_C() { start_ours p1 150; }
restore_nginx_C() { start_nginx p1; }
# D: one backend's server is SIGKILLed (new connections to it are refused).
event_ours_D() { kill -9 "$(pidf "$WORK/$(backend_of "$1")/httpd.pid")"; }
event_nginx_D() { event_ours_D "$1"; }
restore_ours_D() {
    start_backend "$(backend_of "$1")"
    sleep 0.5 # rise 2 x 100 ms
}
restore_nginx_D() {
    start_backend "$(backend_of "$1")"
    reload_nginx p1
}
# ours-nosup: the same events as ours.
for f in event restore; do
    for s in A B C D; do eval "${f}_ours-nosup_$s() { ${f}_ours_$s \"\$@\"; }"; done
done

post_of() { # seconds of load after the event
    case $1-$2 in
    nginx-C) echo 4.5 ;; # the vrrp_script runs once a second
    *-D) echo 2 ;;
    *) echo 3 ;;
    esac
}

baseline() { # $1 pair: 5 s of the open-loop load without an event
    client_start 5 "$WORK/log/$1-base-1.txt"
    echo "$1 base 1 $(date +%s%N) $WORK/log/$1-base-1.txt" >>"$WORK/events.txt"
    client_wait
}

throughput() { # $1 pair, $2 run: closed loop, 64 connections, 5 s
    ip netns exec $P-c $PY "$HERE/client.py" --concurrency 64 --duration 5 \
        --out "$WORK/log/$1-tput-$2.txt"
    echo "$1 tput $2 0 $WORK/log/$1-tput-$2.txt" >>"$WORK/events.txt"
}

main() {
    local t0=$SECONDS pair run sc
    if [ "${1:-}" = --build-only ]; then
        build_ours
        log "built $BIN"
        return 0
    fi
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    cleanup
    rm -rf "$WORK"
    mkdir -p "$WORK/log"
    : >"$WORK/events.txt"
    : >"$WORK/pids"
    build_ours
    net_up
    for b in b1 b2 b3; do start_backend $b; done
    start_monitors
    for pair in $PAIRS; do
        OURS_EXTRA=()
        [ "$pair" = ours-nosup ] && OURS_EXTRA=(--no-crash-supervisor)
        log "pair $pair: up"
        pair_up "$pair"
        baseline "$pair"
        for run in $(seq 1 "$RUNS"); do
            for sc in $SCENARIOS; do
                log "pair $pair run $run scenario $sc"
                measure "$pair" "$sc" "$run" "$(post_of "$pair" "$sc")"
                "restore_${pair}_$sc" "$run"
                wait_p1_master
                sleep 1
            done
        done
        pair_down "$pair"
    done
    # Throughput runs alternate between the pairs, so that both see the same machine.
    for run in $(seq 1 "$TPUT_RUNS"); do
        for pair in $PAIRS; do
            OURS_EXTRA=()
            [ "$pair" = ours-nosup ] && OURS_EXTRA=(--no-crash-supervisor)
            log "pair $pair throughput run $run"
            pair_up "$pair"
            throughput "$pair" "$run"
            pair_down "$pair"
        done
    done
    sleep 0.5 # monitors
    {
        echo "Run $(date -u +%FT%TZ): kernel $(uname -r), $(nproc) vCPUs, load average $(cut -d' ' -f1-3 /proc/loadavg),"
        echo "$(nginx -v 2>&1 | sed 's/^nginx version: //'), $(keepalived --version 2>&1 | head -1), RUNS=$RUNS, RATE=$RATE, $((SECONDS - t0)) s"
    } >"$WORK/info.txt"
    $PY "$HERE/analyze.py" "$WORK" | tee "$WORK/results.md"
    log "raw data in $WORK"
}

main "$@"
