// engine_ort.js — the ONNX peer of bench/engine: onnxruntime-node 1.30.0 on
// the CPU, at its best settings: every graph optimisation, denormals
// flushed to zero (the faceplugin models carry many denormal weights; ORT
// is 7-40x slower without it, docs/PEERS.md), sequential execution, and
// intra-op threads that sleep instead of spinning (--spin 1 to compare:
// on a shared 2-vCPU VM a spinning pool stalls when the other vCPU is busy).
//
//   node engine_ort.js --model M.onnx --input X.npy [--threads 1,2]
//                      [--warmup 3] [--max-runs 50] [--out Y.npy] [--spin 0]
// prints one JSON line per thread count; --out writes output 0 of the
// first session, to check that both runtimes computed the same thing.
//
// Observed with 1.30.0 (fr_feature, 1 thread): the denormal setting of the
// FIRST session created in a process holds for every later session of that
// process (10 ms each when the first had it, 64 ms each when it had not),
// so every session here sets it, and nothing else runs ORT before them.
'use strict';
const { readNpy, writeNpy, parseArgs, timeRuns, fail } = require('./engine_common.js');
const ort = require('onnxruntime-node');

async function session(model, threads, spin) {
    return ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        logSeverityLevel: 3,
        extra: { session: {
            set_denormal_as_zero: '1',
            'intra_op.allow_spinning': spin ? '1' : '0',
        } },
    });
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const x = readNpy(a.input);
    const threads = (a.threads || '1,2').split(',').map(Number);
    let first = true;
    for (const t of threads) {
        const s = await session(a.model, t, Number(a.spin || 0));
        const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
        let out = null;
        const r = await timeRuns(async () => { out = await s.run(feeds); },
            Number(a.warmup || 3), Number(a['max-runs'] || 50));
        if (first && a.out) {
            const y = out[s.outputNames[0]];
            writeNpy(a.out, y.dims, y.data);
        }
        first = false;
        console.log(JSON.stringify({ peer: 'onnxruntime-node', version: require('onnxruntime-node/package.json').version,
            threads: t, ...r }));
        await s.release();
    }
}
main().catch(fail);
