# Sourced by the bench scripts, with $top set to the repository: sets TARGET to the
# directory of the release binaries. Unless TARGET is given, they are built with
# `make all`, the way they are installed: static-pie for the host (see Makefile).
if [ -z "${TARGET:-}" ]; then
    make -s -C "$top" all >&2
    TARGET=$top/target/$(rustc -vV | sed -n 's/^host: //p')/release
fi
export TARGET
