#!/usr/bin/env bash
# `make demo` / `make demo-down`.
#
#   scripts/demo.sh up     build the demo driver (e2e/demo.rs) and berth, start
#                          the driver detached (its own session, so it outlives
#                          this script) and follow its output until it prints
#                          "demo ready" (exit 0) or "demo failed" / dies (the
#                          log is printed, exit 1)
#   scripts/demo.sh down   send the driver SIGUSR1 (it stops berth and every
#                          process of the environment and removes its run
#                          directory) and wait until it is gone; idempotent
#
# State: ${BERTH_CACHE:-~/.cache/berth}/demo/{demo.pid,demo.log,berth.log}.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
state=${BERTH_CACHE:-$HOME/.cache/berth}/demo
pid_file=$state/demo.pid
log=$state/demo.log
cargo=${CARGO:-cargo}

running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Only our driver: a stale pid file may name a reused pid.
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '/demo-' || return 1
  echo "$pid"
}

up() {
  mkdir -p "$state"
  if pid=$(running_pid); then
    echo "demo: already running (pid $pid); its output so far:" >&2
    sed -n '/^demo: upgraded/,/^demo ready/p' "$log" >&2 || true
    echo "demo: run 'make demo-down' first to start a fresh one" >&2
    exit 0
  fi
  rm -f "$pid_file"
  echo "demo: building berth and the demo driver (cargo test --test demo --no-run)"
  local exe
  exe=$(cd "$repo" && "$cargo" test --test demo --no-run --message-format=json-render-diagnostics \
    | grep -o '"executable":"[^"]*demo-[^"]*"' | tail -n1 | sed 's/^"executable":"//; s/"$//')
  [ -n "$exe" ] && [ -x "$exe" ] || { echo "demo: cargo built no demo executable" >&2; exit 1; }

  : >"$log"
  # A simple command in the background: bash execs setsid, which execs the
  # driver in a new session with only the log as its output (nothing of
  # this script's stdout, so a caller reading it sees EOF when we exit).
  cd "$repo"
  setsid "$exe" >"$log" 2>&1 </dev/null &
  disown
  # Follow the log until the driver says ready or failed, or dies.
  local shown=0 size started
  started=$(date +%s)
  while :; do
    size=$(stat -c %s "$log")
    if [ "$size" -gt "$shown" ]; then
      tail -c +"$((shown + 1))" "$log" | head -c "$((size - shown))"
      shown=$size
    fi
    if grep -q '^demo ready$' "$log"; then
      exit 0
    fi
    if grep -q '^demo failed' "$log"; then
      # The driver tears the environment down after a failure.
      wait_gone 120 || true
      echo "demo: FAILED; full log: $log" >&2
      [ -f "$state/berth.log" ] && { echo "--- berth log tail ($state/berth.log):" >&2; tail -n 40 "$state/berth.log" >&2; }
      exit 1
    fi
    # The driver writes its pid file first thing; give it a few seconds.
    if ! running_pid >/dev/null && [ $(( $(date +%s) - started )) -gt 10 ]; then
      tail -c +"$((shown + 1))" "$log"
      echo "demo: the driver exited without saying ready; full log: $log" >&2
      exit 1
    fi
    sleep 0.5
  done
}

# Wait up to $1 seconds for the driver to exit.
wait_gone() {
  local deadline=$(( $(date +%s) + $1 ))
  while running_pid >/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

down() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    echo "demo: not running"
    return 0
  fi
  echo "demo: stopping the demo (pid $pid)"
  kill -USR1 "$pid" 2>/dev/null || true
  if ! wait_gone 90; then
    # Its interrupt handler removes the run directory; its children die
    # with it (PR_SET_PDEATHSIG).
    echo "demo: still running after 90s; sending SIGTERM" >&2
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 15 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone 5 || true; }
  fi
  rm -f "$pid_file"
  tail -n 2 "$log" 2>/dev/null || true
  echo "demo: stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
