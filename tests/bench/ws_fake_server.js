// A fake coap+ws server for tests/bench/coap_bench_conn.sh: answers the
// HTTP/1.1 upgrade in one of the ways MODE names, then sends a CSM in one
// binary frame (Len 0, RFC 8323 4.4) and answers nothing else.
//   good      101 with the right Sec-WebSocket-Accept and the coap subprotocol
//   bad-accept   101 with a wrong Sec-WebSocket-Accept
//   no-proto     101 without Sec-WebSocket-Protocol
//   refuse       404
// usage: node ws_fake_server.js MODE   (prints "listening on 127.0.0.1:PORT")
const net = require('net');
const crypto = require('crypto');
const mode = process.argv[2];
const srv = net.createServer((c) => {
  let buf = '';
  c.on('data', (d) => {
    if (buf === null) return;
    buf += d.toString('latin1');
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const m = /\r\nSec-WebSocket-Key: *([^\r]*)/i.exec(buf);
    buf = null;
    if (mode === 'refuse' || !m) {
      c.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let accept = crypto.createHash('sha1')
      .update(m[1] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    if (mode === 'bad-accept') accept = 'x' + accept.slice(1);
    c.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
            'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n' +
            (mode === 'no-proto' ? '' : 'Sec-WebSocket-Protocol: coap\r\n') +
            '\r\n');
    c.write(Buffer.from([0x82, 0x02, 0x00, 0xe1]));
  });
  c.on('error', () => {});
});
srv.listen(0, '127.0.0.1', () => {
  console.error('listening on 127.0.0.1:' + srv.address().port);
});
