// gen.js — golden inputs/outputs for the TF.js readers (src/formats/tfjs.c,
// faceapi.c), from TF.js itself: @tensorflow/tfjs 4.22.0 on the wasm
// backend (1 thread) and face-api 1.7.15's own dist/face-api.node-wasm.js.
//
//   cd tools/golden/tfjs && npm install && node gen.js
//
// Reads models/human/{faceres,faceres-deep,gender-ssrnet-imdb,gender,blazeface}.json,
// models/face-api/{face_recognition,age_gender}_model-weights_manifest.json
// and two faces of face-api's demo/sample1.jpg and sample3.jpg (npm
// @vladmandic/face-api@1.7.15; set FACEAPI_DEMO to its demo/ folder).
// Writes into tests/golden/tfjs/:
//   <model>_in.npy   uint8 RGB crops [2, S, S, 3] (box-filtered, fixed boxes)
//   <model>_outK.npy float32 output K for both faces, each run alone (batch 1)
// The float input each model sees is computed from the uint8 crop by the
// same formula in tests/test_tfjs.c (prep(), below):
//   faceres             BGR - [103.939, 116.779, 123.68]   (HSE, MODELS.md §3)
//   gender-ssrnet-imdb  BGR 0..255                           (MODELS.md §4)
//   blazeface           v / 127.5 - 1                        (MODELS.md §1.3)
//   faceres-deep        as faceres
//   gender (oarriaga)   grey = .2989R + .587G + .114B, (grey / 255 - .5) * 2  (§4)
//   face_recognition, age_gender: RGB 0..255 (the nets normalise inside)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../../..');
const outDir = path.join(root, 'tests/golden/tfjs');
const modelsDir = process.env.PASALISTA_MODELS || path.join(root, 'models');
const demoDir = process.env.FACEAPI_DEMO || '/tmp/npmpk/vladmandic-face-api-1.7.15/package/demo';

const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
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

const readme = [];
function save(file, shape, data, what) {
    writeNpy(file, shape, data);
    readme.push(`${file}\t[${shape.join(',')}]\t${what}`);
}

// ---- images ----------------------------------------------------------------
function loadRgba(name) {
    const im = jpeg.decode(fs.readFileSync(path.join(demoDir, name)), { useTArray: true });
    return { w: im.width, h: im.height, px: im.data };
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

// uint8 RGB -> the float input of each model (mirrored in tests/test_tfjs.c).
function prep(kind, rgb) {
    const out = new Float32Array(rgb.length);
    const bgrMean = [103.939, 116.779, 123.68];
    for (let i = 0; i < rgb.length; i += 3) for (let c = 0; c < 3; c++) {
        const v = rgb[i + c], bgr = rgb[i + 2 - c];
        if (kind === 'hse') out[i + c] = bgr - bgrMean[c];
        else if (kind === 'bgr') out[i + c] = bgr;
        else if (kind === 'pm1') out[i + c] = v / 127.5 - 1;
        else out[i + c] = v;
    }
    if (kind !== 'grey') return out;
    const g = new Float32Array(rgb.length / 3);
    for (let i = 0; i < g.length; i++) {
        const y = 0.2989 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
        g[i] = (y / 255 - 0.5) * 2;
    }
    return g;
}

// ---- models ----------------------------------------------------------------
async function loadGraph(file) {
    const json = JSON.parse(fs.readFileSync(path.join(modelsDir, 'human', file), 'utf8'));
    const specs = [], bufs = [];
    for (const g of json.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(modelsDir, 'human', p)));
    }
    const all = Buffer.concat(bufs);
    return tf.loadGraphModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
    }));
}

function loadFaceApi(net, manifest) {
    const specs = JSON.parse(fs.readFileSync(path.join(modelsDir, 'face-api', manifest), 'utf8'));
    const bufs = [], weights = [];
    for (const g of specs) {
        weights.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(modelsDir, 'face-api', p)));
    }
    const all = Buffer.concat(bufs);
    net.loadFromWeightMap(tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), weights));
}

