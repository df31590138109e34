#!/bin/sh
# A short run of every fuzz target, for CI: build (about a minute from scratch: the
# libFuzzer C++ sources and ipccore), then each target for FUZZ_SECONDS (default 4) on
# its committed seeds. Fails on any crash, panic, timeout or leak libFuzzer reports.
# Needs: the stable toolchain, a C++ compiler (g++), crates.io. No cargo-fuzz.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-4}
"$here/run.sh" build
# A fresh corpus each time: CI starts from the committed seeds only.
FUZZ_CORPUS=$(mktemp -d)
export FUZZ_CORPUS
trap 'rm -rf "$FUZZ_CORPUS"' EXIT
for t in $(sed -n 's/^name = "\(.*\)"$/\1/p' "$here/Cargo.toml" | grep -v '^ipctools-fuzz$'); do
    log=$(mktemp)
    if "$here/run.sh" "$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
        -print_final_stats=1 >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "fuzz $t: ok, $execs runs, $cov"
        rm -f "$log"
    else
        cat "$log"
        rm -f "$log"
        echo "fuzz $t: FAILED (input saved under fuzz/artifacts/$t/)"
        exit 1
    fi
done
