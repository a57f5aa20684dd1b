#!/usr/bin/env bash
# Installs the real clients the interop tests use, only when missing:
# curl, Python `websockets`, Chromium + chromedriver, nginx (Debian) and `selenium` (PyPI).
set -euo pipefail
need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# nginx: lesson 10's real middlebox (its scenario test starts one, as this user, on 127.0.0.1).
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
PY=${PYTHON:-python3}
need_pip=()
$PY -c 'import websockets' >/dev/null 2>&1 || need_pip+=(websockets)
$PY -c 'import selenium' >/dev/null 2>&1 || need_pip+=(selenium)
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "deps: installing ${need_pip[*]} with pip"
  $PY -m pip install -q "${need_pip[@]}"
fi
