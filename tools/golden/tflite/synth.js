// synth.js — builds fuzz/seeds/tflite/synth.tflite, a tiny synthetic TFLite
// model (4 KB) that exercises the operators the expo models do not:
// DEQUANTIZE of float16, depthwise with multiplier 2, average pooling with
// SAME borders and a fused activation, PAD, MEAN, FULLY_CONNECTED with a fused
// RELU_N1_TO_1, SOFTMAX, CONCATENATION, RESHAPE by a shape tensor, MUL by a constant.
// It is the fuzz seed and, run through wasm TFLite by gen.js, a golden.
//
//   node synth.js            (writes the .tflite; gen.js then makes goldens)
//
// The flatbuffer is written front to back: a parent table first, then its
// children, so every offset points forward as the format requires.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../../..');
const outFile = path.join(root, 'fuzz/seeds/tflite/synth.tflite');

// ---- a minimal front-to-back flatbuffer writer ------------------------------
// Objects: T(fields) a table, fields = [[id, kind, value]] with kind one of
// i8 u8 i32 u32 f32 off; V(kind, items) a vector (kind i32, u8, off, f32,
// bytes: a Buffer); S(text) a string.
const T = (fields) => ({ t: 'table', fields });
const V = (kind, items) => ({ t: 'vec', kind, items });
const S = (text) => ({ t: 'str', text });

class Writer {
    constructor() { this.buf = Buffer.alloc(1 << 16); this.n = 0; }
    align(a) { while (this.n % a) this.buf[this.n++] = 0; }
    put(kind, v) {
        const size = { i8: 1, u8: 1, u16: 2, i32: 4, u32: 4, f32: 4 }[kind];
        this.align(size);
        const at = this.n;
        if (kind === 'i8') this.buf.writeInt8(v, at);
        else if (kind === 'u8') this.buf.writeUInt8(v, at);
        else if (kind === 'u16') this.buf.writeUInt16LE(v, at);
        else if (kind === 'i32') this.buf.writeInt32LE(v, at);
        else if (kind === 'u32') this.buf.writeUInt32LE(v, at);
        else this.buf.writeFloatLE(v, at);
        this.n += size;
        return at;
    }
    patch(at, target) { this.buf.writeUInt32LE(target - at, at); }
    // Write obj (and then its children); returns where its offset points.
    write(obj) {
        const pending = [];
        let at;
        if (obj.t === 'table') {
            const maxId = Math.max(-1, ...obj.fields.map((f) => f[0]));
            // table layout: soffset, then the fields, each 4-byte slot
            const offs = new Array(maxId + 1).fill(0);
            obj.fields.forEach((f, i) => { offs[f[0]] = 4 + 4 * i; });
            this.align(2);
            const vt = this.n;
            this.put('u16', 4 + 2 * (maxId + 1));
            this.put('u16', 4 + 4 * obj.fields.length);
            offs.forEach((o) => this.put('u16', o));
            this.align(4);
            at = this.n;
            this.put('i32', at - vt);
            for (const [, kind, v] of obj.fields) {
                if (kind === 'off') { pending.push([this.put('u32', 0), v]); continue; }
                const slot = this.n;
                this.put(kind, v);
                this.n = slot + 4; // every field gets a 4-byte slot
            }
        } else if (obj.t === 'str') {
            this.align(4);
            at = this.put('u32', obj.text.length);
            this.buf.write(obj.text, this.n, 'latin1');
            this.n += obj.text.length;
            this.buf[this.n++] = 0;
        } else if (obj.kind === 'bytes') {
            while ((this.n + 4) % 16) this.buf[this.n++] = 0; // data 16-aligned
            at = this.put('u32', obj.items.length);
            obj.items.copy(this.buf, this.n);
            this.n += obj.items.length;
        } else {
            this.align(4);
            at = this.put('u32', obj.items.length);
            for (const v of obj.items) {
                if (obj.kind === 'off') pending.push([this.put('u32', 0), v]);
                else this.put(obj.kind, v);
            }
        }
        for (const [site, child] of pending) this.patch(site, this.write(child));
        return at;
    }
}

// ---- the model -----------------------------------------------------------------
let seed = 12345;
function rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 * 2 - 1; }
function floats(n, scale = 0.5) { const b = Buffer.alloc(4 * n); for (let i = 0; i < n; i++) b.writeFloatLE(rand() * scale, 4 * i); return b; }
function ints(v) { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeInt32LE(x, 4 * i)); return b; }
function halfs(n) { // float16 of small values: sign, exponent 14 or 13, random mantissa
    const b = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) b.writeUInt16LE(((rand() < 0 ? 1 : 0) << 15) | ((13 + (i & 1)) << 10) | ((rand() + 1) * 511 & 1023), 2 * i);
    return b;
}

const FLOAT32 = 0, FLOAT16 = 1, INT32 = 2;
const tensors = [], buffers = [Buffer.alloc(0)];
function tensor(name, shape, type = FLOAT32, data = null) {
    let buffer = 0;
    if (data) { buffer = buffers.length; buffers.push(data); }
    tensors.push({ name, shape, type, buffer });
    return tensors.length - 1;
}

