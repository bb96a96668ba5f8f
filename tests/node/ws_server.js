// A CoAP over WebSockets server (RFC 8323 section 4) for the interop tests,
// so that our client meets a WebSocket implementation that is not ours:
// the npm package `ws` (which refuses unmasked client frames) carries the
// frames, and the CoAP framing is written here. It answers the client's
// CSM with its own, Ping with Pong, and GET /hello with 2.05
// "hello over ws"; anything else with 4.04. It logs each upgrade's Host
// and subprotocols, each request and each close, a line each, to LOG_FILE.
// usage: node ws_server.js LOG_FILE
//        (prints "listening on 127.0.0.1:PORT" on stderr once it listens)
'use strict';
const fs = require('fs');
const http = require('http');
const { WebSocketServer } = require('ws');

const CSM = 0xe1, PING = 0xe2, PONG = 0xe3;
const logFile = process.argv[2];
const log = (line) => fs.appendFileSync(logFile, line + '\n');

function message(code, token, payload) {
  const head = Buffer.from([token.length, code]);
  const parts = [head, token];
  if (payload) parts.push(Buffer.from([0xff]), Buffer.from(payload));
  return Buffer.concat(parts);
}

function uriPath(buf, start) {
  const segs = [];
  let i = start, num = 0;
  while (i < buf.length && buf[i] !== 0xff) {
    let d = buf[i] >> 4, l = buf[i] & 15;
    i++;
    if (d === 13) d = 13 + buf[i++]; else if (d === 14) { d = 269 + (buf[i] << 8 | buf[i + 1]); i += 2; }
    if (l === 13) l = 13 + buf[i++]; else if (l === 14) { l = 269 + (buf[i] << 8 | buf[i + 1]); i += 2; }
    num += d;
    if (num === 11) segs.push(buf.subarray(i, i + l).toString());
    i += l;
  }
  return '/' + segs.join('/');
}

const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({
  server,
  path: '/.well-known/coap',
  handleProtocols: (protocols) => (protocols.has('coap') ? 'coap' : false),
});
wss.on('connection', (ws, req) => {
  log(`upgrade: host=${req.headers.host} protocols=${req.headers['sec-websocket-protocol']}`);
  ws.on('message', (data, isBinary) => {
    if (!isBinary || data.length < 2 || data[0] >> 4 !== 0) { ws.close(1003); return; }
    const tkl = data[0] & 15, code = data[1];
    const token = data.subarray(2, 2 + tkl);
    if (code === CSM) { ws.send(message(CSM, Buffer.alloc(0))); return; }
    if (code === PING) { ws.send(message(PONG, token)); return; }
    if (code >> 5 === 7) return;
    const path = uriPath(data, 2 + tkl);
    log(`request: ${code === 1 ? 'GET' : code} ${path}`);
    if (code === 1 && path === '/hello') ws.send(message(0x45, token, 'hello over ws'));
    else ws.send(message(0x84, token));
  });
  ws.on('close', (code) => log(`closed: ${code}`));
});
server.listen(0, '127.0.0.1', () => {
  console.error(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
