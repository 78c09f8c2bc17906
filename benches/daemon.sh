# Sourced by the benchmark scripts that run the keepalived-compat daemon: parses the one
# argument they take (`--build-only`), builds the daemon as the README says (or takes
# KEEPALIVED_COMPAT), checks that it runs, and exits 0 after the build when asked.
# Needs: BENCH (the script's name, for messages) and ROOT (the workspace). Sets OURS and
# defines die().

die() { echo "$BENCH bench: $*" >&2; exit 1; }
BUILD_ONLY=false
case "${1:-}" in
    --build-only) BUILD_ONLY=true ;;
    "") ;;
    *) die "unknown argument $1 (settings are environment variables; see the header)" ;;
esac

if [ -n "${KEEPALIVED_COMPAT:-}" ]; then
    OURS=$KEEPALIVED_COMPAT
else
    # BENCH_PROFILE (default release): CI's smoke rounds use dev, whose artifacts the tests
    # already built; figures need release.
    profile=${BENCH_PROFILE:-release}
    (cd "$ROOT" && cargo build --profile "$profile" -q -p keepalived-compat)
    OURS=${CARGO_TARGET_DIR:-$ROOT/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")/keepalived-compat
fi
[ -x "$OURS" ] || die "no daemon binary at $OURS"
"$OURS" --help >/dev/null || die "$OURS --help failed"
if $BUILD_ONLY; then
    echo "$BENCH bench: built $OURS"
    exit 0
fi
