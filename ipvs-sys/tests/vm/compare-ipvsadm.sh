#!/bin/sh
# Runs inside the IPVS VM: the ipvsadm example (IPVSADM_RS) must list and save exactly what
# the real ipvsadm lists and saves, after the same commands run by either tool, and its -R
# must restore what the real ipvsadm saved.
#   compare-ipvsadm.sh SCENARIO   (one ipvsadm argument list per line)
set -u
RS=${IPVSADM_RS:?path of the ipvsadm example}
SCENARIO=$1
fail=0
VIEWS='-L -n|-L -n --stats|-L -n --rate|-L -n --exact --stats|-L -n --timeout|-L -n --daemon|-S -n|-L -n -t 192.0.2.10:80'

run_scenario() {  # run_scenario TOOL
    while read -r line; do
        [ -n "$line" ] || continue
        # shellcheck disable=SC2086
        "$1" $line || { echo "FAIL: $1 $line"; fail=1; }
    done <"$SCENARIO"
    "$1" --set 900 60 120 || { echo "FAIL: $1 --set"; fail=1; }
}

compare_views() {  # compare_views LABEL
    old_ifs=$IFS; IFS='|'
    for view in $VIEWS; do
        IFS=$old_ifs
        # shellcheck disable=SC2086
        ipvsadm $view >/tmp/real.out 2>&1
        # shellcheck disable=SC2086
        "$RS" $view >/tmp/rs.out 2>&1
        if cmp -s /tmp/real.out /tmp/rs.out; then
            echo "same: $1: ipvsadm $view ($(wc -l </tmp/real.out) lines)"
        else
            echo "DIFFERENT: $1: ipvsadm $view"; diff -u /tmp/real.out /tmp/rs.out; fail=1
        fi
        IFS='|'
    done
    IFS=$old_ifs
}

ipvsadm --start-daemon master --mcast-interface dummy0 --syncid 5
ipvsadm --start-daemon backup --mcast-interface dummy0 --syncid 6

run_scenario ipvsadm
compare_views "state built by ipvsadm"
ipvsadm -S -n >/tmp/by-real.save

"$RS" -C
[ -z "$(ipvsadm -S -n)" ] || { echo "FAIL: example -C left services"; fail=1; }
run_scenario "$RS"
compare_views "state built by the example"
ipvsadm -S -n >/tmp/by-rs.save
if cmp -s /tmp/by-real.save /tmp/by-rs.save; then
    echo "same: ipvsadm -S -n after the scenario run by either tool"
else
    echo "DIFFERENT: state after the scenario by ipvsadm vs by the example"
    diff -u /tmp/by-real.save /tmp/by-rs.save; fail=1
fi

"$RS" -C
"$RS" -R </tmp/by-real.save || { echo "FAIL: example -R"; fail=1; }
ipvsadm -S -n >/tmp/restored.save
if cmp -s /tmp/by-real.save /tmp/restored.save; then
    echo "same: ipvsadm -S -n after the example's -R of ipvsadm's save"
else
    echo "DIFFERENT: example -R"; diff -u /tmp/by-real.save /tmp/restored.save; fail=1
fi

"$RS" -Z || { echo "FAIL: example -Z"; fail=1; }
"$RS" -D -t 192.0.2.10:80 || { echo "FAIL: example -D"; fail=1; }
if "$RS" -D -t 192.0.2.10:80 2>/tmp/err || ! grep -q "no such service tcp 192.0.2.10:80" /tmp/err; then
    echo "FAIL: deleting a missing service"; cat /tmp/err; fail=1
fi
echo "compare-ipvsadm: $([ "$fail" = 0 ] && echo PASS || echo FAIL)"
exit "$fail"
