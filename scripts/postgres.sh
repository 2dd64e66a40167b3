#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the tests: installs Debian's package if it is missing,
# creates a data directory under $FRAUD_PG_DIR (default: a new temporary one), listens on
# loopback at $FRAUD_PG_PORT (default 55432) and prints the Npgsql connection string.
#   scripts/postgres.sh start   -> prints Host=127.0.0.1;Port=…;Username=postgres;Database=postgres
#   scripts/postgres.sh stop DIR
set -euo pipefail

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

start() {
    local bin port dir
    bin=$(find_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "postgres: installing Debian's postgresql package" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bin=$(find_bin)
    fi

    port=${FRAUD_PG_PORT:-55432}
    dir=${FRAUD_PG_DIR:-$(mktemp -d /tmp/fraud-pg.XXXXXX)}
    mkdir -p "$dir"
    # PostgreSQL refuses to run as root: the server runs as the package's postgres user.
    local as=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown -R postgres "$dir"
        as=(runuser -u postgres --)
    fi

    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" start >&2
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
}

stop() {
    local dir=$1 bin
    bin=$(find_bin)
    local as=()
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "$2" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
