#!/usr/bin/env bash
# Long crash-simulation soak: scripts/crash-soak.sh [SEEDS] [FIRST_SEED] [CYCLES]
# Runs SEEDS seeds (default 20000) of CYCLES crash points each (default 20) starting at
# FIRST_SEED (default: random), and prints the seed of any failure; replay one with
#   CREEK_CRASH_SEED=<seed> swift test --filter CrashSimulation
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-20000}
first=${2:-$(( (RANDOM << 15 | RANDOM) + 1000 ))}
cycles=${3:-20}
swift build --build-tests
echo "crash soak: seeds $first..$((first + seeds - 1)), $cycles crash points each"
CREEK_CRASH_SEEDS=$seeds CREEK_CRASH_FIRST_SEED=$first CREEK_CRASH_CYCLES=$cycles \
    swift test --skip-build --filter CrashSimulation 2>&1 | tee /tmp/creek-crash-soak.log | grep -E "crash simulation:|^seed [0-9]+ "
