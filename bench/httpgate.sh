#!/bin/sh
# HTTP access control in front of a Unix-socket API: ipchttpgate under ipcserver, and
# ipchttpgate serving its listening socket itself, vs HAProxy with the same path ACL
# (the docker socket proxy's design) vs nginx, side by side in one run, all four in
# front of the same backend.
#
# The backend is nginx on a Unix socket answering every request with a small JSON body
# (one worker per core, keep-alive without a request limit). Each front allows
# `GET (/vN)?/(containers|images)/json` and refuses the rest with 403:
#   ours:    ipcserver -a 0666 SOCK ipchttpgate -v 0 -r RULES BACKEND
#   listen:  "ipchttpgate (listening)": ipcserver-socketbinder -a 0666 SOCK ipchttpgate
#            -v 0 -r RULES BACKEND, one process, a thread per connection
#   haproxy: one process (nbthread = cores), `http-request deny` unless the ACL matches,
#            server connections kept alive
#   nginx:   one worker per core, a regex `location` with `limit_except GET`, upstream
#            keepalive
# Three loads, each by `ipcbench http` (crates/ipcbench), ROUNDS times, fronts
# alternating ours, listen, haproxy, nginx:
#   keep1:  1 connection x N requests, kept alive
#   keep16: CONNS connections x PER requests each, kept alive
#   one:    CONNS clients x ONE requests, one connection per request
# For each: requests/s (median over rounds), and the front's CPU per request: user +
# system time of the front's processes over the run (for ours, ipcserver and every
# ipchttpgate it reaped: /proc/PID/stat utime+stime+cutime+cstime; for the listening
# gate, its one process, every thread included; for HAProxy and nginx, the master and
# its workers), in microseconds. Targets (issue 24): kept-alive
# requests/s >= 1.0x HAProxy at <= 1.0x its CPU per request; one request per connection
# >= 0.5x HAProxy (a process per connection is the UCSPI price).
#
# Usage: bench/httpgate.sh      (environment: ROUNDS=3 N=10000 CONNS=16 PER=2000
#                                ONE=500, BIN (default $TARGET, else the release build
#                                of bench/lib.sh), IPCBENCH)
# A quick check that everything runs: ROUNDS=1 N=50 PER=20 ONE=10 bench/httpgate.sh
set -eu
ROUNDS=${ROUNDS:-3}
N=${N:-10000}
CONNS=${CONNS:-16}
PER=${PER:-2000}
ONE=${ONE:-500}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
need_ipcbench || exit 111
BIN=${BIN:-$TARGET}
BIN=$(cd "$BIN" && pwd)
for p in "$BIN/ipcserver" "$BIN/ipcserver-socketbinder" "$BIN/ipchttpgate" haproxy nginx; do
  command -v "$p" >/dev/null || { echo "bench/httpgate.sh: missing $p" >&2; exit 100; }
done
NGINX=$(command -v nginx)
HAPROXY=$(command -v haproxy)
tck=$(getconf CLK_TCK)

dir=$(mktemp -d /tmp/ipcbench.XXXXXX)
pids=
cleanup() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nginx_conf DIR HTTP: DIR/nginx.conf for an nginx (one worker per core) keeping its pid,
# logs and temporary files in DIR, with HTTP (its upstreams and servers) in the http block.
nginx_conf() {
  cat > "$1/nginx.conf" <<EOF
daemon off;
master_process on;
user root;
worker_processes auto;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $1;
  proxy_temp_path $1;
$2
}
EOF
}

# The backend: nginx answering every request.
mkdir -p "$dir/back" "$dir/front"
nginx_conf "$dir/back" "$(cat <<EOF
  server {
    listen unix:$dir/backend.sock;
    default_type application/json;
    location / { return 200 '[{"Id":"0123456789ab","Names":["/bench"],"State":"running"}]\n'; }
  }
EOF
)"
"$NGINX" -p "$dir/back" -c "$dir/back/nginx.conf" 2>"$dir/back/stderr" &
pids="$pids $!"

# The rules, the same for every front.
cat > "$dir/rules" <<'EOF'
allow GET (/v[0-9.]+)?/(containers|images)/json *
EOF
"$BIN/ipcserver" -1 -c 1000 -C 1000 -a 0666 "$dir/ours.sock" \
  "$BIN/ipchttpgate" -v 0 -r "$dir/rules" "$dir/backend.sock" > "$dir/ours.ready" &
ours=$!
pids="$pids $ours"
# The socketbinder execs into the gate: $! is the gate's one process.
"$BIN/ipcserver-socketbinder" -a 0666 "$dir/listen.sock" \
  "$BIN/ipchttpgate" -v 0 -r "$dir/rules" "$dir/backend.sock" 2>"$dir/listen.stderr" &
listen=$!
pids="$pids $listen"

cat > "$dir/haproxy.cfg" <<EOF
global
  maxconn 4096
  pidfile $dir/haproxy.pid
defaults
  mode http
  option http-keep-alive
  timeout connect 10s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend gate
  bind unix@$dir/haproxy.sock mode 666
  acl api_read path_reg ^(/v[0-9.]+)?/(containers|images)/json\$
  http-request deny deny_status 403 unless METH_GET api_read
  default_backend api
backend api
  http-reuse always
  server s unix@$dir/backend.sock
EOF
"$HAPROXY" -db -f "$dir/haproxy.cfg" 2>"$dir/haproxy.stderr" &
haproxy=$!
pids="$pids $haproxy"

