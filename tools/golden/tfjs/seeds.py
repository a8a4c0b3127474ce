#!/usr/bin/python3
"""seeds.py — small synthetic fuzz seeds for fuzz/fuzz_tfjs.c and fuzz_json.c.

    /usr/bin/python3 tools/golden/tfjs/seeds.py

Writes fuzz/seeds/tfjs/*.bin (4-byte little-endian json length, model.json,
weight bytes) and fuzz/seeds/json/*.json. Every model is made up here (no
npm model files), small, and together they use every operator the reader
converts.
"""
import base64
import json
import os
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '../../..'))


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Model:
    def __init__(self):
        self.nodes, self.weights, self.data = [], [], b''

    def const(self, name, shape, values, dtype='float32', quant=None):
        self.nodes.append({'name': name, 'op': 'Const'})
        w = {'name': name, 'shape': shape, 'dtype': dtype}
        if quant == 'float16':
            w['quantization'] = {'dtype': 'float16'}
            self.data += b''.join(struct.pack('<e', v) for v in values)
        elif quant == 'uint8':
            w['quantization'] = {'dtype': 'uint8', 'scale': 0.02, 'min': -1.0}
            self.data += bytes(int((v + 1.0) / 0.02) & 255 for v in values)
        elif dtype == 'int32':
            self.data += b''.join(struct.pack('<i', v) for v in values)
        else:
            self.data += b''.join(struct.pack('<f', v) for v in values)
        self.weights.append(w)
        return name

    def input(self, name, shape):
        self.nodes.append({'name': name, 'op': 'Placeholder', 'attr': {
            'shape': {'shape': {'dim': [{'size': str(d)} for d in shape]}}}})
        return name

    def op(self, name, op, inputs, **attr):
        self.nodes.append({'name': name, 'op': op, 'input': inputs, 'attr': attr})
        return name

    def pack(self, signature=None):
        doc = {'format': 'graph-model', 'modelTopology': {'node': self.nodes},
               'weightsManifest': [{'paths': ['w.bin'], 'weights': self.weights}]}
        if signature:
            doc['signature'] = signature
        text = json.dumps(doc).encode()
        return struct.pack('<I', len(text)) + text + self.data


def ints(*v):
    return {'list': {'i': [str(x) for x in v]}}


def s(v):
    return {'s': b64(v)}


def vals(n, k=1.0):
    return [((i * 7 % 11) - 5) / 8.0 * k for i in range(n)]


def conv_model():
    m = Model()
    x = m.input('x', [-1, 6, 6, 2])
    m.const('w', [3, 3, 2, 4], vals(72))
    m.const('b', [4], vals(4), quant='float16')
    m.const('dw', [3, 3, 4, 1], vals(36), quant='uint8')
    m.const('slope', [4], vals(4))
    m.const('axes', [2], [1, 2], 'int32')
    c = m.op('c', '_FusedConv2D', [x, 'w', 'b'], strides=ints(1, 2, 2, 1), padding=s('SAME'),
             data_format=s('NHWC'), dilations=ints(1, 1, 1, 1), num_args={'i': '1'},
             fused_ops={'list': {'s': [b64('BiasAdd'), b64('Relu6')]}})
    d = m.op('d', 'FusedDepthwiseConv2dNative', [c, 'dw', 'b', 'slope'], strides=ints(1, 1, 1, 1),
             padding=s('EXPLICIT'), explicit_paddings=ints(0, 0, 1, 1, 1, 1, 0, 0),
             fused_ops={'list': {'s': [b64('BiasAdd'), b64('Prelu')]}})
    p = m.op('p', 'MaxPool', [d], ksize=ints(1, 2, 2, 1), strides=ints(1, 2, 2, 1), padding=s('SAME'))
    a = m.op('a', 'AvgPool', [d], ksize=ints(1, 3, 3, 1), strides=ints(1, 3, 3, 1), padding=s('VALID'))
    q = m.op('q', 'AddV2', [p, a])
    m.op('mean', 'Mean', [q, 'axes'], keep_dims={'b': True})
    return m.pack()


