#!/usr/bin/env bash
# Instructions Creek executes per record produced and per record fetched (valgrind
# callgrind; stable from run to run, unlike wall time on shared machines).
# Usage: scripts/callgrind-per-record.sh [RECORDS] (default 200000; 100-byte records, 1 partition, acks=all)
# Runs Creek under callgrind four times: produce N0=1000 and N0+RECORDS records, and the same
# followed by a consume of everything; the differences divided by RECORDS are the per-record
# figures (start-up and shutdown cancel out). Needs valgrind >= 3.24 (Debian 12's 3.19 cannot
# read the Swift 6.3 binary): fetched from Debian trixie with apt-get download and unpacked
# under $CACHE, nothing installed. Every process is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-200000}
cache=${CREEK_BENCH_CACHE:-$HOME/.cache/creek-bench}
mkdir -p "$cache"
if [ ! -x "$cache/valgrind/usr/bin/valgrind" ]; then
    work=$(mktemp -d)
    mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$work/trixie.sources"
    opts=(-o "Dir::Etc::sourcelist=$work/trixie.sources" -o Dir::Etc::sourceparts=/dev/null -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache")
    apt-get "${opts[@]}" update -q >/dev/null
    (cd "$work" && apt-get "${opts[@]}" download valgrind >/dev/null 2>&1)
    dpkg -x "$work"/valgrind_*.deb "$cache/valgrind"
    rm -rf "$work"
fi
export VALGRIND_LIB="$cache/valgrind/usr/libexec/valgrind"
gcc -shared -fPIC -O2 -o "$cache/sigsuspend-shim.so" bench/sigsuspend-shim.c
gcc -O2 -Wall -o "$cache/creek-load" bench/creek-load.c -lrdkafka -lpthread
swift build -c release --product creek >/dev/null
creek="$(swift build -c release --show-bin-path)/creek"
port=$((29700 + $$ % 200))

# Total instructions of one Creek run: produce COUNT records, then (if 1) consume them.
run_once() {
    local count=$1 consume=$2 data out
    data=$(mktemp -d); out=$(mktemp)
    LD_PRELOAD="$cache/sigsuspend-shim.so" "$cache/valgrind/usr/bin/valgrind" --tool=callgrind \
        --callgrind-out-file="$out" "$creek" serve --listen "127.0.0.1:$port" --data-dir "$data" >"$data.stdout" 2>/dev/null &
    local pid=$!
    for _ in $(seq 1 200); do grep -q ready "$data.stdout" 2>/dev/null && break; sleep 0.3; done
    timeout 120 "$cache/creek-load" create "127.0.0.1:$port" t 1
    timeout 600 "$cache/creek-load" produce "127.0.0.1:$port" t 1 "$count" 100 all >/dev/null
    if [ "$consume" = 1 ]; then timeout 600 "$cache/creek-load" consume "127.0.0.1:$port" t 1 "$count" >/dev/null; fi
    kill -TERM "$pid"; wait "$pid" || true
    grep '^summary:' "$out" | awk '{print $2}'
    rm -rf "$data" "$data.stdout" "$out"
}

base=1000
p0=$(run_once $base 0); p1=$(run_once $((base + records)) 0)
c0=$(run_once $base 1); c1=$(run_once $((base + records)) 1)
produce=$(( (p1 - p0) / records ))
fetch=$(( ((c1 - c0) - (p1 - p0)) / records ))
echo "instructions per 100-byte record: produce $produce, fetch $fetch ($records records, acks=all, 1 partition)"
