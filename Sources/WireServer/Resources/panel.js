// WireLab classroom page, part 1 of 4: a Panel is one transport's card. It only displays;
// the transport sections in classroom.js do the talking and call it. Loaded before classroom.js.
'use strict';

// ==== Panel: what one transport's card shows ================================================
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
