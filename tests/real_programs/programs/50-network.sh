# shellcheck shell=bash disable=SC2034,SC2154
# Clients and servers on loopback only: curl, wget and aria2c fetching from
# a local HTTP server, servers under a load (memcached, redis, nginx with a
# thread pool, haproxy with 2 threads, python3's threading HTTP server).
# A server under test runs under lockrace and its client natively; a server
# that only serves a client under test runs natively (NATIVE=1).
# Sourced by run.sh.

W=$HERE/workloads

# www: files to serve, in WORK/www (need_data first)
www() {
    mkdir -p www
    split -n 24 -d -a 2 "$SMALL" www/file.
}

# http_server: python3's http.server on a free port, natively; sets PORT
http_server() {
    PORT=$(free_port)
    NATIVE=1 NOERR=1 server http "$PYTHON" -m http.server --bind 127.0.0.1 --directory www "$PORT"
    wait_port "$PORT"
}

program curl fast curl curl "curl --parallel: 24 files from a local HTTP server, then one with --limit-rate" \
    asan=no
prog_curl() {
    need_data
    www
    http_server
    local args=() f
    for f in www/*; do args+=(-o "got/${f#www/}" "http://127.0.0.1:$PORT/${f#www/}"); done
    step fetch /dev/null "$DIR/fetch.out" curl -sS --no-progress-meter --create-dirs --parallel --parallel-max 4 "${args[@]}"
    step slow /dev/null "$DIR/slow.out" curl -sS --limit-rate 2M -o slow "http://127.0.0.1:$PORT/file.00"
    server_stop http
    helper verify /dev/null "$DIR/verify.out" sh -c 'diff -r www got && cmp slow www/file.00'
}

program wget fast wget wget "wget -r: mirror a local HTTP server's directory listing"
prog_wget() {
    need_data
    www
    http_server
    step mirror /dev/null "$DIR/mirror.out" wget -q -r -np -nH -P got "http://127.0.0.1:$PORT/"
    server_stop http
    rm -f got/index.html
    helper verify /dev/null "$DIR/verify.out" diff -r www got
}

program aria2 fast aria2 aria2c "aria2c -x2 -s2: files fetched in pieces over 2 connections each" \
    asan=no
prog_aria2() {
    need_data
    www
    http_server
    local f
    for f in www/*; do echo "http://127.0.0.1:$PORT/${f#www/}"; done >urls
    step fetch /dev/null "$DIR/fetch.out" aria2c -q -x2 -s2 -j4 --min-split-size=1M -d got -i urls
    server_stop http
    helper verify /dev/null "$DIR/verify.out" diff -r www got
}

program http_server fast python3 python3 "python3 -m http.server (ThreadingHTTPServer) under a 4-connection load"
prog_http_server() {
    need_data
    www
    PORT=$(free_port)
    NOERR=1 server http "$PYTHON" -m http.server --bind 127.0.0.1 --directory www "$PORT"
    wait_port "$PORT"
    helper client /dev/null "$DIR/client.out" "$PYTHON" "$W/http_client.py" "$PORT" www
    server_stop http
}

program memcached fast memcached memcached "memcached -t 4: 4 clients, 4,000 sets and gets, 1,000 increments"
prog_memcached() {
    local port user=()
    port=$(free_port)
    # memcached refuses to run as root without -u.
    [ "$(id -u)" -ne 0 ] || user=(-u root)
    server memcached memcached -t 4 -p "$port" -l 127.0.0.1 "${user[@]}"
    helper client /dev/null "$DIR/client.out" "$PYTHON" "$W/memcached_client.py" "$port"
    # memcached ends on SIGTERM within about a second (it looks at the flag
    # on its clock tick): its wall time includes that.
    server_stop memcached
}

# postgres: a server of processes (the postmaster, a backend per client,
# background workers for a parallel query) that share memory and wait for
# each other on process-shared semaphores in it; its clients run natively.
# It refuses to run as root: as root, it runs as nobody (setpriv execs, so
# the server is the process started), with the directories it writes
# (its data, the report file) opened to it. Debian keeps the binaries of a
# PostgreSQL version out of PATH.
PG=/usr/lib/postgresql/15/bin
program postgres full postgresql-15 $PG/initdb,$PG/postgres,$PG/pg_isready,$PG/pgbench,$PG/psql \
    "PostgreSQL 15: initdb, the server under pgbench (4 clients, 2 threads, 2,000 transactions), a parallel query"
prog_postgres() {
    local as=() port i sql
    if [ "$(id -u)" -eq 0 ]; then
        as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
        chmod a+x "$TMP" "$TMP/postgres"
        chmod a+rwx "$DIR" "$KEEP" "$WORK"
        # nobody's (lockrace writes only to its user's files; in setpriv,
        # still root, it says so on stderr, which is not compared)
        : >"$DIR/reports.json"
        chown nobody "$DIR/reports.json"
    fi
    port=$(free_port)
    NOERR=1 step initdb /dev/null "$KEEP/initdb.out" "${as[@]}" "$PG/initdb" -D "$WORK/data" -A trust -U postgres --no-sync
    NOERR=1 server postgres "${as[@]}" "$PG/postgres" -D "$WORK/data" -k "$WORK" -p "$port" \
        -c listen_addresses= -c fsync=off -c max_parallel_workers_per_gather=2
    for ((i = 0; i < 200; i++)); do
        "$PG/pg_isready" -q -h "$WORK" -p "$port" && break
        sleep 0.05
    done
    NOERR=1 helper init /dev/null "$KEEP/init.out" "$PG/pgbench" -h "$WORK" -p "$port" -U postgres -i -s 1 -q postgres
    NOERR=1 helper bench /dev/null "$KEEP/bench.out" "$PG/pgbench" -h "$WORK" -p "$port" -U postgres -c 4 -j 2 -t 500 postgres
    # every transaction added its delta to an account and to the history
    sql="SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(delta) FROM pgbench_history),
                (SELECT count(*) FROM pgbench_history);
         SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
         SELECT count(*), sum(aid) FROM pgbench_accounts WHERE aid % 7 = 3;"
    helper check /dev/null "$DIR/check.out" "$PG/psql" -At -h "$WORK" -p "$port" -U postgres -c "$sql" postgres
    server_stop postgres INT
}

# mariadb: MariaDB 10.11, a server of threads (one per connection,
# InnoDB's purge, I/O and background threads) under sysbench's OLTP
# read-write load; as root it runs as root (--user=root, which it accepts).
# sysbench's figures and retried deadlocks are not compared; how many
# transactions it made and what the tables hold are.
program mariadb full mariadb-server,mariadb-client,sysbench /usr/sbin/mariadbd,mariadb-install-db,mariadb,sysbench \
    "MariaDB 10.11: mariadb-install-db, the server under sysbench oltp_read_write (4 clients, 2,000 transactions)"
prog_mariadb() {
    local user=() sock=$WORK/mariadb.sock sb=() i
    [ "$(id -u)" -ne 0 ] || user=(--user=root)
    NOERR=1 step install /dev/null "$KEEP/install.out" mariadb-install-db --no-defaults \
        --datadir="$WORK/data" "${user[@]}" --auth-root-authentication-method=normal
    NOERR=1 server mariadb /usr/sbin/mariadbd --no-defaults --datadir="$WORK/data" "${user[@]}" \
        --socket="$sock" --skip-networking --pid-file="$WORK/mariadb.pid" \
        --log-error="$KEEP/mariadb.log" --innodb-buffer-pool-size=64M
    for ((i = 0; i < 200; i++)); do
        [ -S "$sock" ] && break
        sleep 0.05
    done
    sb=(sysbench oltp_read_write --db-driver=mysql --mysql-socket="$sock" --mysql-user=root
        --tables=2 --table-size=2000)
    helper create /dev/null "$DIR/create.out" mariadb --no-defaults -S "$sock" -uroot -e "CREATE DATABASE sbtest"
    NOERR=1 helper prepare /dev/null "$KEEP/prepare.out" "${sb[@]}" prepare
    NOERR=1 helper bench /dev/null "$KEEP/bench.out" "${sb[@]}" --threads=4 --time=0 --events=2000 run
    helper check /dev/null "$DIR/check.out" sh -c "grep -o 'transactions: *[0-9]*' '$KEEP/bench.out' &&
        mariadb --no-defaults -S '$sock' -uroot -N -e 'SELECT COUNT(*) FROM sbtest.sbtest1; SELECT COUNT(*) FROM sbtest.sbtest2'"
    server_stop mariadb
}

# apache2: the event MPM, a parent and 2 children of 25 threads each, a
# listener thread per child, under ab (8 connections, with and without
# keep-alive) and a look at mod_status. As root, the children switch to
# www-data, as a Debian install's do: the files they serve are opened to it.
# ab's figures are not compared; what every request got is, from the
# access log.
program apache2 full apache2,apache2-utils,curl apache2,ab,curl \
    "apache2 (mpm_event, 2 children of 25 threads) under ab: 8 connections, 2 x 3,000 requests, with and without keep-alive"
prog_apache2() {
    need_data
    local port run_as="" i
    port=$(free_port)
    mkdir -p htdocs run logs
    if [ "$(id -u)" -eq 0 ]; then
        run_as="User www-data
Group www-data"
        chmod a+x "$TMP" "$TMP/apache2"
        chmod a+rx "$WORK" htdocs
    fi
    for i in 1 2 3; do
        head -c $((i * 4096)) "$SMALL" >"htdocs/f$i.txt"
    done
    cat >httpd.conf <<EOF2
ServerRoot $WORK
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $WORK/run/httpd.pid
Mutex file:$WORK/run default
$run_as
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule status_module /usr/lib/apache2/modules/mod_status.so
TypesConfig /etc/mime.types
ErrorLog $KEEP/error.log
LogFormat "%>s %r" status
CustomLog $WORK/logs/access.log status
DocumentRoot $WORK/htdocs
<Directory />
  Require all granted
</Directory>
<Location /server-status>
  SetHandler server-status
</Location>
StartServers 2
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
EOF2
    NOERR=1 server apache2 apache2 -DFOREGROUND -f "$WORK/httpd.conf"
    wait_port "$port"
    NOERR=1 helper ab_close /dev/null "$KEEP/ab_close.out" ab -n 3000 -c 8 "http://127.0.0.1:$port/f2.txt"
    NOERR=1 helper ab_keep /dev/null "$KEEP/ab_keep.out" ab -n 3000 -c 8 -k "http://127.0.0.1:$port/f3.txt"
    helper requests /dev/null "$DIR/requests.out" sh -c "grep -h -E '^(Complete|Failed) requests' '$KEEP/ab_close.out' '$KEEP/ab_keep.out' &&
        curl -s -w '%{http_code}\n' -o /dev/null http://127.0.0.1:$port/f1.txt -o /dev/null http://127.0.0.1:$port/none &&
        curl -s 'http://127.0.0.1:$port/server-status?auto' | grep -c '^BusyWorkers'"
    server_stop apache2 WINCH
    sort logs/access.log | uniq -c >"$DIR/access.out"
}

# redis: its background threads (lazy free, close), then its I/O threads.
# redis-benchmark's figures are not compared; what the keys hold is.
redis() {
    local port
    port=$(free_port)
    NOERR=1 server redis redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --lazyfree-lazy-user-del yes --lazyfree-lazy-user-flush yes --dir "$WORK" "$@"
    wait_port "$port"
    NOERR=1 step benchmark /dev/null "$WORK/benchmark.out" \
        redis-benchmark -p "$port" -c 8 -n "$REQUESTS" -t set,get,incr,lpush,lpop -q
    # 10 s: each takes milliseconds; a hang at exit costs less than 60 s
    STEP_TIMEOUT=10 step cli /dev/null "$DIR/cli.out" sh -c "redis-cli -p $port dbsize && redis-cli -p $port get counter:__rand_int__ && redis-cli -p $port del mylist key:__rand_int__ && redis-cli -p $port flushall async && redis-cli -p $port dbsize"
    STEP_TIMEOUT=10 step shutdown /dev/null "$DIR/shutdown.out" redis-cli -p "$port" shutdown nosave
    server_stop redis
}

program redis fast redis-server,redis-tools redis-server,redis-benchmark,redis-cli "redis-server under redis-benchmark (8 clients, 5 x 2,000 requests), lazy free; redis-cli"
prog_redis() { REQUESTS=2000 redis; }

# Redis's I/O threads spin while they wait: on 2 CPUs shared with the
# benchmark a request can wait 30 ms, so this one is slow (full tier).
program redis_io_threads full redis-server,redis-tools redis-server,redis-benchmark,redis-cli "redis-server --io-threads 2 --io-threads-do-reads yes, the same load"
prog_redis_io_threads() { REQUESTS=2000 redis --io-threads 2 --io-threads-do-reads yes; }

# nginx: a master and 2 workers, files read by a thread pool (aio threads).
program nginx fast nginx nginx "nginx: 2 workers, files read by a thread pool (aio threads), 4-connection load" \
    via=launcher
prog_nginx() {
    need_data
    www
    local port
    port=$(free_port)
    mkdir -p logs temp
    cat >nginx.conf <<EOF2
daemon off;
master_process on;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $KEEP/nginx.log notice;
$([ "$(id -u)" -ne 0 ] || echo "user root root;")
thread_pool default threads=4 max_queue=1024;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/temp/body;
    proxy_temp_path $WORK/temp/proxy;
    fastcgi_temp_path $WORK/temp/fastcgi;
    uwsgi_temp_path $WORK/temp/uwsgi;
    scgi_temp_path $WORK/temp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $WORK/www;
        location / { aio threads; sendfile off; output_buffers 2 64k; }
    }
}
EOF2
    NOERR=1 server nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$KEEP/nginx-start.log"
    wait_port "$port"
    helper client /dev/null "$DIR/client.out" "$PYTHON" "$W/http_client.py" "$port" www
    server_stop nginx QUIT
}

# haproxy: 2 threads in front of python3's http.server.
program haproxy fast haproxy haproxy "haproxy nbthread 2 in front of python3's http.server, 4-connection load"
prog_haproxy() {
    need_data
    www
    http_server
    local port
    port=$(free_port)
    cat >haproxy.cfg <<EOF2
global
    nbthread 2
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend in
    bind 127.0.0.1:$port
    default_backend out
backend out
    server www 127.0.0.1:$PORT
EOF2
    NOERR=1 server haproxy haproxy -db -f haproxy.cfg
    wait_port "$port"
    helper client /dev/null "$DIR/client.out" "$PYTHON" "$W/http_client.py" "$port" www
    server_stop haproxy USR1
    server_stop http
}
