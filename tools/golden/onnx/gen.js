// gen.js — golden outputs for tests/test_onnx.c from onnxruntime-node 1.30.0.
//
//   cd tools/golden/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm install
//   node gen.js            (from this folder; needs /usr/bin/python3 + PIL)
//
// 1. make_inputs.py writes tests/golden/onnx/<model>_in.npy (float16, two
//    faces cropped from face-api's demo/sample*.jpg, preprocessed per
//    docs/MODELS.md).
// 2. tools/make_user_onnx.py writes the two user architectures (random
//    weights, fixed seed) to build/onnx_user/.
// 3. Each model runs in ONNX Runtime, one face at a time (the files declare
//    batch 1), graph optimisations off so the reference is the plain maths;
//    the outputs of the two faces are stacked and written as float32
//    <model>_out<k>.npy, k in the model's output order.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const ort = require('onnxruntime-node');

const ROOT = path.resolve(__dirname, '../../..');
const OUT = path.join(ROOT, 'tests/golden/onnx');
const DEMO = process.env.FACEAPI_DEMO || '/tmp/npmpk/vladmandic-face-api-1.7.15/package/demo';
const MODELS = {
  fr_feature: 'models/faceplugin/fr_feature.onnx',
  fr_detect: 'models/faceplugin/fr_detect.onnx',
  fr_landmark: 'models/faceplugin/fr_landmark.onnx',
  fr_gender: 'models/faceplugin/fr_gender.onnx',
  fr_age: 'models/faceplugin/fr_age.onnx',
  fr_liveness: 'models/faceplugin/fr_liveness.onnx',
  facenet: 'build/onnx_user/facenet.onnx',
  iresnet50: 'build/onnx_user/iresnet50.onnx',
};
// The fuzz seeds (tools/golden/onnx/make_fuzz_seeds.py) double as small
// op-coverage goldens: two synthetic inputs each, sin and cos ramps.
const SEEDS = {
  conv_bn_pool: [2, 6, 6], flatten_gemm: [2, 4, 4], shape_chain: [2, 3, 4],
  elementwise: [3, 4, 4], concat_lpnorm: [2, 6, 6],
};

function writeSeedInput(name, chw) {
  const per = chw.reduce((a, b) => a * b, 1), data = new Float32Array(2 * per);
  for (let i = 0; i < per; i++) { data[i] = Math.sin(i * 0.7); data[per + i] = Math.cos(i * 0.3); }
  writeNpy(path.join(OUT, `seed_${name}_in.npy`), [2, ...chw], data);
}

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * Math.pow(2, e - 15);
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const off = 10 + hlen;
  if (descr !== '<f2' && descr !== '<f4') throw new Error(`${file}: dtype ${descr}`);
  for (let i = 0; i < n; i++)
    data[i] = descr === '<f2' ? halfToFloat(buf.readUInt16LE(off + 2 * i)) : buf.readFloatLE(off + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const buf = Buffer.alloc(10 + header.length + 4 * data.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1; buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], 10 + header.length + 4 * i);
  fs.writeFileSync(file, buf);
}

async function runModel(name, rel) {
  const sess = await ort.InferenceSession.create(path.join(ROOT, rel), {
    executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3,
  });
  const x = readNpy(path.join(OUT, `${name}_in.npy`));
  const batch = x.shape[0], per = x.data.length / batch, one = [1, ...x.shape.slice(1)];
  const outs = sess.outputNames.map(() => ({ shape: null, parts: [] }));
  for (let b = 0; b < batch; b++) {
    const t = new ort.Tensor('float32', x.data.slice(b * per, (b + 1) * per), one);
    const res = await sess.run({ [sess.inputNames[0]]: t });
    sess.outputNames.forEach((o, k) => {
      outs[k].shape = res[o].dims.slice();
      outs[k].parts.push(res[o].data);
    });
  }
  outs.forEach((o, k) => {
    const shape = [o.shape[0] * batch, ...o.shape.slice(1)];
    const data = new Float32Array(o.parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of o.parts) { data.set(p, at); at += p.length; }
    writeNpy(path.join(OUT, `${name}_out${k}.npy`), shape, data);
  });
  console.log(name, sess.outputNames.map((o, k) => `${o}${JSON.stringify(outs[k].shape)}`).join(' '));
}

async function main() {
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'make_inputs.py'), DEMO, OUT], { stdio: 'inherit' });
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/make_user_onnx.py'), path.join(ROOT, 'build/onnx_user')], { stdio: 'inherit' });
  const only = process.argv.slice(2);
  for (const [name, rel] of Object.entries(MODELS))
    if (!only.length || only.includes(name)) await runModel(name, rel);
  for (const [name, chw] of Object.entries(SEEDS)) {
    writeSeedInput(name, chw);
    await runModel(`seed_${name}`, `fuzz/seeds/onnx/${name}.onnx`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
