// WireLab classroom page: the same event stream reaches this browser four ways at once.
//
// Reading order:
//   1. who we are (client names), 2. Panel: what a panel shows (no networking),
//   3-6. one section per transport, each built on the browser's own API in its simplest form:
//        fetch() on a timer, fetch() in a loop, EventSource, WebSocket,
//   7. the server's byte counts, 8. controls (rate, size, pause, talk back), 9. start.
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

// ==== 2. Panel: what one transport's card shows ==============================================
// A Panel only displays; the transport sections below do the talking and call it.
class Panel {
  constructor(transport, apiText) {
    this.transport = transport;
    this.events = 0;
    this.requests = 0;
    this.missed = 0;
    this.latencies = [];          // ms, the most recent last
    this.statsSeq = 0;            // newest /stats answer shown (answers may arrive out of order)

    const node = document.getElementById('panel-template').content.firstElementChild.cloneNode(true);
    node.classList.add(transport);
    node.dataset.testid = 'panel-' + transport;
    node.id = 'panel-' + transport;
    const title = node.querySelector('.panel-title');
    title.textContent = TITLES[transport];
    title.id = 'title-' + transport;
    node.setAttribute('aria-labelledby', title.id);
    node.querySelector('.api code').textContent = apiText;
    this.node = node;
    this.field = name => node.querySelector('[data-testid="' + name + '"]');
    this.canvas = node.querySelector('canvas');
    document.getElementById('panels').appendChild(node);
  }

  get name() { return clientName(this.transport); }

  /** kind: 'live' (green), 'wait' (amber), 'down' (red) or '' (grey). */
  setState(text, kind = '') {
    const state = this.field('state');
    if (state.textContent !== text) state.textContent = text;
    state.className = 'state ' + kind;
  }

  setNumber(name, value, text = formatInt(value)) {
    const dd = this.field(name);
    dd.dataset.value = String(value);
    dd.textContent = text;
  }

  countRequest() { this.setNumber('requests', ++this.requests); }
  /** A request that never reached the server (connection refused) is not counted. */
  uncountRequest() { this.setNumber('requests', --this.requests); }

  /**
   * Ids go up by one per event (chat and tick share them), and every transport resumes from the
   * last id it saw, so a jump in ids is events this panel never got. A smaller id than the last
   * means the server restarted and counts from 1 again.
   */
  checkForGap(id) {
    if (this.lastId !== undefined && id > this.lastId + 1) {
      this.setNumber('missed', this.missed += id - this.lastId - 1);
    }
    this.lastId = id;
  }

  /** One event arrived: count it, time it, show it. */
  receive(event) {
    this.setNumber('events', ++this.events);
    this.checkForGap(event.id);
    generatorMeter.note(event);
    const latencyMs = (serverClock.now() - event.ts) / 1000;
    this.latencies.push(latencyMs);
    if (this.latencies.length > 60) this.latencies.shift();

    const last = this.field('last-event');
    last.textContent = '#' + event.id + ' ' + event.topic + ' · ' + formatMs(latencyMs) + ' · ' + event.data;
    last.classList.toggle('chat-event', event.topic === 'chat');
    if (event.topic === 'chat') this.showChat(event);
    this.needsDraw = true;
  }

  /** Chat events (what people typed) get their own list, so the class sees them stand out. */
  showChat(event) {
    const list = this.field('chat');
    const item = document.createElement('li');
    const label = document.createElement('b');
    label.textContent = 'CHAT #' + event.id;
    item.append(label, document.createTextNode(event.data));
    item.dataset.testid = 'chat-message';
    list.prepend(item);
    while (list.children.length > 3) list.lastElementChild.remove();
  }

  /** The server's counters for this panel's client name (section 7). */
  showStats(counters, seq) {
    if (seq < this.statsSeq) return;
    this.statsSeq = seq;
    this.setNumber('bytes-in', counters.bytes_in);
    this.setNumber('bytes-out', counters.bytes_out);
    const perEvent = counters.events_sent > 0
      ? formatInt((counters.bytes_in + counters.bytes_out) / counters.events_sent) : '–';
    this.field('bytes-per-event').textContent = perEvent;
    this.serverCounters = counters;
  }

