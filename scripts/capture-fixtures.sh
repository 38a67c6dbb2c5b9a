#!/usr/bin/env bash
# Captures the first request frames real Kafka clients send, as hex fixtures for
# Tests/KafkaProtocolTests/Fixtures. Each client runs against fixture-recorder (a
# loopback listener that records frames and answers ApiVersions, Metadata and Produce)
# and produces the same three records to topic "fixtures", partition 0.
#
# Needs: kcat (Debian), and pip packages confluent-kafka, kafka-python, aiokafka.
# Usage: scripts/capture-fixtures.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-Tests/KafkaProtocolTests/Fixtures}
mkdir -p "$out"
swift build --product fixture-recorder >/dev/null
recorder=$(swift build --show-bin-path)/fixture-recorder
port=19392

capture() {
    local label=$1; shift
    rm -f "$out/$label"-*.hex
    "$recorder" "$port" "$out" "$label" >/dev/null &
    local pid=$!
    sleep 0.5
    timeout 20 "$@" || echo "warning: $label client exited with $?" >&2
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$label: $(ls "$out/$label"-*.hex | wc -l) frames"
}

capture kcat bash -c "printf 'key-1:value-1\nkey-2:value-2\n:value-3\n' | kcat -P -b 127.0.0.1:$port -t fixtures -p 0 -K : -H h1=v1 -H h2= -X client.id=fixture-kcat -X linger.ms=200"
capture confluent python3 scripts/capture/produce_confluent.py "127.0.0.1:$port"
capture kafka-python python3 scripts/capture/produce_kafka_python.py "127.0.0.1:$port"
capture aiokafka python3 scripts/capture/produce_aiokafka.py "127.0.0.1:$port"

{
    echo "# Client versions used for the captures in this folder"
    echo "kcat: $(dpkg-query -W -f='${Version}' kcat) / librdkafka $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null)"
    python3 -c "import confluent_kafka, kafka, aiokafka; print('confluent-kafka:', confluent_kafka.__version__, '/ librdkafka', confluent_kafka.libversion()[0]); print('kafka-python:', kafka.__version__); print('aiokafka:', aiokafka.__version__)"
    echo "captured: $(date -u +%Y-%m-%d)"
} > "$out/CLIENTS.txt"
