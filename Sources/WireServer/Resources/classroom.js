// WireLab classroom page, part 3 of 4: the same event stream reaches this browser four ways at once.
//
// The page's scripts, in reading order:
//   panel.js     what a panel shows (numbers, latency chart, chat), no networking;
//   wire.js      one exchange as it looks on the wire, rebuilt where the browser hides it;
//   classroom.js (this file) one section per transport, each on the browser's own API in its
//                simplest form: fetch() on a timer, fetch() in a loop, EventSource, WebSocket;
//                then the auto panel that negotiates one of them; then the server's byte counts;
//   controls.js  rate, size, pause, large type, talking back, and the start.
'use strict';

// ==== 1. Who we are ==========================================================================
// Every request a panel makes carries `client=page-<transport>-<id>`, so the server keeps separate
// counters per panel and per browser: /stats?client=page-ws-k3x9 is this page's WebSocket alone.
const PAGE_ID = randomId(4);

function randomId(length) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, b => alphabet[b % alphabet.length]).join('');
}

function clientName(transport) {
  return 'page-' + transport + '-' + PAGE_ID;
}

// ---- Shared plumbing for the transport sections --------------------------------------------

/** Waits `ms`, or less if the transport is stopped meanwhile. */
function nap(transport, ms) {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); transport.wake = null; resolve(); }
    transport.wake = done;
  });
}

/** After a failure: count down "reconnecting in N s", the wait drawn by the Backoff (full jitter). */
async function waitToRetry(transport, error) {
  const until = performance.now() + transport.backoff.next();
  console.info('[' + transport.panel.transport + '] retrying after:', String(error));
  while (transport.running) {
    const left = until - performance.now();
    if (left <= 0) break;
    transport.panel.setState('reconnecting in ' + (left / 1000).toFixed(1) + ' s', 'down');
    await nap(transport, Math.min(left, 100));
  }
}

/**
 * A step of the auto panel asks it, before retrying, whether to move down the ladder instead.
 * True: the auto panel took over (this transport is stopped). A lone panel has no supervisor.
 */
function supervisorTookOver(transport, failure) {
  return transport.supervisor ? transport.supervisor.stepFailed(transport, failure) : false;
}

/** fetch() rejects with a TypeError when it never got an answer (server down, refused). */
const isNetworkError = error => error instanceof TypeError;

// ==== 2. Short polling: ask, wait, ask again =================================================
// The simplest thing that works: every interval, ask "anything after event N?". The answer
// comes at once, often empty. Cost: a whole request and response per question.
class ShortPolling {
  constructor(panel) {
    this.panel = panel;
    this.since = null;         // the `next` of the last answer: where to resume
    this.backoff = new Backoff();
    this.running = false;
  }

  start() {
    this.running = true;
    this.loop = this.run();
  }

  async stop() {
    this.running = false;
    if (this.wake) this.wake();
    await this.loop;           // a poll in flight finishes: it is quick
    this.panel.setState('paused');
  }

  async run() {
    while (this.running) {
      try {
        await this.pollOnce();
        this.backoff.reset();
        this.panel.setState('live · asks every ' + pollIntervalSeconds() + ' s', 'live');
        await nap(this, pollIntervalSeconds() * 1000);
      } catch (error) {
        if (supervisorTookOver(this, { http: !isNetworkError(error) })) return;
        await waitToRetry(this, error);
      }
    }
  }

  async pollOnce() {
    let url = '/poll?client=' + this.panel.name;
    if (this.since !== null) url += '&since=' + this.since;
    this.panel.countRequest();
    let response;
    try {
      response = await fetch(url, { cache: 'no-store' });
    } catch (error) {
      if (isNetworkError(error)) this.panel.uncountRequest();
      throw error;
    }
    const text = await response.text();
    if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + text);
    const body = JSON.parse(text);           // {"events":[...],"next":M,"missed":K}
    body.events.forEach(event => this.panel.receive(event));
    this.since = body.next;
    this.panel.showWire(httpExchangeHTML('GET', url, response, text));
  }
}

