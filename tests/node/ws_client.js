// A CoAP over WebSockets client (RFC 8323 section 4) for the interop tests.
// The WebSocket layer is the npm package `ws` (independent of Petrel); the
// CoAP framing (section 4.4: Len 0, no Type or Message ID), CSM, options
// and block-wise transfer are written here, from the RFCs.
//
// Every run ends with a WebSocket Ping (the Pong must echo it) and a
// closing handshake (the server must answer our Close 1000 with 1000).
//
// usage: node ws_client.js URL get PATH[?QUERY]      prints the body
//        node ws_client.js URL observe PATH N        prints N notifications
//        node ws_client.js URL put PATH FILE         Block1 PUT, prints code
// URL is ws://host:port/.well-known/coap, or wss:// for coaps+ws with, in
// the environment, either WS_CA=FILE (the server's certificate must chain
// to this CA and name WS_SERVERNAME, default localhost) or
// WS_FINGERPRINT=AA:BB:... (no chain check: the server's certificate must
// have this SHA-256 fingerprint); WS_CERT=FILE and WS_KEY=FILE give a
// client certificate. Exit 0 on a 2.xx, 1 otherwise.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [url, cmd, target, arg] = process.argv.slice(2);
if (!url || !cmd || !target) {
  console.error('usage: ws_client.js URL get|observe|put PATH [N|FILE]');
  process.exit(2);
}

const OPT = { observe: 6, uriPath: 11, contentFormat: 12, uriQuery: 15,
              block2: 23, block1: 27, size1: 60 };
const CSM = 0xe1, PING = 0xe2, PONG = 0xe3;

function codeStr(c) { return `${c >> 5}.${String(c & 31).padStart(2, '0')}`; }

function uintBytes(v) {
  const out = [];
  while (v > 0) { out.unshift(v & 0xff); v = Math.floor(v / 256); }
  return Buffer.from(out);
}

function nibble(v, ext) {
  if (v < 13) return v;
  if (v < 269) { ext.push(v - 13); return 13; }
  ext.push((v - 269) >> 8, (v - 269) & 0xff); return 14;
}

// A message in WebSocket framing: [Len=0|TKL] Code Token Options [FF Payload].
function encode(code, token, options, payload) {
  const parts = [Buffer.from([token.length, code]), token];
  let prev = 0;
  options.sort((a, b) => a[0] - b[0]);
  for (const [num, value] of options) {
    const ext = [];
    const d = nibble(num - prev, ext);
    const extLen = [];
    const l = nibble(value.length, extLen);
    parts.push(Buffer.from([(d << 4) | l, ...ext, ...extLen]), value);
    prev = num;
  }
  if (payload && payload.length) parts.push(Buffer.from([0xff]), payload);
  return Buffer.concat(parts);
}

function decode(buf) {
  if (buf.length < 2 || buf[0] >> 4 !== 0) throw new Error('bad header');
  const tkl = buf[0] & 15;
  if (tkl > 8) throw new Error('extended tokens not expected here');
  const code = buf[1];
  const token = buf.subarray(2, 2 + tkl);
  const options = [];
  let i = 2 + tkl, num = 0;
  while (i < buf.length && buf[i] !== 0xff) {
    let d = buf[i] >> 4, l = buf[i] & 15;
    i++;
    if (d === 13) d = 13 + buf[i++];
    else if (d === 14) { d = 269 + (buf[i] << 8 | buf[i + 1]); i += 2; }
    if (l === 13) l = 13 + buf[i++];
    else if (l === 14) { l = 269 + (buf[i] << 8 | buf[i + 1]); i += 2; }
    num += d;
    options.push([num, buf.subarray(i, i + l)]);
    i += l;
  }
  const payload = i < buf.length ? buf.subarray(i + 1) : Buffer.alloc(0);
  return { code, token, options, payload };
}

function optUint(msg, num) {
  const o = msg.options.find((x) => x[0] === num);
  if (!o) return undefined;
  let v = 0;
  for (const b of o[1]) v = v * 256 + b;
  return v;
}

function pathOptions(t) {
  const [path, query] = t.split('?');
  const opts = path.split('/').filter((s) => s).map((s) => [OPT.uriPath, Buffer.from(s)]);
  if (query !== undefined) for (const q of query.split('&')) opts.push([OPT.uriQuery, Buffer.from(q)]);
  return opts;
}

const tlsOptions = {};
if (process.env.WS_CA) {
  tlsOptions.ca = fs.readFileSync(process.env.WS_CA);
  tlsOptions.servername = process.env.WS_SERVERNAME || 'localhost';
} else if (process.env.WS_FINGERPRINT) {
  tlsOptions.rejectUnauthorized = false; // the fingerprint is checked below
}
if (process.env.WS_CERT) {
  tlsOptions.cert = fs.readFileSync(process.env.WS_CERT);
  tlsOptions.key = fs.readFileSync(process.env.WS_KEY);
}
const ws = new WebSocket(url, 'coap', tlsOptions);
if (process.env.WS_FINGERPRINT) {
  ws.on('upgrade', (res) => {
    const got = res.socket.getPeerCertificate().fingerprint256;
    if (got !== process.env.WS_FINGERPRINT.toUpperCase()) {
      console.error(`certificate fingerprint ${got}, not ${process.env.WS_FINGERPRINT}`);
      process.exit(1);
    }
  });
}
ws.binaryType = 'nodebuffer';
const waiting = new Map(); // token hex -> callback(msg)
let nextToken = 1;
let gotCsm = false;

