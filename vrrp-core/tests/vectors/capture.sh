#!/usr/bin/env bash
# Captures VRRP advertisements sent by a real keepalived and writes them as the text fixtures
# vrrp-core/tests/vectors/*.vec that tests/vectors.rs reads.
#
#   sudo vrrp-core/tests/vectors/capture.sh [OUTDIR]     (OUTDIR defaults to this directory)
#
# Needs root and: keepalived (2.2.7 was used), iproute2, tcpdump, python3.
#
# Topology (every name starts with vcap-, removed on exit, also after a failure):
#
#   vcap-a: eth0 192.0.2.11/24, 2001:db8::11/64, fe80::11/64   keepalived runs here
#      |  veth pair
#   vcap-b: eth0 192.0.2.12/24, 2001:db8::12/64, fe80::12/64   tcpdump listens here
#
# For each keepalived configuration below, keepalived starts with `state MASTER` (so it
# advertises at once), tcpdump records a few adverts on the peer, then keepalived gets SIGTERM
# and sends its priority-0 advert. A small pcap reader turns each VRRP packet into one record:
# the IP source, destination and TTL / hop limit, the VRRP payload in hex, and the fields the
# configuration says it must carry (taken from the configuration, not from the bytes, so the
# test checks the parser against keepalived's intent). Only documentation and link-local
# addresses are used; nothing leaves the two namespaces.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
P=vcap
A=$P-a
B=$P-b
WORK=$(mktemp -d /tmp/$P.XXXXXX)
KEEP_PIDS=()

cleanup() {
    for pid in "${KEEP_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in $A $B; do
        if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns"
        fi
    done
    if [ -n "${VCAP_KEEP:-}" ]; then echo "work files kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "capture.sh: $1 is not installed" >&2; exit 1; }; }
[ "$(id -u)" = 0 ] || { echo "capture.sh: must run as root (network namespaces)" >&2; exit 1; }
for tool in ip keepalived tcpdump python3; do need $tool; done

up() {
    ip netns add $A
    ip netns add $B
    ip link add $P-ea type veth peer name $P-eb
    ip link set $P-ea netns $A
    ip link set $P-eb netns $B
    local i=11
    for ns in $A $B; do
        local dev; dev=$(ip -n $ns -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)
        ip -n $ns link set "$dev" name eth0
        # Fixed link-local addresses, so the IPv6 fixtures do not depend on a MAC address.
        ip -n $ns link set eth0 addrgenmode none
        ip -n $ns link set lo up
        ip -n $ns link set eth0 up
        ip -n $ns addr add 192.0.2.$i/24 dev eth0
        ip -n $ns addr add 2001:db8::$i/64 dev eth0 nodad
        ip -n $ns addr add fe80::$i/64 dev eth0 nodad
        i=$((i + 1))
    done
}

# One capture. $1 fixture name, $2 global_defs extra lines, $3 vrrp_instance body (without
# interface / state), then the expected fields: $4 version $5 family $6 which checksum
# verifies (message-only: VRRPv2, RFC 3768 §5.3.8; pseudo-header: RFC 9568 §5.2.8;
# pseudo-header-multicast-dst: keepalived's old_unicast_checksum; no-pseudo-header:
# keepalived's v3_checksum_as_v2) $7 vrid $8 priority $9 Max Adver Int in centiseconds ${10} auth ${11} addresses.
capture() {
    local name=$1 globals=$2 body=$3
    local d=$WORK/$name
    mkdir -p "$d"
    cat >"$d/keepalived.conf" <<EOF
global_defs {
    router_id $name
$globals
}
vrrp_instance VI_$name {
    interface eth0
    state MASTER
$body
}
EOF
    ip netns exec $B tcpdump -i eth0 -n -U -w "$d/cap.pcap" 'ip proto 112 or ip6 proto 112' \
        >"$d/tcpdump.log" 2>&1 &
    local tcpdump=$!
    KEEP_PIDS+=("$tcpdump")
    sleep 1 # tcpdump attaches its filter
    ip netns exec $A keepalived -n -l -P -f "$d/keepalived.conf" \
        -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" >"$d/keepalived.log" 2>&1 &
    local keepalived=$!
    KEEP_PIDS+=("$keepalived")
    # keepalived enters BACKUP first even with `state MASTER`, then takes over.
    local end=$((SECONDS + 15))
    until grep -qs "Entering MASTER STATE" "$d/keepalived.log"; do
        [ $SECONDS -lt $end ] || { cat "$d/keepalived.log" >&2; echo "$name: keepalived never became master" >&2; exit 1; }
        sleep 0.1
    done
    sleep 2.5 # a few adverts at 0.25..1 s intervals
    local stop; stop=$(date +%s.%N)
    kill -TERM "$keepalived"
    wait "$keepalived" || true
    sleep 0.5
    kill -TERM "$tcpdump"
    wait "$tcpdump" || true
    python3 - "$d/cap.pcap" "$stop" "$OUT/$name.vec" "$name" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" \
        "$(keepalived --version 2>&1 | head -1)" <<'PY'
import ipaddress, struct, sys
pcap, stop, out, name, version, family, mode, vrid, prio, maxadv, auth, addrs, ka = sys.argv[1:]
stop = float(stop)
data = open(pcap, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic not in (0xA1B2C3D4, 0xA1B23C4D):
    sys.exit(f"{pcap}: not a little-endian pcap file (magic {magic:#x})")
nano = magic == 0xA1B23C4D
linktype = struct.unpack("<I", data[20:24])[0]
if linktype != 1:
    sys.exit(f"{pcap}: link type {linktype}, expected Ethernet (1)")
records, off = [], 24
while off + 16 <= len(data):
    sec, frac, incl, _orig = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 112:
            continue
        ttl, src, dst = ip[8], ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        payload = ip[ihl:total]
    elif ethertype == 0x86DD:
        if ip[6] != 112:
            continue  # keepalived sends no extension headers; anything else is not ours
        plen = struct.unpack("!H", ip[4:6])[0]
        ttl, src, dst = ip[7], ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
        payload = ip[40:40 + plen]
    else:
        continue
    records.append((t, src, dst, ttl, payload))
running = [r for r in records if r[0] < stop]
stopping = [r for r in records if r[0] >= stop]
if len(running) < 2 or not stopping:
    sys.exit(f"{name}: captured {len(running)} adverts before SIGTERM and {len(stopping)} after; "
             "expected at least 2 and 1")
with open(out, "w") as f:
    f.write(f"# VRRP adverts sent by {ka}, captured by capture.sh ({name}).\n")
    f.write("# Expected fields come from the keepalived configuration, not from the bytes.\n")
    f.write("# One record per block; `checksum` names the checksum rule that verifies.\n")
    seen = set()
    for t, src, dst, ttl, payload in running + stopping:
        # A master repeats the same bytes; keep each distinct advert once.
        if (src, dst, ttl, payload) in seen:
            continue
        seen.add((src, dst, ttl, payload))
        f.write("\n")
        f.write(f"version {version}\nfamily {family}\nchecksum {mode}\n")
        f.write(f"src {src}\ndst {dst}\nttl {ttl}\n")
        f.write(f"vrid {vrid}\npriority {prio if t < stop else 0}\nmax_adver_int {maxadv}\n")
        f.write(f"auth {auth}\naddresses {addrs}\npayload {payload.hex()}\n")
print(f"{name}: {len(running)} adverts + {len(stopping)} after SIGTERM -> {out}")
PY
}

up

capture v2-noauth "    vrrp_version 2" "    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24
    }" 2 ipv4 message-only 51 150 100 none "192.0.2.100 192.0.2.101"

capture v2-pass "    vrrp_version 2" "    virtual_router_id 52
    priority 120
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cr3t
    }
    virtual_ipaddress {
        192.0.2.102/24
    }" 2 ipv4 message-only 52 120 100 simple:s3cr3t "192.0.2.102"

