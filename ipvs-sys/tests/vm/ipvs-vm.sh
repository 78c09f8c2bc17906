#!/usr/bin/env bash
# Boot Debian's stock kernel with IPVS under qemu, run one command as root inside, and exit with
# its status. Used by ipvs-sys's kernel tests and the IPVS benchmark: the host's own IPVS tables
# are never touched.
#
#   ipvs-vm.sh [--add HOST[:GUEST]]... [--module NAME]... [--stdin] [--timeout SEC] [--mem MB]
#              -- COMMAND...
#
# COMMAND... is joined with spaces and run by the guest's busybox /bin/sh -c in /root; its
# stdout and stderr come back on this script's stdout. --add copies a file (and, for a dynamic
# ELF, its libraries) into the guest at GUEST (default: the same absolute path). --stdin feeds
# this script's stdin to COMMAND. --module loads one more module of the guest's kernel (and
# its dependencies) before COMMAND, e.g. veth and bridge for namespaces joined by a LAN.
# Host RUST_* and IPVS_* variables are exported to COMMAND.
# Guest: busybox, /usr/sbin/ipvsadm, ip_vs with every scheduler Debian builds, nf_conntrack,
# lo up, dummy0 with 192.0.2.1/24 and 2001:db8::1/64.
#
# The kernel package (the one linux-image-amd64 depends on) is fetched once with
# `apt-get download` + `dpkg-deb -x` into $IPVS_SYS_VM_CACHE (default /var/tmp/ipvs-sys-vm).
# Files added with --add that are ELF lose their debug info (strip --strip-debug, when binutils
# is there): the initramfs lives in guest RAM, and a debug build of a test binary is ~100 MB.
# Exit status: COMMAND's; 124 timeout; 125 the VM failed; 2 setup error (message on stderr).
# Needs: qemu-system-x86 busybox-static ipvsadm cpio kmod (apt-get install -y ...).
set -euo pipefail

CACHE=${IPVS_SYS_VM_CACHE:-/var/tmp/ipvs-sys-vm}
TIMEOUT=${IPVS_SYS_VM_TIMEOUT:-240}
MEM=1024 STDIN=0 ADDS=() EXTRA_MODULES=()
die() { echo "ipvs-vm: error: $*" >&2; exit 2; }
quote() { local s=$1; printf "'%s'" "${s//\'/\'\\\'\'}"; }

while [ $# -gt 0 ]; do
    case $1 in
        --add) ADDS+=("${2:?--add wants HOST[:GUEST]}"); shift 2 ;;
        --module) EXTRA_MODULES+=("${2:?--module wants a module name}"); shift 2 ;;
        --stdin) STDIN=1; shift ;;
        --timeout) TIMEOUT=${2:?}; shift 2 ;;
        --mem) MEM=${2:?}; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option '$1'" ;;
    esac
