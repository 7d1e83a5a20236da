#!/usr/bin/env bash
# Benchmark: the GETs every fediverse server makes before it follows or
# delivers: WebFinger (`/.well-known/webfinger?resource=acct:alice@HOST`)
# and the actor document (`/users/alice`, Accept: application/activity+json),
# keep-alive, wrk -t1 -c16. Prints requests/s with p50 and p99 of each run,
# and the server's peak RSS.
#
# Usage: benches/gets.sh [path/to/estuary]   (default: target/release/estuary)
#
# To compare with another server measured the same way in the same run, give
# its two URLs (and, for its peak RSS, its process id):
#   PEER_WEBFINGER=http://… PEER_ACTOR=http://… PEER_PID=1234 benches/gets.sh
# Each URL is then measured alternately, ours then the peer's, ROUNDS times
# (default 2), and the ratio ours/peer of the mean requests/s is printed.
# Needs wrk and python3. Loopback only; each wrk run is bounded (DURATION).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/release/estuary}"
port="${PORT:-18562}"
duration="${DURATION:-10s}"
rounds="${ROUNDS:-2}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

export ESTUARY_BASE_URL="http://127.0.0.1:$port" ESTUARY_BIND="127.0.0.1:$port"
export DATABASE_URL="sqlite://$work/estuary.db" ESTUARY_CONFIG=/dev/null
"$binary" migrate >/dev/null
"$binary" user add alice --display-name "Alice" --summary "Benchmarked." >/dev/null

# Request logs off, as in the other benchmarks: the load is the point.
RUST_LOG="${RUST_LOG:-warn}" "$binary" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

ours_webfinger="http://127.0.0.1:$port/.well-known/webfinger?resource=acct:alice@127.0.0.1:$port"
ours_actor="http://127.0.0.1:$port/users/alice"
curl -fsS "$ours_webfinger" >/dev/null
curl -fsS -H 'Accept: application/activity+json' "$ours_actor" >/dev/null

# One wrk run; prints "requests/s p50_ms p99_ms".
run() {
    wrk -t1 -c16 -d"$duration" --latency -H 'Accept: application/activity+json' "$1" >"$work/wrk.txt"
    python3 - "$work/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
if re.search(r"Non-2xx or 3xx responses", text):
    sys.exit("wrk saw error responses:\n" + text)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    m = re.search(label + r"%\s+([\d.]+)(us|ms|s)\b", text)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
print(f"{rps} {ms('50')} {ms('99')}")
PY
}

peak_rss() {
    awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"
}

results="$work/results.txt"
: >"$results"
for round in $(seq 1 "$rounds"); do
    for what in webfinger actor; do
        ours_url="ours_$what"
        read -r rps p50 p99 < <(run "${!ours_url}")
        echo "ours $what $rps $p50 $p99" >>"$results"
        printf 'round %s  estuary  %-9s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' "$round" "$what" "$rps" "$p50" "$p99"
        peer_var="PEER_${what^^}"
        if [ -n "${!peer_var:-}" ]; then
            read -r rps p50 p99 < <(run "${!peer_var}")
            echo "peer $what $rps $p50 $p99" >>"$results"
            printf 'round %s  peer     %-9s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' "$round" "$what" "$rps" "$p50" "$p99"
        fi
    done
done
echo "estuary peak RSS: $(peak_rss "$server")"
if [ -n "${PEER_PID:-}" ]; then
    echo "peer peak RSS:    $(peak_rss "$PEER_PID")"
fi
python3 - "$results" <<'PY'
import sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, what, rps, p50, p99 = line.split()
    runs[(who, what)].append(float(rps))
for what in ("webfinger", "actor"):
    ours = runs[("ours", what)]
    mean = sum(ours) / len(ours)
    line = f"{what:9}  estuary mean {mean:9.0f} req/s"
    peer = runs.get(("peer", what))
    if peer:
        peer_mean = sum(peer) / len(peer)
        line += f"  peer mean {peer_mean:9.0f} req/s  ratio estuary/peer {mean / peer_mean:.2f}"
    print(line)
PY
