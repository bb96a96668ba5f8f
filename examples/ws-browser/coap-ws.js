// CoAP over WebSockets (RFC 8323 section 4) from a web page, with no
// library and no build step. index.html?url=ws://HOST:PORT/.well-known/coap
// opens a WebSocket with subprotocol "coap", sends a CSM, GETs /time, then
// observes /time (RFC 7641) and shows each value as it comes.
'use strict';

const CODE_GET = 0x01, CODE_CSM = 0xe1, CODE_PING = 0xe2, CODE_PONG = 0xe3;
const OPT_OBSERVE = 6, OPT_URI_PATH = 11;

function $(id) { return document.getElementById(id); }
function status(text) { $('status').textContent = text; }

// An option's delta or length: the 4-bit nibble and its extension bytes.
function nibble(v, ext) {
  if (v < 13) return v;
  if (v < 269) { ext.push(v - 13); return 13; }
  ext.push((v - 269) >> 8, (v - 269) & 0xff);
  return 14;
}

// One message in WebSocket framing (RFC 8323 4.4): Len 0 and TKL, Code,
// Token, Options (ascending, as deltas), then 0xFF and the payload if any.
function encode(code, token, options) {
  const out = [token.length, code, ...token];
  let prev = 0;
  for (const [num, value] of options) {
    const ext = [], lenExt = [];
    const d = nibble(num - prev, ext), l = nibble(value.length, lenExt);
    out.push((d << 4) | l, ...ext, ...lenExt, ...value);
    prev = num;
  }
  return new Uint8Array(out);
}

function decode(buf) {
  const b = new Uint8Array(buf);
  if (b.length < 2 || b[0] >> 4 !== 0) throw new Error('not CoAP over WebSockets');
  const tkl = b[0] & 15, code = b[1];
  const token = Array.from(b.subarray(2, 2 + tkl));
  const options = [];
  let i = 2 + tkl, num = 0;
  while (i < b.length && b[i] !== 0xff) {
    let d = b[i] >> 4, l = b[i] & 15;
    i++;
    if (d === 13) d = 13 + b[i++]; else if (d === 14) { d = 269 + (b[i] << 8 | b[i + 1]); i += 2; }
    if (l === 13) l = 13 + b[i++]; else if (l === 14) { l = 269 + (b[i] << 8 | b[i + 1]); i += 2; }
    num += d;
    options.push([num, b.subarray(i, i + l)]);
    i += l;
  }
  const payload = i < b.length ? new TextDecoder().decode(b.subarray(i + 1)) : '';
  return { code, token, options, payload };
}

function codeText(c) { return (c >> 5) + '.' + String(c & 31).padStart(2, '0'); }
const path = (s) => [OPT_URI_PATH, Array.from(new TextEncoder().encode(s))];

function start() {
  const url = new URLSearchParams(location.search).get('url');
  if (!url) { status('no ?url= given'); return; }
  $('server').textContent = url;
  const ws = new WebSocket(url, 'coap');
  ws.binaryType = 'arraybuffer';
  const GET_TOKEN = 1, OBSERVE_TOKEN = 2;

  ws.onopen = () => {
    if (ws.protocol !== 'coap') { status('the server chose no coap subprotocol'); ws.close(); return; }
    status('connected');
    ws.send(encode(CODE_CSM, [], [])); // our CSM first (RFC 8323 5.3)
    ws.send(encode(CODE_GET, [GET_TOKEN], [path('time')]));
  };
  ws.onmessage = (ev) => {
    const msg = decode(ev.data);
    if (msg.code === CODE_CSM) return;
    if (msg.code === CODE_PING) { ws.send(encode(CODE_PONG, msg.token, [])); return; }
    if (msg.code >> 5 === 7) return; // other signals
    if (msg.code >> 5 !== 2) { status('error ' + codeText(msg.code)); return; }
    if (msg.token[0] === GET_TOKEN) {
      $('first').textContent = msg.payload;
      status('observing');
      ws.send(encode(CODE_GET, [OBSERVE_TOKEN], [[OPT_OBSERVE, []], path('time')]));
    } else if (msg.token[0] === OBSERVE_TOKEN) {
      $('time').textContent = msg.payload;
      const li = document.createElement('li');
      li.textContent = msg.payload;
      $('values').appendChild(li);
    }
  };
  ws.onerror = () => status('WebSocket error');
  ws.onclose = (ev) => status('closed (' + ev.code + ')');
}

start();
