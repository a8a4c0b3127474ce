// engine_tflite.js — the TFLite peer of bench/engine: Google's wasm TFLite
// (@tensorflow/tfjs-tflite 0.0.1-alpha.10, XNNPACK, one thread), installed
// in bench/peers/tflite/ because it needs @tensorflow/tfjs-core 4.9.0
// exactly (cd bench/peers/tflite && npm install).
//
//   node engine_tflite.js --model M.tflite --input X.npy [--warmup 3]
//                         [--max-runs 50] [--out Y.npy]
// prints one JSON line (threads 1); --out writes output 0. The models only
// accept their stored input shape (pnet: 1x1280x960x3, MobileFaceNet: 2 faces).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { readNpy, writeNpy, parseArgs, timeRuns, fail } = require('./engine_common.js');

const mods = path.join(__dirname, 'tflite/node_modules');
const wasmDir = path.join(mods, '@tensorflow/tfjs-tflite/wasm') + '/';

// tfjs-tflite's loader expects a browser worker: `self`, `location` and
// `importScripts` for its emscripten glue, a fetch that reads local files,
// and no MessageChannel so that it picks the single-threaded wasm.
globalThis.self = globalThis;
globalThis.location = { href: 'file://' + wasmDir, origin: 'file://' };
globalThis.MessageChannel = class { constructor() { throw new Error('single-threaded'); } };
globalThis.importScripts = (url) => {
    const file = url.startsWith('file://') ? url.slice(7) : url;
    vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
};
globalThis.fetch = async (url) => {
    const file = String(url).replace(/^file:\/\//, '');
    return new Response(fs.readFileSync(file), { headers: { 'Content-Type': 'application/wasm' } });
};

const tf = require(path.join(mods, '@tensorflow/tfjs-core'));
require(path.join(mods, '@tensorflow/tfjs-backend-cpu'));
const tflite = require(path.join(mods, '@tensorflow/tfjs-tflite'));

async function main() {
    const a = parseArgs(process.argv.slice(2));
    await tf.setBackend('cpu'); // only holds the tensors; TFLite computes
    const buf = fs.readFileSync(a.model);
    const model = await tflite.loadTFLiteModel(
        buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), { numThreads: 1 });
    const xin = readNpy(a.input);
    const x = tf.tensor(xin.data, xin.shape, 'float32');
    let last = null;
    const once = async () => {
        let y = model.predict(x);
        const ys = y instanceof tf.Tensor ? [y] : model.outputs.map((o) => y[o.name]);
        for (const t of ys) t.dataSync();
        if (last) last.forEach((t) => t.dispose());
        last = ys;
    };
    const r = await timeRuns(once, Number(a.warmup || 3), Number(a['max-runs'] || 50));
    if (a.out) writeNpy(a.out, last[0].shape, last[0].dataSync());
    console.log(JSON.stringify({ peer: 'tfjs-tflite', version: '0.0.1-alpha.10', threads: 1, ...r }));
}
main().catch(fail);