const codes = []; // builtin codes
const ops = [];
function op(code, inputs, outputs, optType = 0, opts = null) {
    let k = codes.indexOf(code);
    if (k < 0) { codes.push(code); k = codes.length - 1; }
    ops.push({ k, inputs, outputs, optType, opts });
}

const x = tensor('input', [1, 6, 6, 2]);
const w1 = tensor('conv/w', [4, 3, 3, 2], FLOAT32, floats(72));
const b1h = tensor('conv/b_f16', [4], FLOAT16, halfs(4));
const b1 = tensor('conv/b', [4]);
const t1 = tensor('conv/out', [1, 6, 6, 4]);
const wd = tensor('dw/w', [1, 3, 3, 8], FLOAT32, floats(72));
const bd = tensor('dw/b', [8], FLOAT32, floats(8, 0.1));
const t2 = tensor('dw/out', [1, 3, 3, 8]);
const t3 = tensor('pool/out', [1, 3, 3, 8]);
const pads = tensor('pad/paddings', [4, 2], INT32, ints([0, 0, 1, 0, 0, 1, 0, 0]));
const t4 = tensor('pad/out', [1, 4, 4, 8]);
const axes = tensor('mean/axes', [2], INT32, ints([1, -2]));
const t5 = tensor('mean/out', [1, 8]);
const wf = tensor('fc/w', [5, 8], FLOAT32, floats(40));
const bf = tensor('fc/b', [5], FLOAT32, floats(5, 0.1));
const t6 = tensor('fc/out', [1, 5]);
const t7 = tensor('softmax/out', [1, 5]);
const t8 = tensor('concat/out', [1, 10]);
const shp = tensor('reshape/shape', [3], INT32, ints([1, 2, 5]));
const t9 = tensor('reshape/out', [1, 2, 5]);
const c = tensor('mul/c', [5], FLOAT32, floats(5, 2));
const y = tensor('output', [1, 2, 5]);

// builtin codes and option tables (schema.fbs ids)
op(6, [b1h], [b1]);                                                   // DEQUANTIZE
op(3, [x, w1, b1], [t1], 1, T([[0, 'i8', 0], [1, 'i32', 1], [2, 'i32', 1], [3, 'i8', 3]])); // CONV_2D SAME, RELU6
op(4, [t1, wd, bd], [t2], 2, T([[0, 'i8', 0], [1, 'i32', 2], [2, 'i32', 2], [3, 'i32', 2]])); // DEPTHWISE SAME s2 x2
op(1, [t2], [t3], 5, T([[0, 'i8', 0], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 2], [4, 'i32', 2], [5, 'i8', 1]])); // AVG_POOL 2x2 SAME, RELU
op(34, [t3, pads], [t4], 22, T([]));                                  // PAD
op(40, [t4, axes], [t5], 27, T([[0, 'u8', 0]]));                      // MEAN
op(9, [t5, wf, bf], [t6], 8, T([[0, 'i8', 2]]));                      // FULLY_CONNECTED, RELU_N1_TO_1
op(25, [t6], [t7], 9, T([[0, 'f32', 1.0]]));                          // SOFTMAX
op(2, [t6, t7], [t8], 10, T([[0, 'i32', -1]]));                       // CONCATENATION
op(22, [t8, shp], [t9], 17, T([[0, 'off', V('i32', [1, 2, 5])]]));   // RESHAPE
op(18, [t9, c], [y], 21, T([]));                                      // MUL

const model = T([
    [0, 'u32', 3],
    [1, 'off', V('off', codes.map((code) => T([[0, 'i8', code], [2, 'i32', 1], [3, 'i32', code]])))],
    [2, 'off', V('off', [T([
        [0, 'off', V('off', tensors.map((t) => T([
            [0, 'off', V('i32', t.shape)], [1, 'i8', t.type], [2, 'u32', t.buffer], [3, 'off', S(t.name)]])))],
        [1, 'off', V('i32', [x])],
        [2, 'off', V('i32', [y])],
        [3, 'off', V('off', ops.map((o) => T([
            [0, 'u32', o.k], [1, 'off', V('i32', o.inputs)], [2, 'off', V('i32', o.outputs)],
            ...(o.opts ? [[3, 'u8', o.optType], [4, 'off', o.opts]] : [])])))],
        [4, 'off', S('main')]])])],
    [3, 'off', S('pasalista synthetic test model')],
    [4, 'off', V('off', buffers.map((b) => (b.length ? T([[0, 'off', V('bytes', b)]]) : T([]))))],
]);

const w = new Writer();
w.put('u32', 0);
w.buf.write('TFL3', 4, 'latin1');
w.n = 8;
w.patch(0, w.write(model));
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, w.buf.subarray(0, w.n));
console.log(`${outFile}: ${w.n} bytes, ${ops.length} operators, ${tensors.length} tensors`);
