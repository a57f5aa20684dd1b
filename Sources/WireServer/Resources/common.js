// WireLab: helpers shared by the classroom page (/) and the teacher view (/classroom).
'use strict';

/** The transports, in the order the panels and cards appear. */
const TRANSPORTS = ['poll', 'longpoll', 'sse', 'ws'];
const TITLES = { poll: 'Short polling', longpoll: 'Long polling', sse: 'Server-Sent Events', ws: 'WebSocket',
                 auto: 'Auto (negotiated)' };

/** 12345 -> "12,345": exact numbers, grouped so a class can read them off a projector. */
function formatInt(n) {
  return Math.round(n).toLocaleString('en-US');
}

function formatMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '–';
  return Math.abs(ms) < 10 ? ms.toFixed(1) + ' ms' : Math.round(ms) + ' ms';
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** GET a JSON document. Throws on a network error or a non-2xx status. */
async function getJSON(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
  return response.json();
}

// ---- One clock: the server's ------------------------------------------------------------
// Events carry `ts`, the server's wall clock in microseconds. Our clock may differ from the
// server's (another device), so latency = (our clock + offset) − ts, with the offset estimated
// NTP-style: ask GET /time, note when we asked (t0) and when the answer came (t1); the server
// read its clock somewhere in between, best guess the midpoint. The sample with the smallest
// round trip has the smallest possible error: ± half that round trip.
//
// Why performance.timeOrigin + performance.now() and not Date.now(): Date.now() has only
// millisecond steps, too coarse for latencies of a millisecond on a LAN. performance.now() is
// monotonic with sub-millisecond steps; timeOrigin anchors it to the wall clock. It may drift
// from the wall clock over hours, so we measure the offset again every minute.

/** This browser's wall clock in microseconds, with sub-millisecond resolution. */
function wallMicros() {
  return (performance.timeOrigin + performance.now()) * 1000;
}

const serverClock = {
  offsetUs: 0,          // add to wallMicros() to get the server's clock
  uncertaintyUs: null,  // ± half the best round trip; null until measured
  rttUs: null,

  /** Server time now, in µs, as well as we know it. */
  now() { return wallMicros() + this.offsetUs; },

  /** Takes `samples` measurements and keeps the one with the smallest round trip. */
  async estimate(samples = 8) {
    let best = null;
    for (let i = 0; i < samples; i++) {
      const t0 = wallMicros();
      const response = await fetch('/time', { cache: 'no-store' });
      const text = await response.text();
      const t1 = wallMicros();
      const serverTs = JSON.parse(text).ts;
      const rtt = t1 - t0;
      if (best === null || rtt < best.rtt) best = { rtt, offset: serverTs - (t0 + t1) / 2 };
    }
    this.offsetUs = best.offset;
    this.rttUs = best.rtt;
    this.uncertaintyUs = best.rtt / 2;
    return best;
  },

  describe() {
    if (this.uncertaintyUs === null) return 'measuring…';
    const ms = Math.abs(this.offsetUs) / 1000;
    const sign = formatMs(ms) === '0.0 ms' ? '' : this.offsetUs > 0 ? '+' : '−';
    return sign + formatMs(ms) + ' ± ' + formatMs(this.uncertaintyUs / 1000) +
      ' (server − this browser)';
  },
};

// ---- Reconnecting politely (PROTOCOL.md §8) ------------------------------------------------
// When the server goes away every browser in the room retries. Waiting twice as long after
// each failure (0.1 s, 0.2 s, 0.4 s … at most 5 s) keeps them from hammering it; drawing the
// wait at random between 0 and that ("full jitter") keeps a room of browsers that lost the
// server in the same instant from all coming back in the same instant too. The doubling starts
// over once an event arrives: a connection that opens and dies at once has not recovered.
// The same policy as `wirelab race --reconnect jitter`.
class Backoff {
  constructor(firstMs = 100, capMs = 5000, random = Math.random) {
    this.firstMs = firstMs;
    this.capMs = capMs;
    this.random = random;
    this.failures = 0;
  }
  reset() { this.failures = 0; }
  /** The capped exponential backoff for the next failure, in ms. */
  window() { return Math.min(this.capMs, this.firstMs * 2 ** this.failures); }
  /** The next delay, in ms: uniform in [0, window]; each call doubles the window up to the cap. */
  next() {
    const ms = this.random() * this.window();
    this.failures++;
    return ms;
  }
}
