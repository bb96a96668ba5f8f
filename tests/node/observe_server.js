// A node-coap server whose /obs notifies, for the interop tests.
//
//   node observe_server.js
//
// Listens on [::1] on a free port and prints "listening on [::1]:PORT" on
// stderr. A GET /obs with Observe: 0 gets "n=0", then "n=1", "n=2", ...
// every 300 ms until the client deregisters; each deregistration prints
// "observer gone" on stderr. Runs until killed.
'use strict';

const coap = require('coap');

const server = coap.createServer({ type: 'udp6' });
server.on('request', (req, res) => {
  if (req.url.split('?')[0] !== '/obs') {
    res.code = '4.04';
    res.end();
    return;
  }
  if (req.headers.Observe !== 0) {
    res.end('n=0');
    return;
  }
  let n = 0;
  res.write(`n=${n++}`);
  const timer = setInterval(() => res.write(`n=${n++}`), 300);
  res.on('finish', () => {
    clearInterval(timer);
    process.stderr.write('observer gone\n');
  });
});
server.listen(0, '::1', () => {
  process.stderr.write(`listening on [::1]:${server._sock.address().port}\n`);
});
