// WireLab classroom page, part 4 of 4: the controls (rate, size, poll interval, pause, large
// type, talking back) and the start.
'use strict';

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

// ==== Controls ===========================================================================
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

// ==== Start ==============================================================================
const API = {
  poll: "fetch('/poll?since=N') every interval",
  longpoll: "fetch('/longpoll?since=N') again and again",
  sse: "new EventSource('/sse')",
  ws: "new WebSocket('ws://" + location.host + "/ws')",
};
const panels = [...TRANSPORTS, 'auto'].map(t => new Panel(t, API[t] || ''));
const transports = {
  poll: new ShortPolling(panels[0]),
  longpoll: new LongPolling(panels[1]),
  sse: new ServerSentEvents(panels[2]),
  ws: new WebSocketTransport(panels[3]),
  auto: new AutoTransport(panels[4]),
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
