# Sourced by the bench scripts, with $top set to the repository: sets TARGET to the
# directory of the release binaries. Unless TARGET is given, they are built with
# `make all`, the way they are installed: static-pie for the host (see Makefile).
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
