// engine_common.js — what the bench/engine peer scripts share: .npy in and
// out, argument parsing, and the timing protocol (the same as
// bench/bench_engine.c's, so both sides are measured alike).
//
// Timing: a few warm-up runs, then as many runs as fit in about a second
// (at least 5, at most 50); each run's wall time and the process's CPU
// time (user + system) are recorded and the medians reported. On the
// shared 2-vCPU VMs, CPU time is the dependable figure for one thread:
// time spent waiting for a CPU is not the runtime's.
'use strict';
const fs = require('fs');

function readNpy(file) {
    const buf = fs.readFileSync(file);
    if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
    const hlen = buf.readUInt16LE(8);
    const header = buf.toString('latin1', 10, 10 + hlen);
    const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
    if (descr !== '<f4') throw new Error(`${file}: dtype ${descr}, want <f4`);
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',')
        .filter((s) => s.trim()).map(Number);
    const off = 10 + hlen, n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
    return { shape, data };
}

function writeNpy(file, shape, data) {
    const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
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

// --key value pairs into an object; bare words into ._
function parseArgs(argv) {
    const o = { _: [] };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[++i];
        else o._.push(argv[i]);
    }
    return o;
}

function median(a) {
    const s = a.slice().sort((x, y) => x - y);
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Time `once` (async, returns when the outputs are computed):
// {wall_ms, cpu_ms, cpu_min_ms, runs}: medians, and the fastest run's CPU
// time (the least disturbed by other work on the machine).
async function timeRuns(once, warmup, maxRuns) {
    for (let i = 0; i < warmup; i++) await once();
    const wall = [], cpu = [];
    let spent = 0;
    for (let i = 0; i < maxRuns && (i < 5 || spent < 1000); i++) {
        const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
        await once();
        const t = Number(process.hrtime.bigint() - t0) / 1e6;
        const c = process.cpuUsage(c0);
        wall.push(t);
        cpu.push((c.user + c.system) / 1000);
        spent += t;
    }
    return { wall_ms: median(wall), cpu_ms: median(cpu), cpu_min_ms: Math.min(...cpu), runs: wall.length };
}

function fail(e) {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
}

module.exports = { readNpy, writeNpy, parseArgs, median, timeRuns, fail };
