// engine_tfjs.js — the TF.js peer of bench/engine: @tensorflow/tfjs 4.22.0
// on its wasm backend (SIMD; one thread: tfjs turns wasm threads off in
// Node), running either a TF.js graph model (model.json) or face-api's
// face recognition net (a *-weights_manifest.json) through face-api 1.7.15.
//
//   node engine_tfjs.js --model FILE --input X.npy [--warmup 3]
//                       [--max-runs 50] [--out Y.npy]
// prints one JSON line (threads 1); --out writes output 0.
'use strict';
const fs = require('fs');
const path = require('path');
const { readNpy, writeNpy, parseArgs, timeRuns, fail } = require('./engine_common.js');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

function weights(dir, groups) {
    const specs = [], bufs = [];
    for (const g of groups) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    }
    const all = Buffer.concat(bufs);
    return { specs, data: all.buffer.slice(all.byteOffset, all.byteOffset + all.length) };
}

// A function tensor -> tensor for the model file.
async function load(file) {
    const dir = path.dirname(file), json = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (Array.isArray(json)) { // face-api weights manifest: the net is face-api's code
        const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
        const net = faceapi.nets.faceRecognitionNet, w = weights(dir, json);
        net.loadFromWeightMap(tf.io.decodeWeights(w.data, w.specs));
        return (x) => net.forward(x);
    }
    const w = weights(dir, json.weightsManifest);
    const model = await tf.loadGraphModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: w.specs, weightData: w.data,
        format: json.format, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
    }));
    return (x) => {
        const y = model.execute(x);
        return Array.isArray(y) ? y : [y];
    };
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    wasm.setThreadsCount(1);
    wasm.setWasmPaths(path.join(__dirname, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    const fn = await load(a.model);
    const xin = readNpy(a.input);
    const x = tf.tensor(xin.data, xin.shape, 'float32');
    let last = null;
    const once = async () => {
        let ys = await fn(x);
        if (!Array.isArray(ys)) ys = [ys];
        for (const y of ys) await y.data(); // wait for every output
        if (last) last.forEach((y) => y.dispose());
        last = ys;
    };
    const r = await timeRuns(once, Number(a.warmup || 3), Number(a['max-runs'] || 50));
    if (a.out) writeNpy(a.out, last[0].shape, last[0].dataSync());
    console.log(JSON.stringify({ peer: 'tfjs-wasm', version: tf.version.tfjs, threads: 1, ...r }));
}
main().catch(fail);
