// Observes a resource with node-coap for the interop tests.
//
//   node observe_client.js [--seconds S] URL
//
// Sends a GET with Observe: 0 and prints the payload of the response and
// of every notification, one a line, for S seconds (default 4); then
// closes the stream, which deregisters, and exits 0. Exits 3 when no
// response came at all, 1 on error.
'use strict';

const coap = require('coap');

function main() {
  const argv = process.argv.slice(2);
  let seconds = 4;
  let url = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') seconds = Number(argv[++i]);
    else url = argv[i];
  }
  if (!url) {
    console.error('usage: node observe_client.js [--seconds S] URL');
    process.exit(1);
  }
  const u = new URL(url);
  const req = coap.request({
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 5683),
    pathname: u.pathname,
    observe: true,
  });
  let got = 0;
  req.on('response', (res) => {
    res.on('data', (chunk) => {
      got++;
      process.stdout.write(`${chunk.toString()}\n`);
    });
    setTimeout(() => {
      res.close();
      setTimeout(() => process.exit(got ? 0 : 3), 500);
    }, seconds * 1000);
  });
  req.on('error', (err) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
  setTimeout(() => {
    if (!got) {
      console.error('no response');
      process.exit(3);
    }
  }, (seconds + 5) * 1000);
  req.end();
}

main();