  /** `html` is built by the wire helpers below, which escape everything they are given. */
  showWire(html) { this.field('wire').innerHTML = html; }

  /** Redraws latency text and chart at most once per animation frame. */
  draw() {
    if (!this.needsDraw) return;
    this.needsDraw = false;
    const last = this.latencies[this.latencies.length - 1];
    this.field('latency').textContent = formatMs(last) + ' · ' + formatMs(median(this.latencies));
    drawLatencyChart(this.canvas, this.latencies, getComputedStyle(this.node).getPropertyValue('--accent'));
  }
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Bars of the recent latencies, oldest left; a dashed line at the median. */
function drawLatencyChart(canvas, latencies, color) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  if (latencies.length === 0) return;

  const fontPx = Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.72);
  const top = Math.max(5, ...latencies.map(v => Math.max(v, 0))) * 1.1;   // at least a 5 ms scale
  const slot = width / 60;
  g.fillStyle = color.trim() || '#333';
  latencies.forEach((ms, i) => {
    const h = Math.max(1, (Math.max(ms, 0) / top) * (height - fontPx - 4));
    g.fillRect(i * slot + 1, height - h, Math.max(1, slot - 2), h);
  });
  const m = median(latencies);
  const y = height - (Math.max(m, 0) / top) * (height - fontPx - 4);
  g.strokeStyle = '#16181d';
  g.setLineDash([4, 3]);
  g.beginPath(); g.moveTo(0, y); g.lineTo(width, y); g.stroke();
  g.setLineDash([]);
  g.fillStyle = '#4a505c';
  g.font = fontPx + 'px sans-serif';
  g.fillText('scale ' + formatMs(top) + ' · dashed: median', 4, fontPx + 1);
}

// ---- Showing one exchange on the wire ------------------------------------------------------
// Scripts never see raw bytes: fetch() hides the request headers the browser adds and
// EventSource/WebSocket hide everything. So each panel shows what it can read (URLs, response
// headers, bodies) and rebuilds the rest from the protocol rules, and says which is which.

function escapeHTML(text) {
  return String(text).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}
const note = text => '<span class="note">' + escapeHTML(text) + '</span>';
const hex = text => '<span class="hex">' + escapeHTML(text) + '</span>';
const utf8Length = text => new TextEncoder().encode(text).length;

function abbreviate(text, max = 90) {
  return text.length <= max ? text : text.slice(0, max) + '…';
}

/** A fetch() exchange: the request line we sent, the response head and body we got. */
function httpExchangeHTML(method, url, response, bodyText, requestBody) {
  const lines = [escapeHTML(method + ' ' + url + ' HTTP/1.1'), escapeHTML('Host: ' + location.host)];
  if (requestBody !== undefined) {
    lines.push('Content-Type: text/plain;charset=UTF-8', 'Content-Length: ' + utf8Length(requestBody));
  }
  lines.push(note('+ headers the browser adds (User-Agent, Accept…); fetch() cannot show them'), '');
  if (requestBody !== undefined) lines.push(escapeHTML(abbreviate(requestBody)), '');
  lines.push(escapeHTML('HTTP/1.1 ' + response.status + ' ' + response.statusText));
  response.headers.forEach((value, name) => lines.push(escapeHTML(name + ': ' + value)));
  lines.push('', escapeHTML(abbreviate(bodyText)));
  lines.push(note('body: ' + utf8Length(bodyText) + ' bytes'));
  return lines.join('\n');
}

