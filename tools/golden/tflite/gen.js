// gen.js — golden inputs/outputs for the TFLite reader, from an independent
// runtime: Google's wasm TFLite (@tensorflow/tfjs-tflite, XNNPACK, 1 thread).
//
//   cd tools/golden/tflite && npm install && node gen.js
//
// Reads models/expo/{pnet,rnet,onet,MobileFaceNet}.tflite, the synthetic
// fuzz/seeds/tflite/synth*.tflite (made by synth.js) and face-api's
// demo/sample1.jpg and sample3.jpg (npm @vladmandic/face-api@1.7.15; set
// FACEAPI_DEMO to its demo/ folder), and writes small .npy files into
// tests/golden/tflite/ (see the README written there). Face crops are cut
// with fixed boxes and shrunk with a box filter; MTCNN inputs are
// (v-127.5)/128 and transposed W<->H as the shipping Kotlin does;
// MobileFaceNet's is (v-127.5)/128 without the transpose.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const root = path.resolve(__dirname, '../../..');
const outDir = path.join(root, 'tests/golden/tflite');
const modelsDir = process.env.PASALISTA_MODELS || path.join(root, 'models');
const demoDir = process.env.FACEAPI_DEMO ||
    '/tmp/npmpk/vladmandic-face-api-1.7.15/package/demo';
const wasmDir = path.join(__dirname, 'node_modules/@tensorflow/tfjs-tflite/wasm') + '/';

// ---- shim: tfjs-tflite's loader expects a browser worker -------------------
// `self`, `location` and `importScripts` for its emscripten loader, a fetch
// that reads local files, and no MessageChannel so it picks the
// single-threaded wasm (Node has no Worker).
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

const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tflite = require('@tensorflow/tfjs-tflite');
const jpeg = require('jpeg-js');

// ---- .npy ------------------------------------------------------------------
function writeNpy(file, shape, data) {
    const descr = data instanceof Uint8Array ? '|u1' : '<f4';
    const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
    const pad = 64 - ((10 + header.length + 1) % 64);
    header += ' '.repeat(pad % 64) + '\n';
    const pre = Buffer.alloc(10);
    Buffer.from('\x93NUMPY', 'latin1').copy(pre, 0);
    pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    fs.writeFileSync(path.join(outDir, file), Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

// ---- images ----------------------------------------------------------------
function loadRgb(name) {
    const im = jpeg.decode(fs.readFileSync(path.join(demoDir, name)), { useTArray: true });
    return { w: im.width, h: im.height, px: im.data }; // RGBA
}

// Box-filter the square crop (x0, y0, size) of an RGBA image to n x n RGB.
function cropResize(im, x0, y0, size, n) {
    const out = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
        const ya = y0 + Math.floor(y * size / n), yb = y0 + Math.floor((y + 1) * size / n);
        const xa = x0 + Math.floor(x * size / n), xb = x0 + Math.floor((x + 1) * size / n);
        for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let v = ya; v < yb; v++) for (let u = xa; u < xb; u++) s += im.px[(v * im.w + u) * 4 + c];
            out[(y * n + x) * 3 + c] = Math.round(s / ((yb - ya) * (xb - xa)));
        }
    }
    return out;
}

// Box-filter the whole image to w x h RGB (uint8).
function shrink(im, w, h) {
    const out = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const ya = Math.floor(y * im.h / h), yb = Math.floor((y + 1) * im.h / h);
        const xa = Math.floor(x * im.w / w), xb = Math.floor((x + 1) * im.w / w);
        for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let v = ya; v < yb; v++) for (let u = xa; u < xb; u++) s += im.px[(v * im.w + u) * 4 + c];
            out[(y * w + x) * 3 + c] = Math.round(s / ((yb - ya) * (xb - xa)));
        }
    }
    return out;
}

// uint8 n x n RGB -> float (v-127.5)/128, optionally transposed W<->H.
function normalize(rgb, n, transpose) {
    const out = new Float32Array(n * n * 3);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) {
        const v = rgb[(y * n + x) * 3 + c];
        const at = transpose ? (x * n + y) * 3 + c : (y * n + x) * 3 + c;
        out[at] = (v - 127.5) / 128;
    }
    return out;
}

// ---- running ----------------------------------------------------------------
async function load(file) {
    const buf = fs.readFileSync(path.join(modelsDir, 'expo', file));
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    return tflite.loadTFLiteModel(ab, { numThreads: 1 });
}

function run(model, shape, data) {
    const x = tf.tensor(data, shape, 'float32');
    let y = model.predict(x);
    if (y instanceof tf.Tensor) y = { [model.outputs[0].name]: y };
    const outs = model.outputs.map((o) => ({ name: o.name, shape: y[o.name].shape, data: y[o.name].dataSync() }));
    x.dispose();
    Object.values(y).forEach((t) => t.dispose());
    return outs;
}

const readme = [];
function save(file, shape, data, what) {
    writeNpy(file, shape, data);
    readme.push(`${file}\t[${shape.join(',')}]\t${what}`);
}