def dense_model():
    m = Model()
    x = m.input('x', [-1, 2, 2, 3])
    m.const('shape', [2], [-1, 12], 'int32')
    m.const('k', [12, 5], vals(60))
    m.const('kb', [5], vals(5))
    m.const('k2', [5, 12], vals(60))
    m.const('pads', [2, 2], [0, 0, 1, 2], 'int32')
    m.const('cax', [], [1], 'int32')
    m.const('b', [2], [0, 1], 'int32')
    m.const('e', [2], [0, 7], 'int32')
    m.const('st', [2], [1, 2], 'int32')
    m.const('dim', [], [-1], 'int32')
    m.const('half', [], [0.5])
    r = m.op('r', 'Reshape', [x, 'shape'])
    f = m.op('f', '_FusedMatMul', [r, 'k', 'kb'], transpose_a={'b': False}, transpose_b={'b': False},
             fused_ops={'list': {'s': [b64('BiasAdd'), b64('LeakyRelu')]}}, leakyrelu_alpha={'f': 0.1})
    g = m.op('g', 'MatMul', [r, 'k2'], transpose_b={'b': True})
    sg = m.op('sg', 'Sigmoid', [g])
    t = m.op('t', 'Tanh', [f])
    u = m.op('u', 'Sub', [sg, t])
    v = m.op('v', 'Mul', [u, 'half'])
    w = m.op('w', 'RealDiv', [v, 'half'])
    pd = m.op('pd', 'Pad', [w, 'pads'])
    cc = m.op('cc', 'ConcatV2', [pd, pd, 'cax'], N={'i': '2'})
    sl = m.op('sl', 'StridedSlice', [cc, 'b', 'e', 'st'], begin_mask={'i': '1'}, end_mask={'i': '1'},
              shrink_axis_mask={'i': '0'}, new_axis_mask={'i': '0'}, ellipsis_mask={'i': '0'})
    ex = m.op('ex', 'ExpandDims', [sl, 'dim'])
    sq = m.op('sq', 'Squeeze', [ex], squeeze_dims=ints(2))
    sm = m.op('sm', 'Softmax', [sq])
    m.op('out', 'Identity', [sm, '^x'])
    return m.pack(signature={'outputs': {'out:0': {'name': 'out:0'}}})


def slice_model():
    m = Model()
    x = m.input('x', [1, 4, 3])
    m.const('b', [3], [0, -1, 0], 'int32')
    m.const('e', [3], [0, 0, 0], 'int32')
    m.const('st', [3], [1, 1, 1], 'int32')
    m.const('c', [3], [1.0, 2.0, 3.0])
    sl = m.op('sl', 'StridedSlice', [x, 'b', 'e', 'st'], begin_mask={'i': '1'}, end_mask={'i': '5'},
              shrink_axis_mask={'i': '2'}, new_axis_mask={'i': '4'})
    y = m.op('y', 'Maximum', [sl, 'c'])
    z = m.op('z', 'Minimum', [y, 'c'])
    n = m.op('n', 'Neg', [z])
    a = m.op('a', 'Abs', [n])
    e = m.op('e2', 'Exp', [a])
    lg = m.op('lg', 'Log', [e])
    sq = m.op('sq', 'Sqrt', [lg])
    rs = m.op('rs', 'Rsqrt', [sq])
    r = m.op('r', 'Relu', [rs])
    m.op('r6', 'Relu6', [r])
    return m.pack()


def main():
    out = os.path.join(ROOT, 'fuzz/seeds/tfjs')
    os.makedirs(out, exist_ok=True)
    for name, data in [('conv', conv_model()), ('dense', dense_model()), ('slice', slice_model())]:
        with open(os.path.join(out, name + '.bin'), 'wb') as f:
            f.write(data)
    jdir = os.path.join(ROOT, 'fuzz/seeds/json')
    os.makedirs(jdir, exist_ok=True)
    samples = {
        'object': '{"a": [1, -2.5e-3, true, false, null], "b": {"c": "d\\u00e9\\ud83d\\ude00\\n"}}',
        'numbers': '[0, -0, 1e308, 5e-324, 123456789012345678, 0.1, -1.5E+3]',
        'escapes': '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f"',
        'nested': '[[[[{"x": [[[]]]}]]]]',
        'manifest': json.dumps([{'paths': ['a.bin'], 'weights': [
            {'name': 'w', 'shape': [3, 3, 2, 4], 'dtype': 'float32',
             'quantization': {'dtype': 'uint8', 'scale': 0.01, 'min': -1.2}}]}]),
    }
    for name, text in samples.items():
        with open(os.path.join(jdir, name + '.json'), 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