// Both faces, each alone at batch 1; outputs concatenated along the batch.
async function runEach(n, crops, kind, fn) {
    const per = [];
    for (const c of crops) {
        const x = tf.tensor(prep(kind, c), [1, n, n, kind === 'grey' ? 1 : 3], 'float32');
        const ys = await fn(x);
        per.push(ys.map((y) => ({ shape: y.shape, data: y.dataSync().slice() })));
        x.dispose();
        ys.forEach((y) => y.dispose());
    }
    return per[0].map((o, k) => {
        const shape = [crops.length, ...o.shape.slice(1)];
        if (o.shape.length === 1) shape.splice(1); // age: [N]
        const data = new Float32Array(per.length * o.data.length);
        per.forEach((p, i) => data.set(p[k].data, i * o.data.length));
        return { shape, data };
    });
}

async function main() {
    fs.mkdirSync(outDir, { recursive: true });
    wasm.setThreadsCount(1);
    wasm.setWasmPaths(path.join(__dirname, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    const s1 = loadRgba('sample1.jpg'), s3 = loadRgba('sample3.jpg');
    const faces = [[s1, 1460, 200, 260], [s3, 1060, 180, 260]];
    const cropsAt = (n) => faces.map(([im, x, y, s]) => cropResize(im, x, y, s, n));

    const graphs = [
        ['faceres', 'faceres.json', 224, 'hse', ['gender_pred/Sigmoid', 'global_pooling/Mean', 'age_pred/Softmax']],
        ['ssrnet', 'gender-ssrnet-imdb.json', 64, 'bgr', ['Identity']],
        ['blazeface', 'blazeface.json', 256, 'pm1', ['Identity', 'Identity_2', 'Identity_3', 'Identity_1']],
        ['faceresdeep', 'faceres-deep.json', 224, 'hse', ['gender_pred/Sigmoid', 'global_pooling/Mean', 'age_pred/Softmax']],
        ['gender', 'gender.json', 64, 'grey', ['Identity']],
    ];
    for (const [tag, file, n, kind, outs] of graphs) {
        const model = await loadGraph(file);
        const crops = cropsAt(n);
        const both = new Uint8Array(crops[0].length * 2);
        both.set(crops[0], 0); both.set(crops[1], crops[0].length);
        save(`${tag}_in.npy`, [2, n, n, 3], both, `uint8 RGB crops (sample1 1460,200,260; sample3 1060,180,260), prep '${kind}'`);
        const ys = await runEach(n, crops, kind, async (x) => {
            const r = model.execute(x, outs);
            return Array.isArray(r) ? r : [r];
        });
        ys.forEach((y, k) => save(`${tag}_out${k}.npy`, y.shape, y.data, `${file} output ${outs[k]}`));
        model.dispose();
    }

    const fr = faceapi.nets.faceRecognitionNet, ag = faceapi.nets.ageGenderNet;
    loadFaceApi(fr, 'face_recognition_model-weights_manifest.json');
    loadFaceApi(ag, 'age_gender_model-weights_manifest.json');
    for (const [tag, n, run, names] of [
        ['facerec', 150, async (x) => [await fr.forward(x)], ['descriptor']],
        ['agegender', 112, async (x) => { const o = await ag.forward(x); return [o.age, o.gender]; }, ['age', 'gender']],
    ]) {
        const crops = cropsAt(n);
        const both = new Uint8Array(crops[0].length * 2);
        both.set(crops[0], 0); both.set(crops[1], crops[0].length);
        save(`${tag}_in.npy`, [2, n, n, 3], both, 'uint8 RGB crops (as above), fed as float RGB 0..255');
        const ys = await runEach(n, crops, 'rgb', run);
        ys.forEach((y, k) => save(`${tag}_out${k}.npy`, y.shape, y.data, `face-api forward(): ${names[k]}`));
    }

    fs.writeFileSync(path.join(outDir, 'README'),
        'Golden data for tests/test_tfjs.c, written by tools/golden/tfjs/gen.js with\n' +
        `@tensorflow/tfjs ${tf.version.tfjs} (wasm backend, 1 thread) and @vladmandic/face-api ${faceapi.version}.\n` +
        'Inputs are crops of face-api demo/sample1.jpg and sample3.jpg (npm @vladmandic/face-api@1.7.15).\n' +
        'Outputs: each face run alone at batch 1, stacked along the batch axis.\n\n' +
        readme.join('\n') + '\n');
    console.log(readme.join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
