// A CoAP responder over plain UDP (node's dgram, no npm package) that
// answers every request with a 2.05 "bad" carrying a given option, so that
// a client's handling of responses it must reject can be checked.
// usage: node bad_option_server.js MODE OPTION
//   MODE ack: piggybacked in the ACK; con: Empty ACK, then a CON response;
//        non: a NON response (for NON requests)
//   OPTION the option number to carry (one byte 'x' as its value)
// Prints "listening on 127.0.0.1:PORT" on stderr, and "rst MID" on stdout
// for every Reset it receives.
'use strict';
const dgram = require('dgram');

const mode = process.argv[2];
const option = Number(process.argv[3]);

function optionBytes(num, value) {
  // RFC 7252 3.1: one header byte, extended delta, then the value.
  const ext = [];
  let nib;
  if (num < 13) {
    nib = num;
  } else if (num < 269) {
    nib = 13;
    ext.push(num - 13);
  } else {
    nib = 14;
    ext.push((num - 269) >> 8, (num - 269) & 0xff);
  }
  return Buffer.from([(nib << 4) | value.length, ...ext, ...value]);
}

function response(type, mid, token) {
  const hdr = Buffer.from([0x40 | (type << 4) | token.length, 0x45,
                           mid >> 8, mid & 0xff]);
  return Buffer.concat([hdr, token, optionBytes(option, Buffer.from('x')),
                        Buffer.from([0xff]), Buffer.from('bad')]);
}

let nextMid = 0x5000;
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 4 || (msg[0] >> 6) !== 1)
    return;
  const type = (msg[0] >> 4) & 3;
  const mid = (msg[2] << 8) | msg[3];
  if (type === 3) {
    console.log('rst ' + mid);
    return;
  }
  if (type === 2 || msg[1] === 0 || msg[1] >= 32)
    return; // only requests are answered
  const token = msg.subarray(4, 4 + (msg[0] & 0x0f));
  const send = (b) => sock.send(b, rinfo.port, rinfo.address);
  if (mode === 'ack') {
    send(response(2, mid, token));
  } else if (mode === 'con') {
    send(Buffer.from([0x60, 0, mid >> 8, mid & 0xff]));
    send(response(0, nextMid++, token));
  } else {
    send(response(1, nextMid++, token));
  }
});
sock.bind(0, '127.0.0.1', () => {
  console.error('listening on 127.0.0.1:' + sock.address().port);
});
process.on('SIGTERM', () => process.exit(0));