function send(code, options, payload, onResponse) {
  const token = Buffer.from([nextToken >> 8, nextToken & 0xff]);
  nextToken++;
  waiting.set(token.toString('hex'), onResponse);
  ws.send(encode(code, token, options, payload));
  return token;
}

function request(code, options, payload) {
  return new Promise((resolve) => send(code, options, payload, resolve));
}

ws.on('message', (data, isBinary) => {
  if (!isBinary) { console.error('text frame from server'); process.exit(1); }
  const msg = decode(data);
  if (msg.code === CSM) { gotCsm = true; return; }
  if (msg.code === PING) { ws.send(encode(PONG, msg.token, [], null)); return; }
  if (msg.code >> 5 === 7) return;
  const cb = waiting.get(msg.token.toString('hex'));
  if (cb) cb(msg);
  else console.error(`response with unknown token ${msg.token.toString('hex')}`);
});
ws.on('error', (e) => { console.error(`websocket error: ${e.message}`); process.exit(1); });
ws.on('close', (code) => { if (!done) { console.error(`closed early (${code})`); process.exit(1); } });
// (finish() replaces this handler once the closing handshake is ours.)
let done = false;
// The end: a WebSocket Ping must get its Pong, and our Close (1000) the
// server's Close with the same status (RFC 6455 5.5.2, 5.5.3, 7.1.2).
function finish(ok) {
  const fail = (why) => { console.error(why); process.exit(1); };
  const noPong = setTimeout(() => fail('no Pong for our Ping'), 5000);
  ws.on('pong', (data) => {
    clearTimeout(noPong);
    if (data.toString() !== 'petrel?') fail(`Pong with '${data}'`);
    done = true;
    ws.removeAllListeners('close');
    ws.on('close', (code) => {
      if (code !== 1000) fail(`the server's Close said ${code}, not 1000`);
      process.exit(ok ? 0 : 1);
    });
    ws.close(1000);
    setTimeout(() => fail('no Close from the server'), 5000);
  });
  ws.ping('petrel?');
}
setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000);

async function get(t) {
  const base = pathOptions(t);
  const parts = [];
  for (let num = 0; ; num++) {
    const opts = base.slice();
    if (num) opts.push([OPT.block2, uintBytes((num << 4) | 6)]);
    const r = await request(1, opts, null);
    if (r.code >> 5 !== 2) { console.error(`GET ${t}: ${codeStr(r.code)}`); return false; }
    parts.push(r.payload);
    const b2 = optUint(r, OPT.block2);
    if (b2 === undefined || !(b2 & 8)) break;
  }
  process.stdout.write(Buffer.concat(parts));
  process.stdout.write('\n');
  return true;
}

function observe(t, n) {
  return new Promise((resolve) => {
    let seen = 0;
    const opts = pathOptions(t);
    opts.push([OPT.observe, Buffer.alloc(0)]);
    send(1, opts, null, (r) => {
      if (r.code >> 5 !== 2) { console.error(`observe: ${codeStr(r.code)}`); resolve(false); return; }
      const obs = optUint(r, OPT.observe);
      console.log(`${r.payload.toString()} (observe ${obs === undefined ? 'none' : obs})`);
      if (obs === undefined) { resolve(false); return; }
      if (++seen >= n) resolve(true);
    });
  });
}

async function put(t, file) {
  const body = fs.readFileSync(file);
  const size = 1024; // SZX 6
  const base = pathOptions(t);
  let last;
  for (let num = 0; num * size < body.length; num++) {
    const more = (num + 1) * size < body.length ? 8 : 0;
    const opts = base.slice();
    opts.push([OPT.block1, uintBytes((num << 4) | more | 6)]);
    if (num === 0) opts.push([OPT.size1, uintBytes(body.length)]);
    last = await request(3, opts, body.subarray(num * size, (num + 1) * size));
    if (last.code >> 5 !== 2) break;
  }
  console.log(codeStr(last.code));
  return last.code >> 5 === 2;
}

ws.on('open', async () => {
  if (ws.protocol !== 'coap') { console.error(`subprotocol '${ws.protocol}'`); process.exit(1); }
  // Our CSM first (RFC 8323 5.3): Max-Message-Size 65536.
  ws.send(encode(CSM, Buffer.alloc(0), [[2, uintBytes(65536)]], null));
  let ok = false;
  if (cmd === 'get') ok = await get(target);
  else if (cmd === 'observe') ok = await observe(target, Number(arg || 2));
  else if (cmd === 'put') ok = await put(target, arg);
  if (!gotCsm) { console.error('no CSM from the server'); ok = false; }
  finish(ok);
});
