#!/usr/bin/env bash
# Instructions per request of a `weft` build on a fixed request mix, counted by callgrind:
# repeatable on a loaded or virtual machine where timings are not (issue 19: projection and
# coercion may add at most 10% to a heavy request).
#
#   bench/callgrind.sh target/release/weft [ROUNDS]
#   CONFIG=weft.yaml bench/callgrind.sh ...     # the gateway with a configuration file
#   KEEP=DIR bench/callgrind.sh ...             # keep the callgrind files (callgrind_annotate)
#
# Starts the reference subgraphs (`weft demo` on ports 4851-4855, outside callgrind), then the
# gateway under callgrind over them, sends every query of the mix once to warm the caches up,
# zeroes the counters, sends the mix ROUNDS times (default 10), and prints the instructions per
# request (the gateway's whole process: all its threads). Loopback only; everything it starts
# is stopped when it ends.
set -euo pipefail

weft=${1:?usage: bench/callgrind.sh WEFT_BINARY [ROUNDS]}
rounds=${2:-10}
base=4851
gateway=4860
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The mix: the README's classic query (every subgraph, entity fetches three levels deep), a
# list with an entity fetch, and a small one.
queries=(
  '{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }'
  '{ topProducts(first: 5) { upc name price shippingEstimate reviews { body author { name } } } }'
  '{ users { id name username } }'
)

"$weft" demo --listen 127.0.0.1:$((gateway + 1)) --base-port $base >"$work/demo.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q "Press Ctrl-C" "$work/demo.log" 2>/dev/null && break
  sleep 0.2
done

subgraphs=()
for name in accounts products inventory reviews orders; do
  subgraphs+=(--subgraph "$name=http://127.0.0.1:$base/graphql")
  base=$((base + 1))
done
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$weft" serve ${CONFIG:+--config "$CONFIG"} --listen 127.0.0.1:$gateway "${subgraphs[@]}" \
  >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$gateway/health" >/dev/null 2>&1 && break
  sleep 0.5
done

send() {
  local body
  body=$(printf '%s' "$1" | python3 -c 'import json,sys; print(json.dumps({"query": sys.stdin.read()}))')
  curl -sf "http://127.0.0.1:$gateway/graphql" -H 'content-type: application/json' \
    -d "$body" -o "$work/answer.json"
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(1 if a.get("errors") or not a.get("data") else 0)' "$work/answer.json" \
    || { echo "a query of the mix failed: $(head -c 300 "$work/answer.json")" >&2; exit 1; }
}

for q in "${queries[@]}"; do send "$q"; done
callgrind_control --zero "$gateway_pid" >/dev/null 2>&1
for _ in $(seq "$rounds"); do
  for q in "${queries[@]}"; do send "$q"; done
done
callgrind_control --dump "$gateway_pid" >/dev/null 2>&1
sleep 1
requests=$((rounds * ${#queries[@]}))
total=$(grep -h '^summary:' "$work"/callgrind.out* | tail -1 | awk '{print $2}')
echo "requests: $requests"
echo "instructions: $total"
echo "instructions per request: $((total / requests))"
if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP" && cp "$work"/callgrind.out.* "$KEEP"/
fi
