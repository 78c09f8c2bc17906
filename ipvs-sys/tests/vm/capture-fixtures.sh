#!/usr/bin/env bash
# Records ipvsadm's netlink exchange with the real kernel (strace hex dumps inside the IPVS
# VM) for every IPVS command, as the fixture file the wire tests read:
#   # ipvsadm ARGS          one block per command
#   > HEX                   a message ipvsadm sent
#   < HEX                   a message the kernel sent back
# Generic netlink controller traffic (family resolution) is left out.
#   capture-fixtures.sh > ../fixtures/ipvsadm-exchange.txt
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
read -r -d '' GUEST <<'EOF_GUEST' || true
cap() {
    echo "# ipvsadm $*"
    strace -qq -xx -s 0 -e trace=sendmsg,recvmsg -e write=all -e read=all ipvsadm "$@" 2>&1 >/dev/null |
        awk '/^sendmsg\(/ { dir = ">"; skip = 0; next }
             /^recvmsg\(/ { dir = "<"; skip = ($0 ~ /MSG_PEEK/); next }
             /^ \| [0-9a-f]{5}  / && !skip {
                 line = substr($0, 11, 49); gsub(/ /, "", line); hex[dir] = hex[dir] line; last = dir; next }
             /^ \* [0-9]+ bytes in buffer/ { flush(); next }
             function flush() { if (last != "" && hex[last] != "") print last " " hex[last]; hex[">"] = ""; hex["<"] = ""; last = "" }
             END { flush() }'
}
cap -A -t 192.0.2.10:80 -s wrr -p 300
cap -A -u [2001:db8::10]:53 -s sh -b sh-fallback,sh-port -o
cap -A -f 7 -s mh -b mh-port
cap -A --sctp-service 192.0.2.11:3868 -s rr -p 60 -M 255.255.255.0
cap -E -t 192.0.2.10:80 -s wlc
cap -a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3 -x 100 -y 10
cap -a -t 192.0.2.10:80 -r 198.51.100.2 -i --tun-type gue --tun-port 6080 --tun-csum
cap -a -u [2001:db8::10]:53 -r [2001:db8::20]:53 -m
cap -e -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 0
cap -L -n
cap -L -n -t 192.0.2.10:80
cap -d -t 192.0.2.10:80 -r 198.51.100.2
cap -Z -t 192.0.2.10:80
cap -Z
cap --set 900 60 120
cap -L --timeout
cap --start-daemon master --mcast-interface dummy0 --syncid 5
cap -L --daemon
cap --stop-daemon master
cap -A -t 192.0.2.10:80 -s rr
cap -d -t 192.0.2.10:80 -r 198.51.100.9
cap -D -t 192.0.2.10:80
cap -C
EOF_GUEST
"$HERE/ipvs-vm.sh" --add /usr/bin/strace -- "$GUEST" |
    awk 'function type_at(h, i) { return substr(h, i + 2, 2) substr(h, i, 2) }
         /^# / { print; next }
         /^[<>] / { t = type_at($2, 9); if (t == "0002") t = type_at($2, 49); if (t != "0010") print }'
