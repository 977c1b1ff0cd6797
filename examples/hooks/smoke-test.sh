#!/bin/sh
# prePromotion: ask every candidate instance (or the blue-green preview listener) before it takes all traffic.
set -eu
targets="${SLIPWAY_PREVIEW_URL:-$SLIPWAY_CANDIDATE_URLS}"
for url in $targets; do
    if command -v curl >/dev/null 2>&1; then
        curl --fail --silent --show-error --max-time 5 "$url/healthz" > /dev/null
    fi
    echo "ok: $url"
done
