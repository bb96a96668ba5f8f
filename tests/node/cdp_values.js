// Reads a page's /time values from headless Chromium over the DevTools
// protocol (the WebSocket layer is the npm package `ws`): waits until the
// page lists at least WANT distinct values in <ol id="values">, or SECONDS
// pass. Prints each value, one a line, and the page's status.
// usage: node cdp_values.js DEVTOOLS_PORT SECONDS WANT
// Exit 0 when WANT distinct values came in time, 1 otherwise.
'use strict';
const WebSocket = require('ws');

const [port, seconds, want] = process.argv.slice(2).map(Number);
const deadline = Date.now() + seconds * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pageSocket() {
  while (Date.now() < deadline) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      const page = list.find((t) => t.type === 'page' && t.webSocketDebuggerUrl);
      if (page) return page.webSocketDebuggerUrl;
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Error('no page target');
}

async function main() {
  const ws = new WebSocket(await pageSocket());
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  });
  const evaluate = (expression) => new Promise((res) => {
    pending.set(++id, res);
    ws.send(JSON.stringify({ id, method: 'Runtime.evaluate',
                             params: { expression, returnByValue: true } }));
  });
  const read = "JSON.stringify({status: (document.getElementById('status') || {}).textContent, " +
               "first: (document.getElementById('first') || {}).textContent, " +
               "values: Array.from(document.querySelectorAll('#values li')).map(li => li.textContent)})";
  let last = { values: [] };
  while (Date.now() < deadline) {
    const r = await evaluate(read);
    if (r.result && r.result.result && typeof r.result.result.value === 'string')
      last = JSON.parse(r.result.result.value);
    if (new Set(last.values).size >= want) break;
    await sleep(200);
  }
  console.log(`status: ${last.status}`);
  console.log(`first: ${last.first}`);
  for (const v of last.values) console.log(`value: ${v}`);
  ws.close();
  process.exit(new Set(last.values).size >= want ? 0 : 1);
}

main().catch((e) => { console.error(e.message); process.exit(1); });
