#!/bin/sh
# Runs inside the IPVS VM: the ipvsadm example (IPVSADM_RS) must list and save exactly what
# the real ipvsadm lists and saves, after the same commands (sync daemons included) run by
# either tool, its -R must restore what the real ipvsadm saved, and every command line of
# ERRORS must fail with ipvsadm's exit status, changing nothing.
#   compare-ipvsadm.sh SCENARIO [ERRORS]
# SCENARIO: one ipvsadm argument list per line. ERRORS: one failing argument list per line
# ('#' lines are comments); `ARGS <<< L1 ; L2` feeds the lines L1, L2 to `ipvsadm ARGS` (-R).
set -u
RS=${IPVSADM_RS:?path of the ipvsadm example}
SCENARIO=$1
ERRORS=${2:-}
fail=0
VIEWS='-L -n|-L -n --stats|-L -n --rate|-L -n --exact --stats|-L -n --thresholds|-L -n --persistent-conn|-L -n --tun-info|-L -n --timeout|-L -n --daemon|-L -n -c|-S -n|-L -n -t 192.0.2.10:80|-L -n -f 8 -6'
# The sync daemons each tool starts before its scenario (the 1.31 options on the master).
MASTER='--start-daemon master --mcast-interface dummy0 --syncid 5 --sync-maxlen 1000 --mcast-group 224.0.0.82 --mcast-port 8849 --mcast-ttl 2'
BACKUP='--start-daemon backup --mcast-interface dummy0 --syncid 6'

run_scenario() {  # run_scenario TOOL
    # shellcheck disable=SC2086
    "$1" $MASTER || { echo "FAIL: $1 $MASTER"; fail=1; }
    # shellcheck disable=SC2086
    "$1" $BACKUP || { echo "FAIL: $1 $BACKUP"; fail=1; }
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

state() { ipvsadm -S -n; ipvsadm -L -n --daemon; ipvsadm -L --timeout; }
START=$(cut -d' ' -f1 /proc/uptime)
elapsed() { echo "-- $1 ($(awk -v s="$START" '{ printf "%.0f", $1 - s }' /proc/uptime) s)"; }

run_scenario ipvsadm
compare_views "state built by ipvsadm"
elapsed "ipvsadm's scenario and views"
ipvsadm -S -n >/tmp/by-real.save

"$RS" -C
"$RS" --stop-daemon master || { echo "FAIL: example --stop-daemon master"; fail=1; }
"$RS" --stop-daemon backup || { echo "FAIL: example --stop-daemon backup"; fail=1; }
[ -z "$(ipvsadm -S -n; ipvsadm -L -n --daemon)" ] ||
    { echo "FAIL: example -C and --stop-daemon left services or daemons"; fail=1; }
run_scenario "$RS"
compare_views "state built by the example"
elapsed "the example's scenario and views"
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
elapsed "the example's -R, -Z, -D"
# Failing command lines: the real ipvsadm first, then the example; both fail with the same
# status and none changes the state. The backup daemon is stopped, for the lines that
# start or stop one in vain.
"$RS" --stop-daemon backup || { echo "FAIL: example --stop-daemon backup"; fail=1; }
state >/tmp/before.state
run_failing() {  # run_failing TOOL LINE
    case $2 in
        *'<<<'*)
            # shellcheck disable=SC2086
            printf '%s\n' "${2#*<<<}" | tr ';' '\n' | "$1" ${2%%<<<*} ;;
        *)
            # shellcheck disable=SC2086
            "$1" $2 </dev/null ;;
    esac
}
if [ -n "$ERRORS" ]; then
    lines=0
    while read -r line; do
        case $line in '' | '#'*) continue ;; esac
        lines=$((lines + 1))
        run_failing ipvsadm "$line" >/tmp/real.err 2>&1; real=$?
        run_failing "$RS" "$line" >/tmp/rs.err 2>&1; ours=$?
        if [ "$real" = 0 ]; then
            echo "NOT AN ERROR for ipvsadm: $line"; fail=1
        elif [ "$real" = "$ours" ]; then
            echo "same exit $real: ipvsadm $line"
        else
            echo "DIFFERENT exit: ipvsadm $line: ipvsadm $real, example $ours"; fail=1
            echo "  ipvsadm: $(tail -1 /tmp/real.err)"
            echo "  example: $(tail -1 /tmp/rs.err)"
        fi
    done <"$ERRORS"
    # Checked once, not after each line: each process costs ~0.2 s in the emulated guest.
    state >/tmp/after.state
    if cmp -s /tmp/before.state /tmp/after.state; then
        echo "same state after the $lines failing command lines"
    else
        echo "CHANGED the state: a failing command line did something"
        diff -u /tmp/before.state /tmp/after.state; fail=1
    fi
fi
elapsed "failing command lines"
echo "compare-ipvsadm: $([ "$fail" = 0 ] && echo PASS || echo FAIL)"
exit "$fail"
