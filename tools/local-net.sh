#!/usr/bin/env bash
# Installs what is missing, builds, and runs a local network of three nodes
# on loopback with built-in defaults. Node data lives in ./local-net/nodeN
# (kept between runs: identities and stored values survive). Ctrl-C stops all
# three cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
bin=build/node/dhtalk-node
root=local-net
nodes=${DHTALK_LOCAL_NODES:-3}
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

first_port=""
for i in $(seq 1 "$nodes"); do
  dir=$root/node$i
  mkdir -p "$dir"
  args=(--data-dir "$dir" --dht-port 0 --http-port 0)
  [ -n "$first_port" ] && args+=(--bootstrap "127.0.0.1:$first_port")
  "$bin" "${args[@]}" 2>"$dir/node.log" &
  pids+=($!)
  wait_runtime "$dir" "$!"
  [ -z "$first_port" ] && first_port=$(json_field "$dir" dht_port_ipv4)
done

echo "Local dhtalk network of $nodes nodes (network 'dhtalk-local'):"
for i in $(seq 1 "$nodes"); do
  dir=$root/node$i
  printf '  node%s  id %s  DHT udp/%s  status http://127.0.0.1:%s/status\n' "$i" \
    "$(json_field "$dir" node_id)" "$(json_field "$dir" dht_port_ipv4)" "$(json_field "$dir" http_port)"
done
echo
echo "Query a node:   build/tools/dhtalk status --data-dir $root/node1   (add --json for scripts)"
echo "Metrics:        curl http://127.0.0.1:$(json_field "$root/node1" http_port)/metrics"
echo "Logs:           $root/nodeN/node.log"
echo "Press Ctrl-C to stop all nodes."
wait -n "${pids[@]}" || true
echo "A node exited unexpectedly; see $root/node*/node.log" >&2
exit 1
