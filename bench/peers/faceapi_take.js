// faceapi_take.js — the peer for bench/take: what a user of face-api would
// run to get every face's descriptor from a class photo: SSD MobileNetV1
// detection + 68-point landmarks + the 128-d recognition net, on
// TensorFlow.js's wasm backend (1 thread: tfjs disables threads in Node).
//
//   node faceapi_take.js PHOTO.jpg MODELS_DIR [RUNS]
// prints one JSON line: {"faces": N, "ms": [per-run milliseconds...]}
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const jpeg = require('jpeg-js');

function loadNet(net, dir, manifest) {
    const groups = JSON.parse(fs.readFileSync(path.join(dir, manifest), 'utf8'));
    const specs = [], bufs = [];
    for (const g of groups) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    }
    const all = Buffer.concat(bufs);
    net.loadFromWeightMap(tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), specs));
}

async function main() {
    const [photo, modelsDir, runsArg] = process.argv.slice(2);
    const runs = Number(runsArg || 5);
    wasm.setThreadsCount(1);
    wasm.setWasmPaths(path.join(__dirname, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    const dir = path.join(modelsDir, 'face-api');
    loadNet(faceapi.nets.ssdMobilenetv1, dir, 'ssd_mobilenetv1_model-weights_manifest.json');
    loadNet(faceapi.nets.faceLandmark68Net, dir, 'face_landmark_68_model-weights_manifest.json');
    loadNet(faceapi.nets.faceRecognitionNet, dir, 'face_recognition_model-weights_manifest.json');
    const img = jpeg.decode(fs.readFileSync(photo), { useTArray: true, formatAsRGBA: false });
    const times = [];
    let faces = 0;
    for (let i = 0; i < runs + 1; i++) {
        const t0 = process.hrtime.bigint();
        // Decoding is timed too, as pasalista's figure includes its JPEG decode.
        const decoded = i === 0 ? img : jpeg.decode(fs.readFileSync(photo), { useTArray: true, formatAsRGBA: false });
        const x = tf.tensor3d(decoded.data, [decoded.height, decoded.width, 3], 'int32');
        const res = await faceapi.detectAllFaces(x, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }))
            .withFaceLandmarks().withFaceDescriptors();
        x.dispose();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        faces = res.length;
        if (i > 0) times.push(ms); // the first run warms up the kernels
    }
    console.log(JSON.stringify({ faces, ms: times, backend: tf.getBackend(), tfjs: tf.version.tfjs }));
}
main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