/** Two hex digits per byte: [129, 126] -> "81 7E". */
function hexBytes(bytes) {
  return Array.from(bytes, b => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/**
 * RFC 6455 §5.2 frame header for a text message of `length` payload bytes:
 * byte 0 = FIN (0x80) | opcode 1 (text); byte 1 = MASK bit | 7-bit length, where 126 means
 * "a 16-bit length follows" and 127 "a 64-bit length follows".
 */
function webSocketHeader(length, masked) {
  const bytes = [0x81];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    bytes.push(maskBit | length);
  } else if (length < 65536) {
    bytes.push(maskBit | 126, length >> 8, length & 0xff);
  } else {
    bytes.push(maskBit | 127, 0, 0, 0, 0);
    for (let shift = 24; shift >= 0; shift -= 8) bytes.push((length >>> shift) & 0xff);
  }
  return bytes;
}

function lengthField(length) {
  if (length < 126) return 'len=' + length + ' (fits in 7 bits)';
  if (length < 65536) return 'len=126: the next 2 bytes hold ' + length;
  return 'len=127: the next 8 bytes hold ' + length;
}

/** The last WebSocket message, as the frame the server must have sent for it. */
function webSocketFrameHTML(url, message) {
  const payload = new TextEncoder().encode(message);
  const header = webSocketHeader(payload.length, false);
  return [
    note('last message, server → browser, rebuilt from its length (scripts never see frames):'),
    hex(hexBytes(header)) + ' ' + escapeHTML(hexBytes(payload.slice(0, 8))) + ' …',
    escapeHTML('81: FIN=1 RSV=000 opcode=1 (text)'),
    escapeHTML(hexBytes(header.slice(1, 2)) + ': MASK=0 (servers never mask), ' + lengthField(payload.length)),
    note('frame: ' + header.length + ' header + ' + payload.length + ' payload = ' +
      (header.length + payload.length) + ' bytes'),
    escapeHTML(abbreviate(message, 140)),
    '',
    note('the handshake, once, when the connection opened:'),
    escapeHTML('GET ' + url + ' HTTP/1.1'),
    'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: ' + note('16 random bytes, Base64'),
    '',
    escapeHTML('HTTP/1.1 101 Switching Protocols'),
    'Upgrade: websocket', 'Connection: Upgrade',
    'Sec-WebSocket-Accept: ' + note('Base64(SHA-1(key + GUID))'),
  ].join('\n');
}

/** The last SSE event, as the block and HTTP/1.1 chunk the server must have written for it. */
function sseEventHTML(url, message) {
  const block = 'id: ' + message.lastEventId + '\nevent: ' + message.type + '\ndata: ' + message.data + '\n\n';
  const size = utf8Length(block);
  return [
    note('last event, as one chunk of the never-ending body (rebuilt):'),
    hex(size.toString(16)) + note('\\r\\n  ← chunk size in hex = ' + size + ' bytes'),
    escapeHTML(abbreviate(block.replace(/\n\n$/, ''), 140)),
    note('(a blank line ends the event)'),
    hex('\\r\\n') + note('  ← end of chunk'),
    '',
    note('the request, once, when the stream opened:'),
    escapeHTML('GET ' + url + ' HTTP/1.1'),
    'Accept: text/event-stream',
    '',
    'HTTP/1.1 200 OK', 'Content-Type: text/event-stream', 'Cache-Control: no-store',
    'X-Accel-Buffering: no', 'Transfer-Encoding: chunked',
    note('(EventSource hides response headers: these are the ones the server promises)'),
  ].join('\n');
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

/** After a failure: count down "reconnecting in N s" with exponential backoff. */
async function waitToRetry(transport, error) {
  const until = performance.now() + transport.backoff.next();
  console.info('[' + transport.panel.transport + '] retrying after:', String(error));
  while (transport.running) {
    const left = until - performance.now();
    if (left <= 0) break;
    transport.panel.setState('reconnecting in ' + Math.ceil(left / 1000) + ' s', 'down');
    await nap(transport, Math.min(left, 250));
  }
}

/** fetch() rejects with a TypeError when it never got an answer (server down, refused). */
const isNetworkError = error => error instanceof TypeError;

// ==== 3. Short polling: ask, wait, ask again =================================================
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

// ==== 4. Long polling: ask, and the server answers when there is news ========================
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

// ==== 5. Server-Sent Events: one response that never ends ===================================
// EventSource opens one GET and the server keeps writing events into its body. The server
// names each event (`event: tick` / `event: chat`), so we listen for those names: a plain
// onmessage would only see events without a name.
class ServerSentEvents {
  constructor(panel) {
    this.panel = panel;
    this.lastId = null;        // resume point after a pause or a lost connection
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
    let opened = false;
    this.panel.countRequest();
    this.panel.setState('connecting', 'wait');

    source.onopen = () => {
      opened = true;
      this.backoff.reset();
      this.panel.setState('live · one response streaming', 'live');
    };
    source.addEventListener('tick', message => this.onMessage(message));
    source.addEventListener('chat', message => this.onMessage(message));
    // EventSource would retry by itself, but we want the backoff and the countdown shown.
    source.onerror = () => {
      source.close();
      if (!opened) this.panel.uncountRequest();
      if (this.running) this.retry();
    };
  }

  onMessage(message) {
    const event = JSON.parse(message.data);
    this.lastId = event.id;
    this.panel.receive(event);
    this.panel.showWire(sseEventHTML(this.url, message));
  }

  async retry() {
    await waitToRetry(this, 'stream closed');
    if (this.running) this.connect();
  }
}

// ==== 6. WebSocket: one connection, messages both ways ======================================
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

    socket.onopen = () => {
      opened = true;
      this.backoff.reset();
      this.panel.setState('live · messages both ways', 'live');
    };
    socket.onmessage = message => this.onMessage(message.data);
    socket.onclose = () => {
      if (!opened) this.panel.uncountRequest();
      if (this.running) this.retry();
    };
  }

  onMessage(text) {
    const message = JSON.parse(text);
    if (message.type === 'error') {           // our command was not understood
      setStatus('WebSocket: ' + message.error, 'bad');
      return;
    }
    this.lastId = message.id;
    this.panel.receive(message);
    this.panel.showWire(webSocketFrameHTML(this.path, text));
  }

  async retry() {
    await waitToRetry(this, 'connection closed');
    if (this.running) this.connect();
  }

  /** Talking back: a command message on the same connection (CONTRACT §2). */
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

// ---- What the generator does now, measured from the events themselves ----------------------
// The rate is read off the events' own ids and server timestamps (not arrival times, which
// polling bunches up), the size off the length of a tick's data.
const generatorMeter = {
  ticks: new Map(),     // id -> ts (µs), ticks of the last 5 s
  size: null,

  note(event) {
    if (event.topic !== 'tick') return;
    this.ticks.set(event.id, event.ts);
    this.size = event.data.length;
  },

  describe() {
    const since = serverClock.now() - 5e6;
    for (const [id, ts] of this.ticks) if (ts < since) this.ticks.delete(id);
    if (this.ticks.size < 2) return 'now: no ticks in the last 5 s';
    const stamps = [...this.ticks.values()];
    const spanS = (Math.max(...stamps) - Math.min(...stamps)) / 1e6;
    const rate = spanS > 0 ? (this.ticks.size - 1) / spanS : 0;
    return 'now: ' + rate.toFixed(rate < 10 ? 1 : 0) + '/s · ' + this.size + ' chars';
  },
};

// ==== 8. Controls ===========================================================================
function setStatus(text, kind = '') {
  const status = document.getElementById('control-status');
  status.textContent = text;
  status.className = 'status ' + kind;
}

/** POST /control: change the server's generator for everyone (loopback or token only). */
async function applyControl() {
  const change = {};
  const rate = document.getElementById('rate').value.trim();
  const size = document.getElementById('size').value.trim();
  if (rate !== '') change.rate = Number(rate);
  if (size !== '') change.size = Number(size);
  if (Object.keys(change).length === 0) return setStatus('Type a rate or a size first.', 'bad');
  try {
    const response = await fetch('/control', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(change),
    });
    const body = await response.json();
    if (!response.ok) return setStatus('Control refused (' + response.status + '): ' + body.error, 'bad');
    document.getElementById('rate').value = body.rate;
    document.getElementById('size').value = body.size;
    setStatus('Server now generates ' + body.rate + ' events/s of ' + body.size + ' characters.', 'ok');
  } catch (error) {
    setStatus('Control failed: ' + error.message, 'bad');
  }
}

