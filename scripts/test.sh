#!/usr/bin/env bash
# Runs every test. Usage: scripts/test.sh (from anywhere; needs the Swift toolchain).
#  1. the committed generated code matches what kafka-codegen makes from the schemas
#     (schema folder: $KAFKA_SCHEMA_DIR, default ../shared/kafka-protocol/message);
#  2. the Swift unit tests;
#  3. the examples package (Examples/): built, and its embedded-broker test run;
#  4. the compatibility suite (compat/): real clients (kcat, confluent-kafka, kafka-python,
#     aiokafka) and a real browser (chromium + chromedriver, driven by selenium, for the
#     console) against the real `creek` binary. Missing clients are installed first
#     (apt-get for kcat and chromium, as root or through sudo; pip for the rest); if that
#     fails, the run fails: a missing client is never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
schemas=${KAFKA_SCHEMA_DIR:-../shared/kafka-protocol/message}

echo "== test dependencies"
if ! command -v kcat >/dev/null || ! command -v chromedriver >/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -q && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat chromium chromium-driver
fi
if ! python3 -c "import pytest, confluent_kafka, kafka, aiokafka, snappy, lz4, zstandard, selenium" 2>/dev/null; then
    python3 -m pip install --quiet -r compat/requirements.txt
fi

echo "== build"
swift build --build-tests

echo "== generated code matches the schemas"
if [ -d "$schemas" ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    "$(swift build --show-bin-path)/kafka-codegen" "$schemas" "$scratch/src" "$scratch/tests"
    diff -r "$scratch/src" Sources/KafkaProtocol/Generated
    diff -r "$scratch/tests" Tests/KafkaProtocolTests/Generated
    echo "generated code is current"
else
    echo "NOTE: schema folder $schemas not found; the generated-code freshness check did not run" >&2
fi

echo "== unit tests"
swift test --skip-build --parallel

echo "== examples (Examples/)"
swift build --package-path Examples
swift test --package-path Examples

echo "== compatibility tests (real clients against the creek binary)"
CREEK_BIN="$(swift build --show-bin-path)/creek" python3 -m pytest compat -q -p no:cacheprovider "$@"
