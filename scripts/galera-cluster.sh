#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on this machine, for the cluster fault test
# (`npm run test:cluster`, test/cluster/). Each node has its own datadir, ports and socket under
# DIR; mariadbd runs as the `mysql` user when started as root (rsync state transfer needs it).
#
#   scripts/galera-cluster.sh start  DIR [BASEPORT]  bootstrap node 1, then join nodes 2 and 3
#   scripts/galera-cluster.sh kill   DIR N           SIGKILL node N
#   scripts/galera-cluster.sh rejoin DIR N           start node N again; it catches up (IST or SST)
#   scripts/galera-cluster.sh status DIR             wsrep_cluster_size and state of each node
#   scripts/galera-cluster.sh stop   DIR             stop every node and remove DIR
#
# Node N listens for SQL on 127.0.0.1:BASEPORT+N (BASEPORT defaults to 23300), for Galera
# on BASEPORT+10+N, for IST on BASEPORT+20+N and for rsync SST on BASEPORT+30+N; root has no password.
set -euo pipefail

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { sed -n '2,14p' "$0" >&2; exit 2; }

user_opt=()
run_as=$(id -un)
if [[ $(id -u) -eq 0 ]]; then user_opt=(--user=mysql); run_as=mysql; fi

base() { cat "$dir/baseport"; }
sql() { mariadb --protocol=tcp -h127.0.0.1 -P"$(( $(base) + $1 ))" -uroot -N -B -e "$2"; }

# A donor blocks its writes while it sends a state (rsync): let node 3, which the cluster test
# writes nothing through, be the donor when it can (the trailing comma allows any other).
donor_of() { if [[ $1 -eq 3 ]]; then echo "node2,"; else echo "node3,"; fi; }

write_config() { # node
  local n=$1 b; b=$(base)
  cat >"$dir/node$n/my.cnf" <<CNF
[mariadbd]
datadir=$dir/node$n/data
port=$(( b + n ))
bind-address=127.0.0.1
socket=$dir/node$n/mariadbd.sock
pid-file=$dir/node$n/mariadbd.pid
log-error=$dir/node$n/error.log
skip-name-resolve
innodb-buffer-pool-size=64M
innodb-flush-log-at-trx-commit=1
max-connections=500
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
wsrep-on=ON
wsrep-provider=$PROVIDER
wsrep-cluster-name=voting-test-$(basename "$dir")
wsrep-cluster-address=gcomm://127.0.0.1:$(( b + 11 )),127.0.0.1:$(( b + 12 )),127.0.0.1:$(( b + 13 ))
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$(( b + 10 + n ))
wsrep-node-incoming-address=127.0.0.1:$(( b + n ))
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$(( b + 10 + n ));ist.recv_addr=127.0.0.1:$(( b + 20 + n ));gcache.size=128M;pc.recovery=false
wsrep-sst-method=rsync
wsrep-sst-donor=$(donor_of "$n")
wsrep-sst-receive-address=127.0.0.1:$(( b + 30 + n ))
CNF
}

start_node() { # node [extra mariadbd options...]
  local n=$1; shift
  "$MARIADBD" --defaults-file="$dir/node$n/my.cnf" "${user_opt[@]}" "$@" >>"$dir/node$n/stdout.log" 2>&1 &
  echo $! >"$dir/node$n/launcher.pid"
  wait_synced "$n"
}

wait_synced() { # node: until it takes SQL and says Synced (at most 90 s)
  local n=$1 state=""
  for _ in $(seq 1 900); do
    state=$(sql "$n" "select variable_value from information_schema.global_status where variable_name = 'wsrep_local_state_comment'" 2>/dev/null || true)
    [[ "$state" == "Synced" ]] && return 0
    if ! kill -0 "$(cat "$dir/node$n/launcher.pid")" 2>/dev/null; then
      echo "node $n exited; its error log:" >&2; tail -n 40 "$dir/node$n/error.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "node $n not Synced after 90 s (state '$state'); its error log:" >&2; tail -n 40 "$dir/node$n/error.log" >&2
  return 1
}

pid_of() { cat "$dir/node$1/launcher.pid" 2>/dev/null || true; }

case "$cmd" in
  start)
    mkdir -p "$dir"
    echo "${3:-23300}" >"$dir/baseport"
    for n in 1 2 3; do mkdir -p "$dir/node$n"; write_config "$n"; done
    chown -R "$run_as" "$dir"
    if [[ $run_as == mysql ]] && ! su -s /bin/sh mysql -c "test -x '$dir'" 2>/dev/null; then
      echo "the mysql user cannot reach $dir: every directory above it must be searchable (chmod o+x)" >&2; exit 1
    fi
    mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/node1/data" --auth-root-authentication-method=normal --skip-test-db >"$dir/node1/install.log" 2>&1 \
      || { cat "$dir/node1/install.log" >&2; exit 1; }
    # The joiners get node 1's data by state transfer; they start from the same empty system tables.
    for n in 2 3; do cp -a "$dir/node1/data" "$dir/node$n/data"; done
    chown -R "$run_as" "$dir"
    start_node 1 --wsrep-new-cluster
    start_node 2
    start_node 3
    echo "galera cluster of 3 up: 127.0.0.1:$(( $(base) + 1 )), :$(( $(base) + 2 )), :$(( $(base) + 3 ))"
    ;;
  kill)
    p=$(pid_of "$3"); [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
    while [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; do sleep 0.05; done
    ;;
  rejoin)
    # After a crash grastate.dat says seqno -1: recover the position from InnoDB first, so the
    # node asks for the missed writesets only (IST from the donor's gcache) and not a full copy.
    n=$3
    "$MARIADBD" --defaults-file="$dir/node$n/my.cnf" "${user_opt[@]}" --wsrep-recover --log-error="$dir/node$n/recover.log" >/dev/null 2>&1 || true
    pos=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:[0-9-]*\).*/\1/p' "$dir/node$n/recover.log" | tail -n 1)
    if [[ -n "$pos" ]]; then start_node "$n" --wsrep-start-position="$pos"; else start_node "$n"; fi
    ;;
  status)
    for n in 1 2 3; do
      echo "node$n: $(sql "$n" "select group_concat(variable_value order by variable_name separator ' ') from information_schema.global_status where variable_name in ('wsrep_cluster_size', 'wsrep_local_state_comment')" 2>/dev/null || echo down)"
    done
    ;;
  stop)
    for n in 3 2 1; do p=$(pid_of "$n"); [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null || true; done
    for n in 3 2 1; do
      p=$(pid_of "$n")
      for _ in $(seq 1 100); do [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
    done
    # The rsync daemon of an interrupted state transfer, if any.
    for f in "$dir"/node*/data/rsync_sst.pid; do [[ -f "$f" ]] && kill -KILL "$(cat "$f")" 2>/dev/null || true; done
    rm -rf "$dir"
    ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
