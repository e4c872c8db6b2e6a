#!/usr/bin/env bash
# Installs what is missing, builds, and runs a local network of three nodes
# on loopback with built-in defaults: node1 founds a sealed network, node2
# and node3 apply and are admitted by the members' vote. Node data lives in
# ./local-net/nodeN (kept between runs: identities, roster and stored values
# survive). Ctrl-C stops all three cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
bin=build/node/dhtalk-node
root=local-net
nodes=${DHTALK_LOCAL_NODES:-3}
# Fixed ports, so that the endpoints recorded in the roster stay true across
# runs: node N uses base+N-1 (DHT on UDP, peer service on TCP).
base_port=${DHTALK_LOCAL_PORT:-4301}
# Clients (TLS) reach node N at client_base+N-1.
client_base=${DHTALK_LOCAL_CLIENT_PORT:-4311}
pids=()

# Stops every node started; exits with $1 (0 after Ctrl-C, else the status
# the script was ending with).
stop_all() {
  local code=$1
  trap - INT TERM EXIT
  echo
  echo "Stopping ${#pids[@]} nodes..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "All nodes stopped."
  exit "$code"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

# Waits until node $1 has written runtime.json (fresh, from this run).
wait_runtime() {
  local dir=$1 pid=$2
  for _ in $(seq 1 300); do
    if [ -f "$dir/runtime.json" ] && grep -q "\"pid\" : $pid," "$dir/runtime.json"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "node in $dir exited; see $dir/node.log" >&2; return 1; }
    sleep 0.1
  done
  echo "node in $dir did not start within 30 s; see $dir/node.log" >&2
  return 1
}

json_field() { sed -n "s/^ *\"$2\" : \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1/runtime.json"; }
cli=build/tools/dhtalk
standing() { "$cli" status --data-dir "$1" --json 2>/dev/null | sed -n 's/.*"standing":"\([a-z]*\)".*/\1/p'; }

# Waits (up to 30 s) until the node in $1 is a member.
wait_member() {
  for _ in $(seq 1 300); do
    [ "$(standing "$1")" = member ] && return 0
    sleep 0.1
  done
  echo "$1 was not admitted within 30 s; see $1/node.log" >&2
  return 1
}

# Node 1 founds the network; each later node applies through it and the
# members so far approve it (a majority of them is needed).
first_port=""
for i in $(seq 1 "$nodes"); do
  dir=$root/node$i
  mkdir -p "$dir"
  # Every node is 127.0.0.1: OpenDHT's limit per address would count them as one peer.
  args=(--data-dir "$dir" --bind 127.0.0.1 --dht-port $((base_port + i - 1)) --http-port 0 --roster-interval-ms 500
        --client-bind 127.0.0.1 --client-port $((client_base + i - 1)) --dht-requests-per-address 0)
  if [ -z "$first_port" ]; then
    args+=(--genesis --network dhtalk-local --contact "operator of node$i")
  else
    args+=(--apply "operator of node$i" --bootstrap "127.0.0.1:$first_port")
  fi
  "$bin" "${args[@]}" 2>"$dir/node.log" &
  pids+=($!)
  wait_runtime "$dir" "$!"
  if [ -z "$first_port" ]; then
    first_port=$(json_field "$dir" peer_port)
    continue
  fi
  if [ "$(standing "$dir")" != member ]; then
    id=$(json_field "$dir" node_id)
    for j in $(seq 1 $((i - 1))); do
      "$cli" admin approve "$id" --data-dir "$root/node$j" >/dev/null 2>&1 || true
    done
    wait_member "$dir"
  fi
done

echo "Local dhtalk network of $nodes nodes (network 'dhtalk-local', sealed, each admitted by vote):"
for i in $(seq 1 "$nodes"); do
  dir=$root/node$i
  printf '  node%s  pid %s  id %s  port %s (DHT/UDP, peers/TCP)  clients 127.0.0.1:%s  status http://127.0.0.1:%s/status\n' \
    "$i" "$(json_field "$dir" pid)" "$(json_field "$dir" node_id)" "$(json_field "$dir" peer_port)" \
    "$(json_field "$dir" client_port)" "$(json_field "$dir" http_port)"
done
echo
echo "Query a node:   build/tools/dhtalk status --data-dir $root/node1   (add --json for scripts)"
echo "Roster, votes:  build/tools/dhtalk admin pending --data-dir $root/node1"
echo "Metrics:        curl http://127.0.0.1:$(json_field "$root/node1" http_port)/metrics"
echo "Register a user: build/tools/dhtalk register +15555245554 --profile local-net/alice --node 127.0.0.1:$client_base"
echo "                 (the number's registrar sends the code: it is in one of $root/node*/verification-codes.jsonl), then: dhtalk verify CODE --profile local-net/alice"
echo "Logs:           $root/nodeN/node.log"
echo "Press Ctrl-C to stop all nodes."
# A node stopped on purpose (kill PID) leaves the others running, so that
# failover can be tried; the script ends when every node has stopped.
running=${#pids[@]}
while [ "$running" -gt 0 ]; do
  alive=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
  [ ${#alive[@]} -gt 0 ] && { wait -n "${alive[@]}" 2>/dev/null || true; }
  running=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=$((running + 1)); done
  echo "A node stopped; $running still running (see $root/node*/node.log)." >&2
done
exit 1
