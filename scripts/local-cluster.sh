#!/usr/bin/env bash
# A real Orleans.MoE cluster on this machine: a redis-server on a free loopback port, one
# high-memory and two low-cost silo processes sharing an artifact store, and an experiment run
# on it with `moe run --cluster`. Everything binds 127.0.0.1; Ctrl-C or the end of the run stops
# every process this script started.
#
#   scripts/local-cluster.sh [EXPERIMENT]      (default: experiments/disco-demo.json)
#
# Environment: MOE (the moe program), ARTIFACTS (the artifact store, default runs/local-cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

EXPERIMENT=${1:-experiments/disco-demo.json}
MOE=${MOE:-src/Client/bin/Release/net10.0/moe}
ARTIFACTS=${ARTIFACTS:-runs/local-cluster}
[ -x "$MOE" ] || { echo "$MOE not found: run 'make build' first" >&2; exit 1; }
command -v redis-server > /dev/null || { echo "redis-server not found: run 'make deps' (it installs the Debian package redis-server)" >&2; exit 1; }

# A port nothing listens on (bash's /dev/tcp connects only when something does).
free_port() {
  while true; do
    local port=$((20000 + RANDOM % 40000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then echo "$port"; return; fi
  done
}

mkdir -p "$ARTIFACTS/logs"
pids=()
stop() {
  trap - EXIT INT TERM
  echo "stopping the cluster..."
  # SIGTERM: the silos let their workers checkpoint and stop, then leave the cluster.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  wait "${pids[@]}" 2> /dev/null || true
}
trap stop EXIT INT TERM

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$ARTIFACTS" > "$ARTIFACTS/logs/redis.log" 2>&1 &
pids+=($!)
export MOE_CLUSTER="127.0.0.1:$redis_port"
echo "redis-server on $MOE_CLUSTER; artifact store $ARTIFACTS; logs in $ARTIFACTS/logs"

start_silo() {
  local name=$1 pool=$2
  "$MOE" silo --name "$name" --artifacts "$ARTIFACTS" --pool "$pool" --advertise 127.0.0.1 \
    --silo-port "$(free_port)" --gateway-port "$(free_port)" > "$ARTIFACTS/logs/$name.log" 2>&1 &
  pids+=($!)
}
start_silo big "class=high-memory,devices=1,memory-gib=80,price=2.28,throughput=1"
start_silo small-a "class=low-cost,devices=1,memory-gib=24,price=0.35,throughput=1"
start_silo small-b "class=low-cost,devices=1,memory-gib=24,price=0.35,throughput=1"

# Wait (at most two minutes) until the three silos are live and have declared their pools.
for _ in $(seq 120); do
  if [ "$("$MOE" silos 2> /dev/null | grep -c ' busy ')" -ge 3 ]; then break; fi
  sleep 1
done
"$MOE" silos

"$MOE" run "$EXPERIMENT" --id "$(basename "$EXPERIMENT" .json)"