nginx_conf "$dir/front" "$(cat <<EOF
  upstream api { server unix:$dir/backend.sock; keepalive 64; keepalive_requests 100000000; }
  server {
    listen unix:$dir/nginx.sock;
    location ~ ^(/v[0-9.]+)?/(containers|images)/json\$ {
      limit_except GET { deny all; }
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location / { return 403; }
  }
EOF
)"
"$NGINX" -p "$dir/front" -c "$dir/front/nginx.conf" 2>"$dir/front/stderr" &
nginx=$!
pids="$pids $nginx"

# Wait for every socket; check that each front allows and refuses the same.
for s in backend ours listen haproxy nginx; do
  i=0
  while [ ! -S "$dir/$s.sock" ]; do
    i=$((i + 1)); [ $i -lt 500 ] || { echo "bench/httpgate.sh: $s did not start" >&2; cat "$dir"/*.stderr "$dir"/*/stderr >&2; exit 111; }
    sleep 0.02
  done
done
sleep 0.2
fronts="ours listen haproxy nginx"
for f in $fronts; do
  "$IPCBENCH" http -n 2 -u /v1.40/containers/json "$dir/$f.sock" | grep -q ' errors=0 ' ||
    { echo "bench/httpgate.sh: $f does not pass an allowed request" >&2; exit 111; }
  "$IPCBENCH" http -n 2 -e 403 -u /v1.40/containers/create "$dir/$f.sock" | grep -q ' errors=0 ' ||
    { echo "bench/httpgate.sh: $f does not refuse a forbidden request with 403" >&2; exit 111; }
done

# CPU ticks (utime+stime+cutime+cstime) of PID and its children.
ticks() {
  t=0
  for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
    s=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    # After "pid (comm) ": field 3 is state, 14-17 of stat are the 12th-15th here.
    t=$((t + $(echo "$s" | awk '{ print $12 + $13 + $14 + $15 }')))
  done
  echo "$t"
}

# One run: front $1 (its pid $2), load $3 (ipcbench http options); appends
# "req_per_s cpu_us_per_req errors" to $dir/res.$1.$3.
one() {
  front=$1; pid=$2; load=$3; shift 3
  before=$(ticks "$pid")
  line=$("$IPCBENCH" http "$@" "$dir/$front.sock")
  # Let ipcserver reap the last gates, so that their CPU is counted.
  sleep 0.1
  after=$(ticks "$pid")
  reqs=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\) .*/\1/p')
  rate=$(echo "$line" | sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p')
  errs=$(echo "$line" | sed -n 's/.*errors=\([0-9]*\) .*/\1/p')
  awk -v r="$rate" -v a="$after" -v b="$before" -v n="$reqs" -v t="$tck" -v e="$errs" \
    'BEGIN { printf "%s %.2f %s\n", r, (a - b) / t * 1e6 / n, e }' >> "$dir/res.$front.$load"
}

echo "ipchttpgate (under ipcserver: ours; listening: listen) vs HAProxy vs nginx: $ROUNDS rounds; keep1 1x$N kept alive, keep16 ${CONNS}x$PER kept alive, one ${CONNS}x$ONE one per connection"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr); $("$HAPROXY" -v | head -n 1); $("$NGINX" -v 2>&1)"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
  for f in $fronts; do
    eval "pid=\$$f"
    one "$f" "$pid" keep1 -c 1 -n "$N" -k
    one "$f" "$pid" keep16 -c "$CONNS" -n "$PER" -k
    one "$f" "$pid" one -c "$CONNS" -n "$ONE"
  done
  r=$((r + 1))
done

# median of column $2 of file $1
median() {
  awk "{ print \$$2 }" "$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# label FRONT: the name a front is reported under.
label() {
  case $1 in
    ours) echo 'ipchttpgate' ;;
    listen) echo 'ipchttpgate (listening)' ;;
    *) echo "$1" ;;
  esac
}
printf '%-7s %-24s %12s %14s %7s\n' load front 'req/s' 'CPU us/req' errors
for load in keep1 keep16 one; do
  for f in $fronts; do
    rate=$(median "$dir/res.$f.$load" 1)
    cpu=$(median "$dir/res.$f.$load" 2)
    errs=$(awk '{ e += $3 } END { print e }' "$dir/res.$f.$load")
    printf '%-7s %-24s %12.1f %14.2f %7s\n' "$load" "$(label "$f")" "$rate" "$cpu" "$errs"
    eval "rate_${f}_$load=$rate cpu_${f}_$load=$cpu"
  done
done
for load in keep1 keep16 one; do
  eval "h=\$rate_haproxy_$load x=\$rate_nginx_$load"
  eval "ch=\$cpu_haproxy_$load cx=\$cpu_nginx_$load"
  case $load in one) target='req/s >= 0.5x HAProxy' ;; *) target='req/s >= 1.0x HAProxy at <= 1.0x its CPU' ;; esac
  for f in ours listen; do
    eval "o=\$rate_${f}_$load co=\$cpu_${f}_$load"
    awk -v l="$load" -v f="$f" -v o="$o" -v h="$h" -v x="$x" -v co="$co" -v ch="$ch" -v cx="$cx" -v t="$target" 'BEGIN {
      printf "%-7s %s/haproxy req/s %.2fx, CPU %.2fx; %s/nginx req/s %.2fx, CPU %.2fx (target: %s)\n",
        l, f, o / h, (ch > 0 ? co / ch : 0), f, o / x, (cx > 0 ? co / cx : 0), t
    }'
  done
done
