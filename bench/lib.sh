# Sourced by the bench scripts, with $top set to the repository (by default the parent
# of the script's directory): sets TARGET to the directory of the release binaries.
# Unless TARGET is given, they are built with `make all`, the way they are installed:
# static-pie for the host (see Makefile).
top=${top:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${TARGET:-}" ]; then
    make -s -C "$top" all >&2
    TARGET=$top/target/$(rustc -vV | sed -n 's/^host: //p')/release
fi
export TARGET

# need_ipcbench: sets IPCBENCH to the load and timing client (crates/ipcbench, a dev
# tool, never installed), built here unless IPCBENCH is given (bench/run.sh passes it on).
need_ipcbench() {
    if [ -z "${IPCBENCH:-}" ]; then
        cargo build --release --quiet -p ipcbench --manifest-path "$top/Cargo.toml" >&2 || return 1
        IPCBENCH=$top/target/release/ipcbench
    fi
    [ -x "$IPCBENCH" ] || { echo "$0: $IPCBENCH not built" >&2; return 1; }
    export IPCBENCH
}

# need_built NAME...: exit 111 unless every program NAME is built in $TARGET.
need_built() {
    for f in "$@"; do
        [ -x "$TARGET/$f" ] || { echo "$0: $TARGET/$f not built" >&2; exit 111; }
    done
}

# bench_setup TMPNAME PEER PROG...: what a benchmark against an s6 peer needs: the
# repository as the working directory, S6 set to the peer program PEER (exit 111
# without it), the client (need_ipcbench), the programs PROG built in $TARGET
# (need_built), and a scratch directory (bench_tmpdir).
bench_setup() {
    cd "$top"
    S6=$(command -v "$2" || true)
    [ -n "$S6" ] || { echo "$0: $2 not installed (apt-get install s6)" >&2; exit 111; }
    need_ipcbench || exit 111
    tag=$1
    shift 2
    need_built "$@"
    bench_tmpdir "$tag"
}

# bench_tmpdir NAME: sets tmp to a fresh directory (under BENCH_TMP, default /tmp) and
# pids to the empty list; at exit every pid in $pids gets SIGTERM and tmp is removed.
bench_tmpdir() {
    tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/$1.XXXXXX")
    pids=
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}

# wait_ready FILE: wait (5 s at most, else exit 111) for a server started with -1 to
# write its readiness line to FILE.
wait_ready() {
    n=0
    while [ ! -s "$1" ]; do
        n=$((n + 1)); [ $n -lt 500 ] || { echo "$0: server did not start" >&2; exit 111; }
        sleep 0.01
    done
}
