#!/usr/bin/env bash
# Make sure MariaDB (127.0.0.1:3306) and Redis (127.0.0.1:6379) are running for the tests:
# start them when they are installed but stopped, install them from Debian's packages
# when they are missing (as root), or say exactly what to run.
set -euo pipefail

DB_PORT=${DB_PORT:-3306}
REDIS_PORT=${REDIS_PORT:-6379}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # port name seconds
  for _ in $(seq 1 $(( $3 * 4 ))); do
    listening "$1" && return 0
    sleep 0.25
  done
  echo "$2 did not start listening on 127.0.0.1:$1 within $3 s." >&2
  return 1
}

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
  if ! can_install; then
    echo "$1 is not installed. Install it and run make test again: sudo apt-get install $1" >&2
    exit 1
  fi
  echo "Installing $1 from Debian's packages..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

ensure_mariadb() {
  listening "$DB_PORT" && return 0
  local fresh=0
  if [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server
    fresh=1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "MariaDB is not running. Start it: sudo service mariadb start" >&2
    exit 1
  fi
  echo "Starting MariaDB..."
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for "$DB_PORT" MariaDB 60
  if [ "$fresh" = 1 ]; then
    # Debian's root account authenticates by Unix socket only; the tests connect over
    # TCP as root with no password, as on the CI machines. Only on a server we just
    # installed, never on one that was already there.
    mariadb -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  fi
}

ensure_redis() {
  listening "$REDIS_PORT" && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  echo "Starting Redis..."
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for "$REDIS_PORT" Redis 20
}

ensure_mariadb
ensure_redis
echo "MariaDB on 127.0.0.1:$DB_PORT and Redis on 127.0.0.1:$REDIS_PORT are up."
