#!/bin/sh
# Build the fuzz targets with libFuzzer's coverage instrumentation on the stable
# toolchain (the flags cargo-fuzz passes, minus the nightly-only sanitizer), then run
# one: fuzz/run.sh TARGET [libFuzzer options...]   (fuzz/run.sh build: build only).
# New inputs go to fuzz/corpus/TARGET (or $FUZZ_CORPUS/TARGET); fuzz/seeds/TARGET is
# read too.
# Needs: a C++ compiler (libfuzzer-sys builds libFuzzer) and crates.io.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --quiet --release --manifest-path "$here/Cargo.toml" \
    --target "$triple" --target-dir "$here/target" --bins
[ "${1:-build}" = build ] && exit 0
t=$1; shift
corpus=${FUZZ_CORPUS:-$here/corpus}/$t
mkdir -p "$corpus" "$here/artifacts/$t"
exec "$here/target/$triple/release/$t" -artifact_prefix="$here/artifacts/$t/" "$@" \
    "$corpus" "$here/seeds/$t"