function pollIntervalSeconds() {
  const value = Number(document.getElementById('poll-interval').value);
  return value >= 0.1 ? value : 1;
}

// ==== 3. Long polling: ask, and the server answers when there is news ========================
// The same question as short polling, but the server holds it until an event exists (or
// `timeout` seconds pass). We ask again at once, so at most one request waits at a time.
class LongPolling {
  constructor(panel) {
    this.panel = panel;
    this.since = null;
    this.backoff = new Backoff();
    this.running = false;
  }

  start() {
    this.running = true;
    this.loop = this.run();
  }

  async stop() {
    this.running = false;
    if (this.controller) this.controller.abort();   // the server may hold it for 25 s
    if (this.wake) this.wake();
    await this.loop;
    this.panel.setState('paused');
  }

  async run() {
    while (this.running) {
      try {
        this.panel.setState('live · request waiting', 'live');
        await this.askOnce();
        this.backoff.reset();
      } catch (error) {
        if (!this.running) break;            // aborted by pause
        if (supervisorTookOver(this, { http: !isNetworkError(error) })) return;
        await waitToRetry(this, error);
      }
    }
  }

  async askOnce() {
    let url = '/longpoll?timeout=25&client=' + this.panel.name;
    if (this.since !== null) url += '&since=' + this.since;
    this.controller = new AbortController();
    this.panel.countRequest();
    let response;
    try {
      response = await fetch(url, { cache: 'no-store', signal: this.controller.signal });
    } catch (error) {
      if (isNetworkError(error)) this.panel.uncountRequest();
      throw error;
    }
    const text = await response.text();
    if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + text);
    const body = JSON.parse(text);
    body.events.forEach(event => this.panel.receive(event));
    this.since = body.next;
    this.panel.showWire(httpExchangeHTML('GET', url, response, text));
  }
}

// ==== 4. Server-Sent Events: one response that never ends ===================================
// EventSource opens one GET and the server keeps writing events into its body. The server
// names each event (`event: tick` / `event: chat`), so we listen for those names: a plain
// onmessage would only see events without a name.
//
// Reconnecting is EventSource's own job (WHATWG HTML §9.2): when the stream drops, the browser
// waits the reconnection time (3 s in Chromium, or what the server's `retry:` field says:
// `wirelab serve --sse-retry MS`) and asks again with the same URL plus a `Last-Event-ID`
// header holding the last `id:` it saw; the server replays what came after (PROTOCOL.md §2).
// So on an error we leave the EventSource alone. Only when the browser gives up (readyState
// CLOSED: an HTTP error status or a wrong Content-Type) do we open a new one ourselves, after
// our own backoff (PROTOCOL.md §8), resuming with `since=` — a new EventSource starts with no
// Last-Event-ID. DevTools' Network tab shows each reconnect and its Last-Event-ID header.
class ServerSentEvents {
  constructor(panel) {
    this.panel = panel;
    this.lastId = null;        // resume point after a pause or after the browser gave up
    this.backoff = new Backoff();
    this.running = false;
  }

  start() {
    this.running = true;
    this.connect();
  }

  async stop() {
    this.running = false;
    if (this.wake) this.wake();
    if (this.source) this.source.close();
    this.panel.setState('paused');
  }