done
[ $# -gt 0 ] || die "no COMMAND (usage: ipvs-vm.sh [OPTIONS] -- COMMAND...)"
CMD="$*"

for tool in qemu-system-x86_64 cpio modprobe depmod ldd flock timeout apt-get dpkg-deb; do
    command -v "$tool" >/dev/null ||
        die "'$tool' not found (apt-get install -y qemu-system-x86 busybox-static ipvsadm cpio kmod)"
done
BUSYBOX=/bin/busybox
IPVSADM=$(command -v ipvsadm || echo /usr/sbin/ipvsadm)
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || die "static $BUSYBOX missing (busybox-static)"
[ -x "$IPVSADM" ] || die "ipvsadm missing (apt-get install -y ipvsadm)"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# --- kernel: downloaded and unpacked once ---------------------------------------------------
if [ ! -s "$CACHE/kernel-package" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (apt-get update first?)"
    echo "$pkg" >"$CACHE/kernel-package"
fi
PKG=$(cat "$CACHE/kernel-package")
KROOT=$CACHE/$PKG
if [ ! -f "$KROOT/.ready" ]; then
    echo "ipvs-vm: downloading $PKG into $KROOT (first run only)" >&2
    tmp=$CACHE/.fetch.$$
    rm -rf "$tmp" "$KROOT"; mkdir -p "$tmp"
    (cd "$tmp" && apt-get download -qq "$PKG" 2>&1 | grep -v unsandboxed >&2) || true
    deb=$(ls "$tmp"/*.deb 2>/dev/null) || die "apt-get download $PKG failed"
    dpkg-deb -x "$deb" "$tmp/root"
    [ -d "$tmp/root/lib/modules" ] || { mkdir -p "$tmp/root/lib"; mv "$tmp/root/usr/lib/modules" "$tmp/root/lib/"; }
    kver=$(ls "$tmp/root/lib/modules")
    depmod -b "$tmp/root" "$kver"
    # The uncompressed vmlinux boots through its PVH entry point: no in-guest decompression,
    # which is most of the boot time under TCG.
    vmlinuz=$tmp/root/boot/vmlinuz-$kver
    off=$(LC_ALL=C grep -m1 -abo -P '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1) ||
        die "no xz payload in $vmlinuz"
    tail -c +$((off + 1)) "$vmlinuz" | xz -dc >"$tmp/root/boot/vmlinux" 2>/dev/null || true
    [ "$(head -c4 "$tmp/root/boot/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
        die "could not extract vmlinux from $vmlinuz"
    rm -f "$deb"
    mv "$tmp/root" "$KROOT"; rmdir "$tmp"
    echo "$kver" >"$KROOT/.ready"
fi
KVER=$(cat "$KROOT/.ready")
MODDIR=$KROOT/lib/modules/$KVER

# --- base initramfs: busybox, ipvsadm, modules, /init (rebuilt when its inputs change) -------
MODULES=(dummy nf_conntrack ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr
    ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos ip_vs_pe_sip)
closure() {  # module paths relative to MODDIR, dependencies first; absent modules are skipped
    local m
    for m in "$@"; do
        modprobe -d "$KROOT" -S "$KVER" -C /dev/null --show-depends "$m" 2>/dev/null || true
    done | awk -v d="$MODDIR/" '$1 == "insmod" && index($2, d) == 1 {
        p = substr($2, length(d) + 1); if (!seen[p]++) print p }'
}
libs_of() {  # the shared libraries (and loader) of a dynamic ELF file
    [ "$(head -c4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || return 0
    ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
}
put() {  # put HOSTFILE GUESTPATH STAGE; ELF files lose their debug info (guest RAM holds them)
    mkdir -p "$3$(dirname "$2")"
    cp -L --preserve=mode "$1" "$3$2"
    if [ "$(head -c4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && command -v strip >/dev/null; then
        strip --strip-debug "$3$2" 2>/dev/null || cp -L --preserve=mode "$1" "$3$2"
    fi
    local lib
    for lib in $(libs_of "$1"); do [ -e "$3$lib" ] || put "$lib" "$lib" "$3"; done
}
mkcpio() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet); }

read -r -d '' INIT <<'EOF' || true
#!/bin/sh
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo 1 >/proc/sys/kernel/printk
KD=/lib/modules/$(uname -r)
while read -r ko args; do
    insmod "$KD/$ko" $args 2>/dev/null || case $ko in kernel/arch/*) ;; *) echo "ipvs-vm: insmod $ko failed" ;; esac
done </etc/vm/modules
ip link set lo up
ip addr add 192.0.2.1/24 dev dummy0
ip -6 addr add 2001:db8::1/64 dev dummy0 nodad
ip link set dummy0 up
[ -f /etc/vm/env ] && . /etc/vm/env
IN=/dev/null; [ -f /etc/vm/stdin ] && IN=/etc/vm/stdin
cd /root
echo "VM-BEGIN-$(cat /etc/vm/nonce)"
/bin/sh -c "$(cat /etc/vm/cmd)" <"$IN"
echo "VM-EXIT-$(cat /etc/vm/nonce)=$?"
sync
poweroff -f
EOF

mapfile -t KOS < <(closure "${MODULES[@]}")
key=$( { echo "$PKG $KVER"; printf '%s\n' "$INIT" "${KOS[@]}";
    for f in "$BUSYBOX" "$IPVSADM" $(libs_of "$IPVSADM"); do stat -L -c '%n %s %Y' "$f"; done; } |
    sha256sum | cut -c1-16)
BASE=$CACHE/base-$key.cpio
if [ ! -f "$BASE" ]; then
    st=$CACHE/.stage.$$; rm -rf "$st"; mkdir -p "$st"
    (cd "$st" && mkdir -p bin sbin usr/bin usr/sbin usr/local/bin lib lib64 etc/vm proc sys dev \
        tmp root && chmod 1777 tmp)
    cp "$BUSYBOX" "$st/bin/busybox"
    for a in $("$BUSYBOX" --list-full); do [ -e "$st/$a" ] || ln -s /bin/busybox "$st/$a"; done
    put "$IPVSADM" /usr/sbin/ipvsadm "$st"
    for ko in "${KOS[@]}"; do
        mkdir -p "$st/lib/modules/$KVER/$(dirname "$ko")"
        cp "$MODDIR/$ko" "$st/lib/modules/$KVER/$ko"
        case $ko in */dummy.ko) echo "$ko numdummies=1" ;; *) echo "$ko" ;; esac >>"$st/etc/vm/modules"
    done
    cp "$MODDIR"/modules.order "$MODDIR"/modules.builtin* "$st/lib/modules/$KVER/"
    depmod -b "$st" "$KVER"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$st/etc/passwd"
    echo 'root:x:0:' >"$st/etc/group"
    printf '%s\n' '127.0.0.1 localhost' '::1 localhost' >"$st/etc/hosts"
    printf '%s\n' "$INIT" >"$st/init"; chmod 755 "$st/init"
    mkcpio "$st" >"$BASE.tmp"; mv "$BASE.tmp" "$BASE"; rm -rf "$st"
fi
flock -u 9

# --- this run: command, files, stdin ---------------------------------------------------------
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
QPID=''
cleanup() {
    [ -z "$QPID" ] || kill "$QPID" 2>/dev/null || true
    [ -f "$RUN/console" ] && cp "$RUN/console" "$CACHE/last-console.log"
    rm -rf "$RUN"
}
trap cleanup EXIT
NONCE=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
st=$RUN/stage; mkdir -p "$st/etc/vm"
printf '%s\n' "$CMD" >"$st/etc/vm/cmd"
echo "$NONCE" >"$st/etc/vm/nonce"
env | grep -E '^(RUST|IPVS)_[A-Z0-9_]*=' | while IFS= read -r kv; do
    printf 'export %s=%s\n' "${kv%%=*}" "$(quote "${kv#*=}")"
done >"$st/etc/vm/env" || true
[ "$STDIN" = 0 ] || cat >"$st/etc/vm/stdin"
for a in "${ADDS[@]}"; do
    src=${a%%:*}; dst=${a#*:}; [ "$a" = "$src" ] && dst=$(realpath "$src")
    [ -e "$src" ] || die "--add $src: no such file"
    put "$src" "$dst" "$st"
done
if [ ${#EXTRA_MODULES[@]} -gt 0 ]; then
    # The run's /etc/vm/modules replaces the base one (later cpio entries win): the base
    # modules, then the extra ones and their dependencies, copied into this run's cpio.
    for m in "${EXTRA_MODULES[@]}"; do
        [ -n "$(closure "$m")" ] || die "--module $m: no such module in $PKG"
    done
    mapfile -t XKOS < <(closure "${EXTRA_MODULES[@]}")
    for ko in "${KOS[@]}"; do
        case $ko in */dummy.ko) echo "$ko numdummies=1" ;; *) echo "$ko" ;; esac
    done >"$st/etc/vm/modules"
    for ko in "${XKOS[@]}"; do
        case " ${KOS[*]} " in *" $ko "*) continue ;; esac
        mkdir -p "$st/lib/modules/$KVER/$(dirname "$ko")"
        cp "$MODDIR/$ko" "$st/lib/modules/$KVER/$ko"
        echo "$ko" >>"$st/etc/vm/modules"
    done
fi
{ cat "$BASE"; mkcpio "$st"; } >"$RUN/initrd"

# A /dev/kvm backed by kvm_pvm cannot boot a stock kernel, so only hardware KVM is used.
ACCEL=(-accel tcg -cpu qemu64)
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
    ACCEL=(-enable-kvm -cpu host)
fi
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -m "$MEM" -smp 1 -nodefaults \
    -no-user-config -nographic -no-reboot -serial "file:$RUN/console" \
    -kernel "$KROOT/boot/vmlinux" -initrd "$RUN/initrd" \
    -append "console=ttyS0 quiet panic=-1 rodata=off cryptomgr.notests" \
    </dev/null >"$RUN/qemu.out" 2>&1 &
QPID=$!
qrc=0; wait "$QPID" || qrc=$?
QPID=''
tr -d '\r' <"$RUN/console" >"$RUN/console.txt"
rc=$(sed -n "s/^VM-EXIT-$NONCE=\([0-9]*\)$/\1/p" "$RUN/console.txt")
# The command's output: everything between the markers (to the end if the guest died).
awk -v b="VM-BEGIN-$NONCE" -v e="VM-EXIT-$NONCE=" \
    'index($0, e) == 1 { exit } on { print } $0 == b { on = 1 }' "$RUN/console.txt"
if [ -z "$rc" ]; then
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then echo "ipvs-vm: timed out after ${TIMEOUT}s" >&2; exit 124; fi
    echo "ipvs-vm: the VM did not finish COMMAND (qemu exit $qrc); last console lines:" >&2
    tail -n 30 "$RUN/console.txt" >&2; cat "$RUN/qemu.out" >&2
    exit 125
fi
exit "$rc"
