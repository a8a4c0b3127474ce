// synth.js — builds fuzz/seeds/tflite/synth.tflite and synth2.tflite, tiny
// synthetic TFLite models (4-6 KB) that exercise the operators the expo
// models do not. synth: DEQUANTIZE of float16, depthwise with multiplier 2,
// average pooling with SAME borders and a fused activation, PAD, MEAN,
// FULLY_CONNECTED with a fused RELU_N1_TO_1, SOFTMAX, CONCATENATION, RESHAPE
// by a shape tensor, MUL by a constant. synth2: dilated VALID conv,
// LEAKY_RELU, PRELU, MAX_POOL with a fused RELU6, TRANSPOSE, PADV2, ABS,
// SQRT, LOGISTIC, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, RSQRT, LOG, TANH, SUM,
// REDUCE_MAX, EXP, DIV, SUB, RELU6, RESHAPE by options, L2_NORMALIZATION, POW.
// They are fuzz seeds and, run through wasm TFLite by gen.js, goldens.
//
//   node synth.js            (writes the .tflite files; gen.js then makes goldens)
//
// The flatbuffer is written front to back: a parent table first, then its
// children, so every offset points forward as the format requires.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../../..');
const outDir = path.join(root, 'fuzz/seeds/tflite');

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

// ---- the models ----------------------------------------------------------------
let seed = 12345;
function rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 * 2 - 1; }
function floats(n, scale = 0.5, offset = 0) { const b = Buffer.alloc(4 * n); for (let i = 0; i < n; i++) b.writeFloatLE(offset + rand() * scale, 4 * i); return b; }
function ints(v) { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeInt32LE(x, 4 * i)); return b; }
function halfs(n) { // float16 of small values: sign, exponent 14 or 13, random mantissa
    const b = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) b.writeUInt16LE(((rand() < 0 ? 1 : 0) << 15) | ((13 + (i & 1)) << 10) | ((rand() + 1) * 511 & 1023), 2 * i);
    return b;
}

const FLOAT32 = 0, FLOAT16 = 1, INT32 = 2;

// A model under construction: tensors, buffers, operator codes, operators.
class Model {
    constructor() { this.tensors = []; this.buffers = [Buffer.alloc(0)]; this.codes = []; this.ops = []; }
    tensor(name, shape, type = FLOAT32, data = null) {
        let buffer = 0;
        if (data) { buffer = this.buffers.length; this.buffers.push(data); }
        this.tensors.push({ name, shape, type, buffer });
        return this.tensors.length - 1;
    }
    op(code, inputs, outputs, optType = 0, opts = null) {
        let k = this.codes.indexOf(code);
        if (k < 0) { this.codes.push(code); k = this.codes.length - 1; }
        this.ops.push({ k, inputs, outputs, optType, opts });
    }
    // The flatbuffer bytes (schema.fbs field ids).
    bytes(input, output, description) {
        const model = T([
            [0, 'u32', 3],
            [1, 'off', V('off', this.codes.map((code) => T([[0, 'i8', code], [2, 'i32', 1], [3, 'i32', code]])))],
            [2, 'off', V('off', [T([
                [0, 'off', V('off', this.tensors.map((t) => T([
                    [0, 'off', V('i32', t.shape)], [1, 'i8', t.type], [2, 'u32', t.buffer], [3, 'off', S(t.name)]])))],
                [1, 'off', V('i32', [input])],
                [2, 'off', V('i32', [output])],
                [3, 'off', V('off', this.ops.map((o) => T([
                    [0, 'u32', o.k], [1, 'off', V('i32', o.inputs)], [2, 'off', V('i32', o.outputs)],
                    ...(o.opts ? [[3, 'u8', o.optType], [4, 'off', o.opts]] : [])])))],
                [4, 'off', S('main')]])])],
            [3, 'off', S(description)],
            [4, 'off', V('off', this.buffers.map((b) => (b.length ? T([[0, 'off', V('bytes', b)]]) : T([]))))],
        ]);
        const w = new Writer();
        w.put('u32', 0);
        w.buf.write('TFL3', 4, 'latin1');
        w.n = 8;
        w.patch(0, w.write(model));
        return w.buf.subarray(0, w.n);
    }
}

