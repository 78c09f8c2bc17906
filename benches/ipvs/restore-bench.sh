#!/usr/bin/env bash
# IPVS benchmark, in the qemu test VM (fresh boot per measurement: the kernel keeps deleted
# destinations in its trash for 120 s, which slows a second restore).
#  1. restore 1,000 services x 10 destinations (11,000 lines) with the real `ipvsadm -R` and
#     with the ipvsadm example's `-R`, ROUNDS times each, alternating; report both medians
#     and the ratio example/ipvsadm (goal: <= 1.0);
#  2. after the example's restore, criterion-measure `IpvsHandle::apply` with nothing to
#     change on that state (goal: < 20 ms).
# Times are guest times (/proc/uptime, 10 ms resolution) under TCG: compare ratios, not
# absolute values. Usage: benches/ipvs/restore-bench.sh [ROUNDS] (default 3), or
# benches/ipvs/restore-bench.sh --build-only (only build both programs; CI: the bench cannot rot).
set -euo pipefail
BUILD_ONLY=false
if [ "${1:-}" = --build-only ]; then
    BUILD_ONLY=true
    shift
fi
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VM=$ROOT/ipvs-sys/tests/vm/ipvs-vm.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cd "$ROOT"

# BENCH_PROFILE (default release): dev for CI's build check; figures need release.
PROFILE=${BENCH_PROFILE:-release}
cargo build --profile "$PROFILE" -q -p examples --no-default-features --features ipvs --example ipvsadm
EXAMPLE=$CARGO_TARGET_DIR/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/examples/ipvsadm
APPLY=$(cargo bench -q -p benches --bench ipvs_apply --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.target.name == "ipvs_apply" and .executable != null) | .executable')
[ -x "$APPLY" ] || { echo "restore-bench: ipvs_apply bench binary not built" >&2; exit 2; }
[ -x "$EXAMPLE" ] || { echo "restore-bench: no ipvsadm example at $EXAMPLE" >&2; exit 2; }
if $BUILD_ONLY; then
    echo "restore-bench: built $EXAMPLE and $APPLY"
    exit 0
fi

WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RULES=$WORK/rules.txt
for ((i = 0; i < 1000; i++)); do
    svc="192.0.2.$((i % 250 + 1)):$((8000 + i / 250))"
    echo "-A -t $svc -s wrr"
    for ((j = 1; j <= 10; j++)); do
        echo "-a -t $svc -r 198.51.100.$j:$((8000 + i / 250)) -m -w $j"
    done
done >"$RULES"
echo "restore-bench: $(wc -l <"$RULES") rules"

restore() {  # restore TOOL -> seconds (guest), checks the kernel holds every rule afterwards
    local out
    out=$("$VM" --add "$RULES:/root/rules.txt" --add "$EXAMPLE:/usr/local/bin/ipvsadm-rs" -- \
        "a=\$(cut -d' ' -f1 /proc/uptime); $1 -R </root/rules.txt || echo RESTORE-FAILED;" \
        "b=\$(cut -d' ' -f1 /proc/uptime); echo \"RESTORE-SECONDS \$a \$b\";" \
        "echo \"SAVED-LINES \$(ipvsadm -S -n | wc -l)\"")
    if grep -q RESTORE-FAILED <<<"$out" || ! grep -q "^SAVED-LINES 11000$" <<<"$out"; then
        echo "restore-bench: $1 -R did not restore every rule:" >&2; echo "$out" >&2; exit 1
    fi
    awk '$1 == "RESTORE-SECONDS" { printf "%.2f\n", $3 - $2 }' <<<"$out"
}

real=() example=()
for ((r = 1; r <= ROUNDS; r++)); do
    real+=("$(restore ipvsadm)")
    example+=("$(restore ipvsadm-rs)")
    echo "round $r: ipvsadm -R ${real[-1]} s, example -R ${example[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mr=$(median "${real[@]}"); me=$(median "${example[@]}")
echo "restore 1000 services x 10 destinations: ipvsadm -R median ${mr} s, example -R median ${me} s," \
    "ratio example/ipvsadm $(awk -v a="$me" -v b="$mr" 'BEGIN { printf "%.2f", a / b }') (goal <= 1.0)"

echo "apply() no-op on the restored state (criterion, in the VM):"
"$VM" --timeout 600 --add "$RULES:/root/rules.txt" --add "$EXAMPLE:/usr/local/bin/ipvsadm-rs" \
    --add "$APPLY:/root/ipvs_apply" -- \
    'ipvsadm-rs -R </root/rules.txt &&
     for tool in ipvsadm ipvsadm-rs ipvsadm ipvsadm-rs; do
         a=$(cut -d" " -f1 /proc/uptime); $tool -S -n >/dev/null; b=$(cut -d" " -f1 /proc/uptime)
         echo "reference: $tool -S -n (reads the same state) $a $b"
     done &&
     /root/ipvs_apply --bench --noplot --warm-up-time 1 --measurement-time 5 >/tmp/bench.txt 2>&1;
     cat /tmp/bench.txt' |
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
    awk '/^reference:/ { printf "%s %.2f s\n", substr($0, 1, index($0, ")")), $NF - $(NF - 1); next }
         /^Benchmarking [^ ]*: Analyzing/ { name = $2; sub(/:$/, "", name); next }
         /time:/ { sub(/^ +/, ""); print name ": " $0; next }
         /skipped|failed|not a no-op/ { print }'
