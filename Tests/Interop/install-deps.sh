#!/usr/bin/env bash
# Installs the real clients the interop tests use, only when missing:
# curl, Python `websockets`, Chromium + chromedriver (Debian) and `selenium` (PyPI); for HTTP/2,
# nghttp and h2load (Debian nghttp2-client) and Python `h2` (PyPI, with `hpack`); for lessons 10 and 12,
# nginx, and openssl for lesson 12 (Debian).
set -euo pipefail
need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
{ command -v nghttp && command -v h2load; } >/dev/null 2>&1 || need_apt+=(nghttp2-client)
# Lesson 12: nginx terminating TLS with HTTP/2, and openssl for its self-signed certificate.
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || need_apt+=(nginx)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# curl must speak HTTP/2 (--http2-prior-knowledge): Debian's does, through libnghttp2.
curl -V 2>/dev/null | grep HTTP2 >/dev/null || echo "deps: warning: this curl has no HTTP2 feature; the HTTP/2 interop tests will fail"
PY=${PYTHON:-python3}
need_pip=()
$PY -c 'import websockets' >/dev/null 2>&1 || need_pip+=(websockets)
$PY -c 'import selenium' >/dev/null 2>&1 || need_pip+=(selenium)
$PY -c 'import h2' >/dev/null 2>&1 || need_pip+=(h2)
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "deps: installing ${need_pip[*]} with pip"
  $PY -m pip install -q "${need_pip[@]}"
fi