  connect() {
    let url = '/sse?client=' + this.panel.name;
    if (this.lastId !== null) url += '&since=' + this.lastId;
    const source = new EventSource(url);
    this.source = source;
    this.url = url;
    this.panel.setState('connecting', 'wait');

    // Each open is one request on the wire: ours, or a reconnect the browser made by itself.
    let openedAt = performance.now();
    let opened = false;
    this.delivered = 0;
    source.onopen = () => {
      if (this.source !== source) return;
      opened = true;
      openedAt = performance.now();
      this.delivered = 0;
      this.panel.countRequest();
      this.panel.setState('live · one response streaming', 'live');
    };
    source.addEventListener('tick', message => this.onMessage(message));
    source.addEventListener('chat', message => this.onMessage(message));
    // An error says nothing about why (no status). readyState tells what the browser does next.
    source.onerror = () => {
      if (!this.running || this.source !== source) { source.close(); return; }
      const gaveUp = source.readyState === EventSource.CLOSED;
      const failure = { http: gaveUp, lifetimeMs: performance.now() - openedAt, delivered: this.delivered };
      if (supervisorTookOver(this, failure)) { source.close(); return; }
      if (!gaveUp) {
        // CONNECTING: the browser reconnects after the stream's reconnection time, with
        // Last-Event-ID; nothing to do but say so.
        const resume = this.lastId === null ? '' : ' · Last-Event-ID: ' + this.lastId;
        this.panel.setState('reconnecting · the browser retries' + resume, 'down');
        return;
      }
      source.close();
      this.retry(opened ? 'the stream ended and the browser gave up' : 'the stream did not open (HTTP error)');
    };
  }

  onMessage(message) {
    const event = JSON.parse(message.data);
    this.backoff.reset();                    // an event arrived: the connection works
    this.delivered++;
    this.lastId = event.id;
    this.panel.receive(event);
    this.panel.showWire(sseEventHTML(this.url, message));
  }

  async retry(why) {
    await waitToRetry(this, why);
    if (this.running) this.connect();
  }
}

// ==== 5. WebSocket: one connection, messages both ways ======================================
// After an HTTP upgrade handshake the connection carries frames in both directions: the
// server sends one text message per event, and we can send commands back on the same socket.
class WebSocketTransport {
  constructor(panel) {
    this.panel = panel;
    this.lastId = null;
    this.backoff = new Backoff();
    this.running = false;
  }

  start() {
    this.running = true;
    this.connect();
  }

  /** Closes with 1000 and waits for the server's close frame (at most 2 s). */
  async stop() {
    this.running = false;
    if (this.wake) this.wake();
    const socket = this.socket;
    if (socket && socket.readyState <= WebSocket.OPEN) {
      const closed = new Promise(resolve => socket.addEventListener('close', resolve));
      socket.close(1000, 'paused');
      await Promise.race([closed, sleep(2000)]);
    }
    this.panel.setState('paused');
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    let path = '/ws?client=' + this.panel.name;
    if (this.lastId !== null) path += '&since=' + this.lastId;
    const socket = new WebSocket(scheme + location.host + path);
    this.socket = socket;
    this.path = path;
    let opened = false;
    this.panel.countRequest();
    this.panel.setState('connecting', 'wait');

    let openedAt = null;
    this.delivered = 0;
    socket.onopen = () => {
      opened = true;
      openedAt = performance.now();
      this.panel.setState('live · messages both ways', 'live');
    };
    socket.onmessage = message => this.onMessage(message.data);
    // A handshake without 101 (a proxy that strips Upgrade) closes before it ever opened.
    socket.onclose = () => {
      if (!opened) this.panel.uncountRequest();
      if (!this.running || this.socket !== socket) return;
      const failure = { http: !opened, lifetimeMs: opened ? performance.now() - openedAt : 0, delivered: this.delivered };
      if (supervisorTookOver(this, failure)) return;
      this.retry();
    };
  }

  onMessage(text) {
    const message = JSON.parse(text);
    if (message.type === 'error') {           // our command was not understood
      setStatus('WebSocket: ' + message.error, 'bad');
      return;
    }
    this.backoff.reset();                    // an event arrived: the connection works
    this.delivered++;
    this.lastId = message.id;
    this.panel.receive(message);
    this.panel.showWire(webSocketFrameHTML(this.path, text));
  }

  async retry() {
    await waitToRetry(this, 'connection closed');
    if (this.running) this.connect();
  }

