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
#     fails, the run fails: a missing client is never a skip. It includes
#     compat/test_postgres.py, which starts its own PostgreSQL 15 server;
#  5. the core compatibility suites again with every broker on the PostgreSQL engine
#     (CREEK_TEST_POSTGRES; one server, a database per broker), then against a cluster of
#     three brokers per test (CREEK_TEST_CLUSTER=3).
set -euo pipefail
cd "$(dirname "$0")/.."
schemas=${KAFKA_SCHEMA_DIR:-../shared/kafka-protocol/message}

echo "== test dependencies"
if ! command -v kcat >/dev/null || ! command -v chromedriver >/dev/null || [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -q && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat chromium chromium-driver postgresql-15
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

echo "== core compatibility suites on the PostgreSQL engine"
pg_url_file=$(mktemp)
python3 compat/postgres_server.py > "$pg_url_file" &
pg_pid=$!
for _ in $(seq 1 60); do [ -s "$pg_url_file" ] && break; sleep 0.5; done
[ -s "$pg_url_file" ] || { echo "PostgreSQL did not start" >&2; kill "$pg_pid"; exit 1; }
status=0
CREEK_TEST_POSTGRES="$(head -1 "$pg_url_file")" CREEK_BIN="$(swift build --show-bin-path)/creek" python3 -m pytest \
    compat/test_produce_consume.py compat/test_idempotence.py compat/test_groups.py compat/test_admin.py compat/test_offsets.py \
    compat/test_transactions.py compat/test_compaction.py \
    -k "not sigkill_during_cleaning" -q -p no:cacheprovider || status=$?
# And against a three-broker cluster on one database, clients bootstrapped from one broker.
# Left out there: the log-dirs test (it reads one broker's data directory) and the dynamic
# broker configs test (those settings are per broker; docs/cluster.md); left out of both: the
# SIGKILL-during-cleaning test, which watches the local engine's staging directory.
CREEK_TEST_CLUSTER=3 CREEK_TEST_POSTGRES="$(head -1 "$pg_url_file")" CREEK_BIN="$(swift build --show-bin-path)/creek" python3 -m pytest \
    compat/test_produce_consume.py compat/test_idempotence.py compat/test_groups.py compat/test_admin.py compat/test_offsets.py \
    compat/test_transactions.py compat/test_compaction.py \
    -k "not describe_log_dirs and not dynamic_broker_configs and not sigkill_during_cleaning" -q -p no:cacheprovider || status=$?
kill "$pg_pid"
wait "$pg_pid" || true
rm -f "$pg_url_file"
exit $status
