// WireLab teacher view: counts the class's browsers per transport from GET /stats.
//
// Every classroom page tags its requests `client=page-<transport>-<id>`. /stats lists every
// client name with its counters since the server started, so:
//   - connected: a name whose counters moved in the last ACTIVE_MS (a streaming connection
//     moves with every event and heartbeat; a poller with every poll);
//   - totals: the sum over all page-* names of one transport.
'use strict';

const ACTIVE_MS = 5000;
const PAGE_CLIENT = /^page-(poll|longpoll|sse|ws)-([A-Za-z0-9_.-]+)$/;

/** name -> { key: counters as text, changedAt: ms } */
const seen = new Map();
let firstSample = true;

function makeCards() {
  const template = document.getElementById('card-template');
  for (const transport of TRANSPORTS) {
    const row = document.createElement('div');
    row.className = 'bar-row ' + transport;
    row.innerHTML = '<span class="label"></span><div class="track"><div class="bar" style="width:0"></div></div>' +
      '<span class="value" data-testid="bar-' + transport + '">–</span>';
    row.querySelector('.label').textContent = TITLES[transport];
    document.getElementById('bars').appendChild(row);

    const card = template.content.firstElementChild.cloneNode(true);
    card.classList.add(transport);
    card.dataset.testid = 'teacher-' + transport;
    card.querySelector('h2').textContent = TITLES[transport];
    document.getElementById('cards').appendChild(card);
  }
}

/** Is this client's browser connected? The server says so (`open`); else: did its counters move recently? */
function isActive(name, counters, now) {
  if (typeof counters.open === 'number') return counters.open > 0;
  const key = JSON.stringify(counters);
  const entry = seen.get(name);
  if (!entry) {
    // First time we see it: on our very first sample we cannot tell old from new, so wait.
    seen.set(name, { key, changedAt: firstSample ? -Infinity : now });
    return !firstSample;
  }
  if (entry.key !== key) {
    entry.key = key;
    entry.changedAt = now;
  }
  return now - entry.changedAt <= ACTIVE_MS;
}

function summarize(stats) {
  const now = performance.now();
  const totals = {};
  for (const t of TRANSPORTS) totals[t] = { browsers: 0, requests: 0, bytes_in: 0, bytes_out: 0, events_sent: 0 };
  const browsers = new Set();
  for (const [name, counters] of Object.entries(stats.clients || {})) {
    const match = PAGE_CLIENT.exec(name);
    if (!match) continue;
    const total = totals[match[1]];
    total.requests += counters.requests;
    total.bytes_in += counters.bytes_in;
    total.bytes_out += counters.bytes_out;
    total.events_sent += counters.events_sent;
    if (isActive(name, counters, now)) {
      total.browsers += 1;
      browsers.add(match[2]);
    }
  }
  firstSample = false;
  return { totals, browsers: browsers.size };
}

function show(stats, summary) {
  const set = (scope, name, value, text = formatInt(value)) => {
    const node = scope.querySelector('[data-testid="' + name + '"]');
    node.dataset.value = String(value);
    node.textContent = text;
  };
  set(document, 'teacher-browsers', summary.browsers);
  set(document, 'teacher-published', stats.events_published);
  document.querySelector('[data-testid="teacher-updated"]').textContent =
    'updated ' + new Date().toLocaleTimeString('en-GB');
  for (const t of TRANSPORTS) {
    const card = document.querySelector('[data-testid="teacher-' + t + '"]');
    const total = summary.totals[t];
    set(card, 'browsers', total.browsers);
    set(card, 'requests', total.requests);
    set(card, 'bytes-in', total.bytes_in);
    set(card, 'bytes-out', total.bytes_out);
    set(card, 'events', total.events_sent);
    const perEvent = total.events_sent ? (total.bytes_in + total.bytes_out) / total.events_sent : null;
    set(card, 'bytes-per-event', perEvent ?? 0, perEvent === null ? '–' : formatInt(perEvent));
  }
  showBars(summary.totals);
}

/** One bar per transport, the longest = the most bytes per event. */
function showBars(totals) {
  const perEvent = t => totals[t].events_sent ? (totals[t].bytes_in + totals[t].bytes_out) / totals[t].events_sent : 0;
  const longest = Math.max(1, ...TRANSPORTS.map(perEvent));
  for (const t of TRANSPORTS) {
    const row = document.querySelector('.bar-row.' + t);
    row.querySelector('.bar').style.width = (100 * perEvent(t) / longest).toFixed(1) + '%';
    row.querySelector('.value').textContent = perEvent(t) ? formatInt(perEvent(t)) + ' B' : '–';
  }
}

async function refresh() {
  try {
    // /stats has the class's counters; /classroom/stats says which connections are open now,
    // so a quiet stream still counts as a connected browser.
    const [stats, open] = await Promise.all([getJSON('/stats'), getJSON('/classroom/stats')]);
    for (const [name, o] of Object.entries(open.clients || {})) {
      if (stats.clients && stats.clients[name]) stats.clients[name].open = o.open;
    }
    show(stats, summarize(stats));
  } catch (error) {
    document.querySelector('[data-testid="teacher-updated"]').textContent = 'server not answering; retrying';
  }
}

makeCards();
document.getElementById('large-type').addEventListener('click', event => {
  const on = document.documentElement.classList.toggle('large');
  event.target.setAttribute('aria-pressed', String(on));
});
refresh();
setInterval(refresh, 1000);