capture v3-ipv4 "    vrrp_version 3" "    virtual_router_id 53
    priority 200
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.103/24
        192.0.2.104/24
        192.0.2.105/24
    }" 3 ipv4 pseudo-header 53 200 50 none "192.0.2.103 192.0.2.104 192.0.2.105"

# Unicast to the peer: the pseudo-header carries the peer's address as destination.
capture v3-ipv4-unicast "    vrrp_version 3" "    virtual_router_id 56
    priority 100
    advert_int 1
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    virtual_ipaddress {
        192.0.2.106/24
    }" 3 ipv4 pseudo-header 56 100 100 none "192.0.2.106"

# keepalived's `old_unicast_checksum` (compatibility with keepalived <= 1.3.6): unicast, but
# the pseudo-header is computed with the multicast group 224.0.0.18 as destination.
capture v3-ipv4-unicast-old-checksum "    vrrp_version 3" "    virtual_router_id 54
    priority 100
    advert_int 1
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    old_unicast_checksum
    virtual_ipaddress {
        192.0.2.106/24
    }" 3 ipv4 pseudo-header-multicast-dst 54 100 100 none "192.0.2.106"

# keepalived's v3_checksum_as_v2 (VRRPv3 over IPv4 without the pseudo-header) appeared in
# keepalived 2.2.8; 2.2.7 refuses the keyword. Captured only when the keepalived here knows it.
probe=$WORK/probe.conf
printf 'global_defs {\n    v3_checksum_as_v2\n}\n' >"$probe"
probe_out=$(keepalived -t -l -f "$probe" 2>&1 || true) # -t exits non-zero on any config warning
if grep -q "Unknown keyword 'v3_checksum_as_v2'" <<<"$probe_out"; then
    echo "v3-ipv4-checksum-as-v2: skipped, $(keepalived --version 2>&1 | head -1) does not know v3_checksum_as_v2"
else
    capture v3-ipv4-checksum-as-v2 "    vrrp_version 3
    v3_checksum_as_v2" "    virtual_router_id 57
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.107/24
    }" 3 ipv4 no-pseudo-header 57 100 100 none "192.0.2.107"
fi

capture v3-ipv6 "    vrrp_version 3" "    virtual_router_id 55
    priority 180
    advert_int 0.25
    virtual_ipaddress {
        2001:db8::100/64
        2001:db8::101/64
    }" 3 ipv6 pseudo-header 55 180 25 none "2001:db8::100 2001:db8::101"
