// node for the real-program matrix: worker_threads with a SharedArrayBuffer
// and Atomics, and libuv's thread pool (crypto.pbkdf2, zlib, fs). Prints only
// results that do not depend on scheduling.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');
const zlib = require('zlib');
const fs = require('fs');
const os = require('os');
const path = require('path');

if (!isMainThread) {
  const counter = new Int32Array(workerData.shared);
  let local = 0;
  for (let i = 0; i < 100000; i++) { Atomics.add(counter, 0, 1); local += i % 7; }
  parentPort.postMessage(local);
  return;
}

async function main() {
  const shared = new SharedArrayBuffer(4);
  const sums = await Promise.all([0, 1, 2, 3].map(() => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { shared } });
    w.on('message', resolve);
    w.on('error', reject);
  })));
  console.log(`workers: ${sums.join(' ')}, counter ${new Int32Array(shared)[0]}`);

  const keys = await Promise.all([...Array(8).keys()].map((i) => new Promise((resolve, reject) =>
    crypto.pbkdf2(`password ${i}`, 'salt', 2000, 16, 'sha256',
                  (err, key) => (err ? reject(err) : resolve(key.toString('hex')))))));
  console.log(`pbkdf2: ${crypto.createHash('sha256').update(keys.join()).digest('hex')}`);

  const input = Buffer.from('lockrace '.repeat(200000));
  const packed = await Promise.all([1, 6, 9].map((level) => new Promise((resolve, reject) =>
    zlib.gzip(input, { level }, (err, out) => (err ? reject(err) : resolve(out))))));
  const back = await Promise.all(packed.map((p) => new Promise((resolve, reject) =>
    zlib.gunzip(p, (err, out) => (err ? reject(err) : resolve(out.equals(input)))))));
  console.log(`zlib: round trips ${back.join(' ')}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockrace-node-'));
  await Promise.all([...Array(16).keys()].map((i) =>
    fs.promises.writeFile(path.join(dir, `f${i}`), `file ${i}\n`.repeat(1000))));
  const sizes = await Promise.all([...Array(16).keys()].map((i) =>
    fs.promises.readFile(path.join(dir, `f${i}`)).then((b) => b.length)));
  fs.rmSync(dir, { recursive: true });
  console.log(`fs: ${sizes.reduce((a, b) => a + b, 0)} bytes read back`);
}
main().catch((e) => { console.error(e); process.exit(1); });
