#!/bin/sh
# healthcheck.sh -- the image's HEALTHCHECK: GET /health on the address IOT_EDGE_HTTP_LISTEN names; exit 0 if it answers 2xx.
listen=${IOT_EDGE_HTTP_LISTEN:-0.0.0.0:1337}
port=${listen##*:}
host=${listen%:*}
case "$host" in
'' | 0.0.0.0 | '[::]' | '*') host=127.0.0.1 ;;
esac
exec curl -fsS -o /dev/null --max-time 4 "http://$host:$port/health"
