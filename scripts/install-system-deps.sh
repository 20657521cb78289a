#!/usr/bin/env bash
# Install the Debian packages AdWatch needs, only those missing: Chromium (browser crawling,
# screenshots, end-to-end tests), CJK fonts (Chinese in screenshots), Redis and PostgreSQL
# (distributed crawling and its tests). Needs root or sudo; does nothing when all are present.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qiE 'wqy|noto (sans|serif) cjk' || missing+=(fonts-wqy-zenhei)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: need root or sudo to install ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start their services; AdWatch starts its own servers where it needs them.
for svc in redis-server postgresql; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "Installed: ${missing[*]}"
