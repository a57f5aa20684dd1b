#!/usr/bin/env python3
"""Lesson 12, part 2: seven EventSources in one headless Chromium tab, twice.

  1. against `wirelab serve` directly (HTTP/1.1): Chromium opens at most six connections per
     host, so the seventh EventSource waits for a connection and receives nothing;
  2. through Debian's nginx terminating TLS with HTTP/2 (a self-signed certificate made here
     with `openssl`, under --work; nginx proxies to the same server): one connection carries
     all seven streams, and all seven flow.

The page is the server's own origin (/healthz, then a script adds the EventSources), so no CORS
is involved. Prints one JSON object: for each case the protocol Chromium used for the page
(`nextHopProtocol`) and the events each stream received. Every wait is bounded.

Usage: seven_streams.py --server http://127.0.0.1:PORT --work .build/wirelab-h2 [--streams 7] [--seconds 4]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

SCRIPT = """
window.wl = {counts: [], states: []};
for (let k = 0; k < arguments[0]; k++) {
  window.wl.counts.push(0);
  const es = new EventSource('/sse?client=tab-' + (k + 1));
  const count = () => { window.wl.counts[k] += 1; };
  es.addEventListener('tick', count);
  es.addEventListener('chat', count);
  es.onmessage = count;
  window.wl.states.push(es);
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM_BIN", shutil.which("chromium") or "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                "--ignore-certificate-errors", "--disable-background-timer-throttling"):
        options.add_argument(arg)
    service = Service(os.environ.get("CHROMEDRIVER_BIN", shutil.which("chromedriver") or "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def seven(browser, origin, streams, seconds):
    browser.get(origin + "/healthz")
    protocol = browser.execute_script(
        "const e = performance.getEntriesByType('navigation')[0]; return e ? e.nextHopProtocol : '';")
    browser.execute_script(SCRIPT, streams)
    time.sleep(seconds)
    counts = browser.execute_script("return window.wl.counts;")
    states = browser.execute_script("return window.wl.states.map(e => e.readyState);")
    browser.execute_script("window.wl.states.forEach(e => e.close());")
    return {"origin": origin, "protocol": protocol, "counts": counts, "ready_states": states}


def start_nginx(work, upstream_port):
    os.makedirs(work + "/tmp", exist_ok=True)
    cert, key = work + "/cert.pem", work + "/key.pem"
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    port = free_port()
    tmp = work + "/tmp"
    conf = f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://127.0.0.1:{upstream_port};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }}
  }}
}}
"""
    with open(work + "/nginx.conf", "w") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-e", work + "/error.log", "-p", work, "-c", work + "/nginx.conf"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nginx exited: " + proc.stderr.read().decode(errors="replace"))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not listen within 10 s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--streams", type=int, default=7)
    p.add_argument("--seconds", type=float, default=4)
    a = p.parse_args()
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    upstream_port = int(a.server.rsplit(":", 1)[1].strip("/"))
    out = {}
    browser = driver()
    try:
        out["direct"] = seven(browser, a.server.rstrip("/"), a.streams, a.seconds)
    finally:
        browser.quit()
    nginx, port = start_nginx(work, upstream_port)
    browser = driver()
    try:
        out["nginx"] = seven(browser, "https://127.0.0.1:%d" % port, a.streams, a.seconds)
    finally:
        browser.quit()
        nginx.terminate()
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line the lesson can show
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
