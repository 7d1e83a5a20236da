#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each and prints, per target,
# the executions and the findings (crashes, timeouts, out-of-memory).
# Exits non-zero when any target found something; the inputs that did
# are kept in fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh 30            # what CI runs
#   fuzz/run.sh 600 mf2       # one target, longer
#
# Bounds per input: 10 s (-timeout) and 2 GiB resident (-rss_limit_mb);
# inputs up to 64 KiB. Needs cargo-fuzz; only stable Rust is installed, so
# RUSTC_BOOTSTRAP=1 lets it pass the flags it needs.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
export RUSTC_BOOTSTRAP=1
flags=(--release --sanitizer none)
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi

cargo fuzz build "${flags[@]}" >&2

found_any=0
printf '%-22s %14s %10s %s\n' target executions findings "exec/s"
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    if [ -d "seeds/$target" ]; then
        cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    before=$(find "artifacts/$target" -type f | wc -l)
    log="artifacts/$target.log"
    set +e
    cargo fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1
    set -e
    after=$(find "artifacts/$target" -type f | wc -l)
    executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
    speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
    findings=$((after - before))
    printf '%-22s %14s %10s %s\n' "$target" "${executions:-?}" "$findings" "${speed:-?}"
    if [ "$findings" -gt 0 ] || [ -z "$executions" ]; then
        found_any=1
        ls -t "artifacts/$target" | head -5 | sed "s|^|  artifacts/$target/|" >&2
        grep -m5 -E 'ERROR|panicked|SUMMARY' "$log" >&2 || true
    fi
done
exit "$found_any"