/** Talk back: WebSocket sends on its own connection; the HTTP transports POST /publish. */
async function sendMessage() {
  const input = document.getElementById('message');
  const via = document.getElementById('via').value;
  const text = input.value;
  if (text === '') return setStatus('Type a message first.', 'bad');
  try {
    if (via === 'ws') {
      transports.ws.publish(text);
      setStatus('Sent as a WebSocket message.', 'ok');
    } else {
      const response = await fetch('/publish', {
        method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: text,
      });
      const answer = await response.text();
      if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + answer);
      transports[via].panel.showWire(httpExchangeHTML('POST', '/publish', response, answer, text));
      setStatus('Published with POST /publish: ' + answer, 'ok');
    }
    input.value = '';
  } catch (error) {
    setStatus('Could not send: ' + error.message, 'bad');
  }
}

let paused = false;

/** Pause stops every panel; once all have stopped we take the server's counts one last time. */
async function togglePause() {
  const button = document.getElementById('pause');
  if (button.disabled) return;
  paused = !paused;
  button.setAttribute('aria-pressed', String(paused));
  button.textContent = paused ? 'Resume' : 'Pause';
  if (paused) {
    document.body.dataset.settled = 'false';
    button.disabled = true;           // no resume until every transport has really stopped
    await Promise.all(Object.values(transports).map(t => t.stop()));
    button.disabled = false;
    await sleep(300);                 // let the server finish counting the last bytes
    await refreshStats();
    if (paused) {
      document.body.dataset.settled = 'true';
      setStatus('Paused. The numbers are final until you resume.', 'ok');
    }
  } else {
    delete document.body.dataset.settled;
    Object.values(transports).forEach(t => t.start());   // each resumes from its `next` / last id
    setStatus('Resumed.', 'ok');
  }
}

