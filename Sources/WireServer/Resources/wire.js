// WireLab classroom page, part 2 of 4: what one exchange looks like on the wire.
'use strict';

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