  /** Talking back: a command message on the same connection (PROTOCOL.md §2). */
  publish(text) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) throw new Error('the WebSocket is not open');
    const command = JSON.stringify({ type: 'publish', data: text });
    this.socket.send(command);
    const length = utf8Length(command);
    const header = webSocketHeader(length, true);
    this.panel.showWire([
      note('just sent, browser → server (rebuilt; clients must mask):'),
      hex(hexBytes(header)) + ' ' + note('+ 4-byte masking key the browser picks + ' + length + ' masked bytes'),
      escapeHTML('81: FIN=1 opcode=1 (text); ' + hexBytes(header.slice(1, 2)) + ': MASK=1, ' + lengthField(length)),
      escapeHTML(command),
    ].join('\n'));
  }
}

// ==== 6. Auto: negotiate like SignalR, Engine.IO or Phoenix (PROTOCOL.md §8) ================
// Try WebSocket first, then SSE, then long polling, then short polling, and move on when a step
// fails: an HTTP error (a WebSocket that never opened: no 101), or a connection that dies
// within FALLBACK_AFTER_MS of opening before it delivered an event (a box that kills
// WebSockets). Any other drop is a hiccup: the step reconnects (with the backoff above; SSE
// lets the browser reconnect with Last-Event-ID). Each step is one of the transports above,
// drawing on this panel; it resumes from the panel's last id, so falling back costs time,
// never events. The panel shows the path taken.
const FALLBACK_AFTER_MS = 1000;
const LADDER = ['ws', 'sse', 'longpoll', 'poll'];
const STEP_CLASSES = { ws: () => WebSocketTransport, sse: () => ServerSentEvents,
                       longpoll: () => LongPolling, poll: () => ShortPolling };

class AutoTransport {
  constructor(panel) {
    this.panel = panel;
    this.rung = 0;
    this.path = [LADDER[0]];
    this.running = false;
    const line = document.createElement('p');
    line.className = 'path';
    line.innerHTML = 'path: <strong data-testid="path"></strong>';
    panel.node.querySelector('.api').after(line);
    this.pathField = line.querySelector('strong');
    this.showPath();
  }

  get current() { return LADDER[this.rung]; }

  showPath() {
    this.pathField.textContent = this.path.join(' › ');
    this.pathField.dataset.value = this.path.join('>');
    this.panel.node.querySelector('.api code').textContent = API[this.current];
  }

  start() {
    this.running = true;
    this.startStep();
  }

  /** A fresh step on the current rung, resuming where the panel stopped. */
  startStep() {
    const step = new (STEP_CLASSES[this.current]())(this.panel);
    step.supervisor = this;
    const lastId = this.panel.lastId === undefined ? null : this.panel.lastId;
    if ('since' in step) step.since = lastId; else step.lastId = lastId;
    this.step = step;
    step.start();
  }

  async stop() {
    this.running = false;
    if (this.step) await this.step.stop();
  }

  /** Called by a step before it retries. True: we moved down the ladder and it is stopped. */
  stepFailed(step, failure) {
    if (step !== this.step || !this.running) return false;
    const soonDead = failure.delivered === 0 && failure.lifetimeMs < FALLBACK_AFTER_MS;
    if (!(failure.http || soonDead) || this.rung + 1 >= LADDER.length) return false;
    step.supervisor = null;
    step.running = false;                  // its connection is already gone; no "paused" shown
    if (step.wake) step.wake();
    this.rung++;
    this.path.push(this.current);
    this.showPath();
    console.info('[auto] ' + this.path.join(' > '));
    this.startStep();
    return true;
  }
}

// ==== 7. The server's own counts ============================================================
// Browsers cannot count bytes on the wire, so we ask the server, which counts them at its
// sockets for each client name. The /stats request itself carries no client= tag, so asking
// does not change the numbers we ask about.
let statsSeq = 0;

async function refreshStats() {
  const seq = ++statsSeq;
  document.getElementById('measured').textContent = generatorMeter.describe();
  await Promise.all(panels.map(async panel => {
    try {
      const counters = await getJSON('/stats?client=' + panel.name);
      panel.showStats(counters, seq);
    } catch (error) {
      // Server away: the panels already say "reconnecting".
    }
  }));
}