function toggleLargeType() {
  const on = document.documentElement.classList.toggle('large');
  document.getElementById('large-type').setAttribute('aria-pressed', String(on));
  panels.forEach(panel => { panel.needsDraw = true; });
}

function wireControls() {
  document.getElementById('apply-control').addEventListener('click', applyControl);
  document.getElementById('send').addEventListener('click', sendMessage);
  document.getElementById('message').addEventListener('keydown', e => { if (e.key === 'Enter') sendMessage(); });
  document.getElementById('pause').addEventListener('click', togglePause);
  document.getElementById('large-type').addEventListener('click', toggleLargeType);
}

// ==== 9. Start ==============================================================================
const API = {
  poll: "fetch('/poll?since=N') every interval",
  longpoll: "fetch('/longpoll?since=N') again and again",
  sse: "new EventSource('/sse')",
  ws: "new WebSocket('ws://" + location.host + "/ws')",
};
const panels = TRANSPORTS.map(t => new Panel(t, API[t]));
const transports = {
  poll: new ShortPolling(panels[0]),
  longpoll: new LongPolling(panels[1]),
  sse: new ServerSentEvents(panels[2]),
  ws: new WebSocketTransport(panels[3]),
};

async function measureClock() {
  try {
    await serverClock.estimate(8);
  } catch (error) {
    // No server right now; keep the last estimate and try again at the next round.
  }
  document.querySelector('[data-testid="clock-offset"]').textContent = serverClock.describe();
}

function animate() {
  panels.forEach(panel => panel.draw());
  requestAnimationFrame(animate);
}

async function main() {
  document.body.dataset.pageId = PAGE_ID;
  wireControls();
  await measureClock();                   // before the first event, so latencies are right
  if (!paused) Object.values(transports).forEach(t => t.start());
  setInterval(refreshStats, 1000);
  setInterval(measureClock, 60000);       // clocks drift; measure again every minute
  requestAnimationFrame(animate);
}

main();
