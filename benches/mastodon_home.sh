#!/usr/bin/env bash
# Benchmark: GET /api/v1/timelines/home for an account following 500
# accounts with 20,000 stored statuses, next to GET of the actor document,
# in the same run, with wrk. Prints requests/s and p99 of each and the ratio.
#
# Usage: benches/mastodon_home.sh [path/to/estuary]   (default: target/release/estuary)
# Needs wrk and python3. Loopback only; each wrk run is bounded (DURATION).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/release/estuary}"
port="${PORT:-18561}"
duration="${DURATION:-15s}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

export ESTUARY_BASE_URL="http://127.0.0.1:$port" ESTUARY_BIND="127.0.0.1:$port"
export DATABASE_URL="sqlite://$work/estuary.db" ESTUARY_CONFIG=/dev/null
# The load generator is one client: lift the API's per-token request limit.
export ESTUARY_API_RATE_LIMIT=1000000000
"$binary" migrate >/dev/null
"$binary" user add alice >/dev/null
token="$("$binary" token issue alice | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

# 500 remote accounts alice follows; 40 statuses each, filed in her inbox
# as the ledger files a followee's Create.
python3 - "$work/estuary.db" <<'PY'
import sqlite3, sys, json, datetime
db = sqlite3.connect(sys.argv[1])
alice = db.execute("SELECT id FROM accounts WHERE username='alice' AND domain IS NULL").fetchone()[0]
now = datetime.datetime.utcnow()
ts = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
accounts = []
for n in range(500):
    actor = f"https://remote{n % 50}.example/users/u{n}"
    cur = db.execute(
        "INSERT INTO accounts (kind, username, domain, actor_url, inbox_url, followers_url, public_key_pem,"
        " display_name, manually_approves_followers, created_at, updated_at, key_id)"
        " VALUES ('Person', ?, ?, ?, ?, ?, 'KEY', ?, FALSE, ?, ?, ?)",
        (f"u{n}", f"remote{n % 50}.example", actor, actor + "/inbox", actor + "/followers",
         f"User {n}", ts(now), ts(now), actor + "#main-key"))
    accounts.append((cur.lastrowid, actor))
    db.execute("INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at)"
               " VALUES (?, ?, ?, TRUE, ?)", (alice, cur.lastrowid, f"{actor}#follow-alice", ts(now)))
for i in range(20000):
    author, actor = accounts[i % 500]
    at = now - datetime.timedelta(seconds=20000 - i)
    note_id = f"{actor}/statuses/{i}"
    addressed = json.dumps([PUBLIC, actor + "/followers"])
    note = json.dumps({"id": note_id, "type": "Note", "attributedTo": actor, "content": f"<p>status {i}</p>",
                       "to": [PUBLIC], "cc": [actor + "/followers"], "published": at.isoformat() + "Z", "tag": []})
    db.execute("INSERT INTO objects (ap_id, kind, author_id, content, context, visibility, addressed_to, document,"
               " local, published, created_at) VALUES (?, 'Note', ?, ?, ?, 'public', ?, ?, FALSE, ?, ?)",
               (note_id, author, f"<p>status {i}</p>", note_id + "#context", addressed, note, ts(at), ts(at)))
    cur = db.execute("INSERT INTO activities (ap_id, kind, actor_id, object_ap_id, visibility, addressed_to, document,"
                     " local, published, created_at) VALUES (?, 'Create', ?, ?, 'public', ?, ?, FALSE, ?, ?)",
                     (note_id + "/activity", author, note_id, addressed, note, ts(at), ts(at)))
    db.execute("INSERT INTO inbox_items (account_id, activity_id, created_at) VALUES (?, ?, ?)",
               (alice, cur.lastrowid, ts(at)))
db.commit()
print("seeded", db.execute("SELECT COUNT(*) FROM objects").fetchone()[0], "statuses,",
      db.execute("SELECT COUNT(*) FROM follows").fetchone()[0], "follows", file=sys.stderr)
PY

RUST_LOG=warn "$binary" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
count="$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/timelines/home" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
echo "home timeline page: $count statuses"

run() {
    wrk -t2 -c16 -d"$duration" --latency "$@" | tee "$work/wrk.txt" >&2
    python3 - "$work/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
print(f"{rps} {float(p99.group(1)) * scale}")
PY
}
read -r actor_rps actor_p99 < <(run -H 'Accept: application/activity+json' "http://127.0.0.1:$port/users/alice")
read -r home_rps home_p99 < <(run -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/timelines/home")
python3 - "$actor_rps" "$actor_p99" "$home_rps" "$home_p99" <<'PY'
import sys
a_rps, a_p99, h_rps, h_p99 = map(float, sys.argv[1:])
print(f"actor GET:          {a_rps:9.1f} req/s, p99 {a_p99:8.2f} ms")
print(f"home timeline GET:  {h_rps:9.1f} req/s, p99 {h_p99:8.2f} ms")
print(f"ratio home/actor:   {h_rps / a_rps:.3f} of the requests per second")
PY