// synth.tflite: the operators of a small CNN head.
function synth1() {
    const m = new Model(), t = m.tensor.bind(m), op = m.op.bind(m);
    const x = t('input', [1, 6, 6, 2]);
    const w1 = t('conv/w', [4, 3, 3, 2], FLOAT32, floats(72));
    const b1h = t('conv/b_f16', [4], FLOAT16, halfs(4));
    const b1 = t('conv/b', [4]);
    const t1 = t('conv/out', [1, 6, 6, 4]);
    const wd = t('dw/w', [1, 3, 3, 8], FLOAT32, floats(72));
    const bd = t('dw/b', [8], FLOAT32, floats(8, 0.1));
    const t2 = t('dw/out', [1, 3, 3, 8]);
    const t3 = t('pool/out', [1, 3, 3, 8]);
    const pads = t('pad/paddings', [4, 2], INT32, ints([0, 0, 1, 0, 0, 1, 0, 0]));
    const t4 = t('pad/out', [1, 4, 4, 8]);
    const axes = t('mean/axes', [2], INT32, ints([1, -2]));
    const t5 = t('mean/out', [1, 8]);
    const wf = t('fc/w', [5, 8], FLOAT32, floats(40));
    const bf = t('fc/b', [5], FLOAT32, floats(5, 0.1));
    const t6 = t('fc/out', [1, 5]);
    const t7 = t('softmax/out', [1, 5]);
    const t8 = t('concat/out', [1, 10]);
    const shp = t('reshape/shape', [3], INT32, ints([1, 2, 5]));
    const t9 = t('reshape/out', [1, 2, 5]);
    const c = t('mul/c', [5], FLOAT32, floats(5, 2));
    const y = t('output', [1, 2, 5]);
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
    return m.bytes(x, y, 'pasalista synthetic test model');
}