async function main() {
    fs.mkdirSync(outDir, { recursive: true });
    await tf.setBackend('cpu');
    const s1 = loadRgb('sample1.jpg'), s3 = loadRgb('sample3.jpg');

    // rnet and onet: one face each, transposed as MTCNN wants.
    for (const [file, n, im, box] of [['rnet', 24, s1, [400, 300, 220]],
                                      ['onet', 48, s3, [580, 300, 240]]]) {
        const m = await load(`${file}.tflite`);
        const x = normalize(cropResize(im, box[0], box[1], box[2], n), n, true);
        save(`${file}_in.npy`, [1, n, n, 3], x, `input, face crop ${box} of ${im === s1 ? 'sample1' : 'sample3'}.jpg`);
        run(m, [1, n, n, 3], x).forEach((o, k) => save(`${file}_out${k}.npy`, o.shape, o.data, `output ${k} '${o.name}'`));
    }

    // MobileFaceNet: its batch is fixed at 2: two different faces.
    {
        const m = await load('MobileFaceNet.tflite');
        const a = normalize(cropResize(s1, 1460, 200, 260, 112), 112, false);
        const b = normalize(cropResize(s3, 1060, 180, 260, 112), 112, false);
        const x = new Float32Array(2 * a.length);
        x.set(a, 0); x.set(b, a.length);
        save('mfn_in.npy', [2, 112, 112, 3], x, 'input, faces from sample1.jpg and sample3.jpg');
        run(m, [2, 112, 112, 3], x).forEach((o, k) => save(`mfn_out${k}.npy`, o.shape, o.data, `output ${k} '${o.name}'`));
    }

    // pnet only runs at its stored 1x1280x960x3 here. The input is
    // sample1.jpg shrunk to 160x120 (committed as uint8), upscaled x8 by
    // nearest neighbour to 1280x960 and transposed: pixel (i, j) of the
    // tensor is small[j/8][i/8]. Only a 64x64 window of each output map,
    // around the most face-like cell, is kept.
    {
        const m = await load('pnet.tflite');
        const W = 160, H = 120, small = shrink(s1, W, H);
        save('pnet_small.npy', [H, W, 3], small, 'sample1.jpg shrunk to 160x120, uint8 RGB');
        const x = new Float32Array(1280 * 960 * 3);
        for (let i = 0; i < 1280; i++) for (let j = 0; j < 960; j++) for (let c = 0; c < 3; c++)
            x[(i * 960 + j) * 3 + c] = (small[((j >> 3) * W + (i >> 3)) * 3 + c] - 127.5) / 128;
        const outs = run(m, [1, 1280, 960, 3], x);
        const prob = outs[0], oh = prob.shape[1], ow = prob.shape[2], win = 64;
        let best = 0, by = 0, bx = 0;
        for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
            const p = prob.data[(y * ow + xx) * 2 + 1];
            if (p > best) { best = p; by = y; bx = xx; }
        }
        const y0 = Math.max(0, Math.min(oh - win, by - win / 2));
        const x0 = Math.max(0, Math.min(ow - win, bx - win / 2));
        save('pnet_window.npy', [4], new Float32Array([y0, x0, oh, ow]),
             'window origin (y0, x0) and the full output size (h, w)');
        outs.forEach((o, k) => {
            const c = o.shape[3], w = new Float32Array(win * win * c);
            for (let y = 0; y < win; y++) for (let xx = 0; xx < win; xx++) for (let ch = 0; ch < c; ch++)
                w[(y * win + xx) * c + ch] = o.data[((y0 + y) * ow + x0 + xx) * c + ch];
            save(`pnet_out${k}.npy`, [1, win, win, c], w, `output ${k} '${o.name}' ${o.shape}, window at (${y0},${x0})`);
        });
    }

    // The synthetic models of synth.js (fuzz seeds): synthetic inputs.
    for (const [stem, shape] of [['synth', [1, 6, 6, 2]], ['synth2', [1, 8, 8, 3]]]) {
        const buf = fs.readFileSync(path.join(root, `fuzz/seeds/tflite/${stem}.tflite`));
        const m = await tflite.loadTFLiteModel(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), { numThreads: 1 });
        const x = new Float32Array(shape.reduce((a, b) => a * b));
        for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7) * 2;
        save(`${stem}_in.npy`, shape, x, `input of fuzz/seeds/tflite/${stem}.tflite: sin(0.7 i) * 2`);
        run(m, shape, x).forEach((o, k) => save(`${stem}_out${k}.npy`, o.shape, o.data, `output ${k} '${o.name}'`));
    }

    fs.writeFileSync(path.join(outDir, 'README'),
        'Golden files for tests/test_tflite.c, written by tools/golden/tflite/gen.js\n' +
        'with @tensorflow/tfjs-tflite 0.0.1-alpha.10 (wasm TFLite + XNNPACK, 1 thread).\n' +
        'Inputs come from face-api demo/sample1.jpg and sample3.jpg (npm @vladmandic/face-api@1.7.15).\n\n' +
        readme.join('\n') + '\n');
    console.log(readme.join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
