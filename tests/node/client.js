// A one-shot CoAP request with node-coap, for the interop tests.
//
//   node client.js [--non] [--method M] [--payload TEXT] [--timeout S]
//                  [--output FILE] URL
//
// Prints the response code (e.g. "2.05") on the first line and the payload
// after it; with --output the payload goes to FILE, byte for byte, and the
// second line is "N bytes". node-coap reassembles a Block2 (RFC 7959) body
// itself, asking for block after block. Exits 0 on any response, 3 when
// none came in time, 1 on error.
'use strict';

const fs = require('fs');
const coap = require('coap');

function parseArgs(argv) {
  const o = {
    confirmable: true, method: 'GET', payload: null, timeout: 10, output: null, url: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--non') o.confirmable = false;
    else if (a === '--method') o.method = argv[++i].toUpperCase();
    else if (a === '--payload') o.payload = argv[++i];
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--output') o.output = argv[++i];
    else o.url = a;
  }
  if (!o.url) {
    console.error('usage: node client.js [--non] [--method M] [--payload T] [--timeout S] ' +
      '[--output FILE] URL');
    process.exit(1);
  }
  return o;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const url = new URL(o.url);
  const req = coap.request({
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 5683),
    pathname: url.pathname,
    query: url.search.replace(/^\?/, ''),
    method: o.method,
    confirmable: o.confirmable,
  });
  const timer = setTimeout(() => {
    console.error(`no response within ${o.timeout} s`);
    process.exit(3);
  }, o.timeout * 1000);
  req.on('response', (res) => {
    clearTimeout(timer);
    if (o.output !== null) {
      fs.writeFileSync(o.output, res.payload);
      process.stdout.write(`${res.code}\n${res.payload.length} bytes\n`);
    } else {
      process.stdout.write(`${res.code}\n${res.payload.toString()}`);
    }
    process.exit(0);
  });
  req.on('error', (err) => {
    clearTimeout(timer);
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
  if (o.payload !== null) req.write(o.payload);
  req.end();
}

main();