// synth2.tflite: element-wise and data-movement operators.
function synth2() {
    const m = new Model(), t = m.tensor.bind(m), op = m.op.bind(m);
    const x = t('input', [1, 8, 8, 3]);
    const w = t('conv/w', [4, 3, 3, 3], FLOAT32, floats(108));
    const b = t('conv/b', [4], FLOAT32, floats(4, 0.1));
    const t0 = t('conv/out', [1, 4, 4, 4]);
    const t1 = t('leaky/out', [1, 4, 4, 4]);
    const slope = t('prelu/slope', [1, 1, 4], FLOAT32, floats(4, 0.3));
    const t2 = t('prelu/out', [1, 4, 4, 4]);
    const t3 = t('maxpool/out', [1, 2, 2, 4]);
    const perm = t('transpose/perm', [4], INT32, ints([0, 3, 1, 2]));
    const t4 = t('transpose/out', [1, 4, 2, 2]);
    const pads = t('padv2/paddings', [4, 2], INT32, ints([0, 0, 0, 0, 1, 1, 0, 1]));
    const pv = t('padv2/value', [], FLOAT32, floats(1, 0, 0.5));
    const t5 = t('padv2/out', [1, 4, 4, 3]);
    const t6 = t('abs/out', [1, 4, 4, 3]);
    const t7 = t('sqrt/out', [1, 4, 4, 3]);
    const t8 = t('logistic/out', [1, 4, 4, 3]);
    const t9 = t('sqdiff/out', [1, 4, 4, 3]);
    const lo = t('maximum/c', [3], FLOAT32, floats(3, 0.02, 0.05));
    const t10 = t('maximum/out', [1, 4, 4, 3]);
    const hi = t('minimum/c', [3], FLOAT32, floats(3, 5, 20));
    const t11 = t('minimum/out', [1, 4, 4, 3]);
    const t12 = t('rsqrt/out', [1, 4, 4, 3]);
    const t13 = t('log/out', [1, 4, 4, 3]);
    const t14 = t('tanh/out', [1, 4, 4, 3]);
    const ax3 = t('sum/axes', [1], INT32, ints([3]));
    const t15 = t('sum/out', [1, 4, 4, 1]);
    const ax12 = t('max/axes', [2], INT32, ints([1, 2]));
    const t16 = t('max/out', [1, 3]);
    const t17 = t('exp/out', [1, 3]);
    const d = t('div/c', [3], FLOAT32, floats(3, 0.5, 1.5));
    const t18 = t('div/out', [1, 3]);
    const e = t('sub/c', [3], FLOAT32, floats(3, 1, 0));
    const t19 = t('sub/out', [1, 3]);
    const t20 = t('relu6/out', [1, 3]);
    const t21 = t('reshape/out', [1, 16]);
    const t22 = t('l2norm/out', [1, 16]);
    const p = t('pow/c', [1], FLOAT32, floats(1, 0, 2));
    const t23 = t('pow/out', [1, 3]);
    const y = t('output', [1, 22]);
    op(3, [x, w, b], [t0], 1, T([[0, 'i8', 1], [1, 'i32', 1], [2, 'i32', 1], [3, 'i8', 0], [4, 'i32', 2], [5, 'i32', 2]])); // CONV_2D VALID dilation 2
    op(98, [t0], [t1], 75, T([[0, 'f32', 0.2]]));                         // LEAKY_RELU
    op(54, [t1, slope], [t2]);                                            // PRELU
    op(17, [t2], [t3], 5, T([[0, 'i8', 1], [1, 'i32', 2], [2, 'i32', 2], [3, 'i32', 2], [4, 'i32', 2], [5, 'i8', 3]])); // MAX_POOL 2x2 VALID, RELU6
    op(39, [t3, perm], [t4]);                                             // TRANSPOSE
    op(60, [t4, pads, pv], [t5]);                                         // PADV2
    op(101, [t5], [t6]);                                                  // ABS
    op(75, [t6], [t7]);                                                   // SQRT
    op(14, [t7], [t8]);                                                   // LOGISTIC
    op(99, [t8, t5], [t9]);                                               // SQUARED_DIFFERENCE
    op(55, [t9, lo], [t10]);                                              // MAXIMUM
    op(57, [t10, hi], [t11]);                                             // MINIMUM
    op(76, [t11], [t12]);                                                 // RSQRT
    op(73, [t12], [t13]);                                                 // LOG
    op(28, [t13], [t14]);                                                 // TANH
    op(74, [t14, ax3], [t15], 27, T([[0, 'u8', 1]]));                     // SUM keep_dims
    op(82, [t14, ax12], [t16], 27, T([[0, 'u8', 0]]));                    // REDUCE_MAX
    op(47, [t16], [t17]);                                                 // EXP
    op(42, [t17, d], [t18], 29, T([[0, 'i8', 1]]));                       // DIV, RELU
    op(41, [t18, e], [t19], 28, T([[0, 'i8', 0]]));                       // SUB
    op(21, [t19], [t20]);                                                 // RELU6
    op(22, [t15], [t21], 17, T([[0, 'off', V('i32', [1, 16])]]));        // RESHAPE by options only
    op(11, [t21], [t22], 12, T([[0, 'i8', 0]]));                          // L2_NORMALIZATION
    op(78, [t17, p], [t23]);                                              // POW
    op(2, [t20, t22, t23], [y], 10, T([[0, 'i32', 1]]));                  // CONCATENATION
    return m.bytes(x, y, 'pasalista synthetic test model 2');
}

for (const [name, build] of [['synth.tflite', synth1], ['synth2.tflite', synth2]]) {
    const bytes = build();
    const file = path.join(outDir, name);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(file, bytes);
    console.log(`${file}: ${bytes.length} bytes`);
}
