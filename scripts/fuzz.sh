#!/usr/bin/env bash
# libFuzzer over Creek's decoders: scripts/fuzz.sh TARGET [RUNS] [extra libFuzzer flags]
# TARGET: frame | request | batch | segment | all. RUNS per target (default 1000000).
# Builds creek-fuzz with -sanitize=fuzzer (separate scratch path), runs it from the
# committed corpus (Tests/CreekStorageTests/FuzzCorpus/TARGET, where new interesting
# inputs are added), and prints how many inputs ran; a crash, a hang (-timeout=10) or an
# allocation over 512 MB (-malloc_limit_mb) stops it with the input saved as crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh frame|request|batch|segment|all [RUNS]}
runs=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))
swift build -c release --scratch-path .build/fuzz --product creek-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DCREEK_FUZZING
binary=.build/fuzz/release/creek-fuzz
targets=$target
[ "$target" = all ] && targets="frame request batch segment"
for t in $targets; do
    corpus=Tests/CreekStorageTests/FuzzCorpus/$t
    mkdir -p "$corpus"
    echo "== fuzz $t: $runs runs"
    CREEK_FUZZ_TARGET=$t "$binary" -runs="$runs" -timeout=10 -malloc_limit_mb=512 -max_len=4096 "$@" "$corpus" 2>&1 \
        | grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs|ERROR|SUMMARY|crash-|timeout-|oom-" || true
done
