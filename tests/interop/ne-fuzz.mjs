// ne-fuzz.mjs: drives two Negentropy harnesses (the reference test suite's
// stdin/stdout line protocol) through a reconciliation of two random sets,
// as the reference suite's fuzz.pl does: harness 1 initiates, harness 2
// responds, this script relays the messages, applies have/need to its model
// of both sets and checks that both end with the union. Exit status 0 only
// when they converged.
//
//   node ne-fuzz.mjs --h1 CMD --h2 CMD [--recs N] [--p1 P --p2 P --p3 P]
//        [--fsl1 N] [--fsl2 N] [--seed S] [--clustered] [--trace FILE]
//
// Items: timestamps 1677970534 + small offsets (seconds, as in the
// reference suite: the npm implementation's varints are 32-bit), random ids.
// --p1/--p2/--p3: weights of "only in 1", "only in 2", "in both".
// --trace writes every message (DELTATRACE1/2 HEX) to FILE for comparisons.
//
//   node ne-fuzz.mjs --compare FILE1 FILE2 [--semantic]
// compares two traces byte for byte, or (--semantic) range by range with
// every bound read as (timestamp, id prefix padded to 32 bytes), so that a
// bound sent with a longer zero-padded prefix counts as the same bound.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import readline from 'node:readline';

function parseArgs(argv) {
	const o = { recs: 1000, p1: 1, p2: 1, p3: 98, fsl1: 0, fsl2: 0, seed: 1, clustered: false };
	for (let i = 0; i < argv.length; i++) {
		const k = argv[i].replace(/^--/, '');
		if (k === 'clustered') { o.clustered = true; continue; }
		const v = argv[++i];
		if (v === undefined) throw new Error('missing value for ' + k);
		o[k] = ['h1', 'h2', 'trace'].includes(k) ? v : Number(v);
	}
	if (!o.h1 || !o.h2) throw new Error('need --h1 and --h2');
	return o;
}

// xorshift128+ style PRNG (deterministic per seed; only needs to be repeatable)
function prng(seed) {
	let a = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n, b = 0x243f6a8885a308d3n ^ BigInt(seed);
	const M = (1n << 64n) - 1n;
	a &= M; b &= M;
	const next = () => {
		let s1 = a; const s0 = b;
		a = s0; s1 ^= (s1 << 23n) & M; s1 ^= s1 >> 17n; s1 ^= s0; s1 ^= s0 >> 26n;
		b = s1;
		return (a + b) & M;
	};
	return {
		u32: () => Number(next() >> 32n),
		float: () => Number(next() >> 11n) / 2 ** 53,
		id: () => { let h = ''; for (let i = 0; i < 4; i++) h += next().toString(16).padStart(16, '0'); return h; },
	};
}

function startHarness(cmd, fsl) {
	const env = { ...process.env };
	delete env.FRAMESIZELIMIT;
	if (fsl) env.FRAMESIZELIMIT = String(fsl);
	const child = spawn('/bin/sh', ['-c', cmd], { env, stdio: ['pipe', 'pipe', 'inherit'] });
	const lines = [], waiters = [];
	let closed = false;
	readline.createInterface({ input: child.stdout }).on('line', (l) => {
		if (waiters.length) waiters.shift()(l); else lines.push(l);
	}).on('close', () => { closed = true; while (waiters.length) waiters.shift()(null); });
	child.stdin.on('error', () => {});
	return {
		child,
		send: (s) => child.stdin.write(s),
		next: () => lines.length ? Promise.resolve(lines.shift())
			: closed ? Promise.resolve(null) : new Promise((r) => waiters.push(r)),
		stop: () => { child.stdin.end(); child.kill('SIGKILL'); },
	};
}

// Decodes one message into its ranges (strings), bounds normalised.
function normalise(hexmsg) {
	const b = Buffer.from(hexmsg, 'hex');
	let p = 0, last = 0n;
	const INF = (1n << 64n) - 1n;
	const need = (n) => { if (p + n > b.length) throw new Error('truncated message in trace'); };
	const varint = () => {
		let v = 0n;
		for (;;) { need(1); const c = b[p++]; v = (v << 7n) | BigInt(c & 0x7f); if (!(c & 0x80)) return v; }
	};
	need(1);
	const out = ['v' + b[p++].toString(16)];
	while (p < b.length) {
		const e = varint();
		let ts = e === 0n ? INF : e - 1n + last;
		if (ts > INF) ts = INF;
		last = ts;
		const len = Number(varint());
		need(len);
		const id = Buffer.alloc(32);
		b.copy(id, 0, p, p + len); p += len;
		const mode = Number(varint());
		let payload = '';
		if (mode === 1) { need(16); payload = b.subarray(p, p + 16).toString('hex'); p += 16; }
		else if (mode === 2) { const n = Number(varint()); need(32 * n); payload = n + ':' + b.subarray(p, p + 32 * n).toString('hex'); p += 32 * n; }
		out.push(`${ts}/${id.toString('hex')}/${mode}/${payload}`);
	}
	return out.join(' ');
}

function compare(f1, f2, semantic) {
	const a = readFileSync(f1, 'utf8').trim().split('\n'), b = readFileSync(f2, 'utf8').trim().split('\n');
	const n = Math.max(a.length, b.length);
	for (let i = 0; i < n; i++) {
		if (a[i] === b[i]) continue;
		if (semantic && a[i] && b[i]) {
			const [ta, ha] = a[i].split(' '), [tb, hb] = b[i].split(' ');
			if (ta === tb && normalise(ha || '') === normalise(hb || '')) continue;
		}
		console.error(`ne-fuzz: traces differ at message ${i + 1}: ${(a[i] || '(none)').slice(0, 100)} vs ${(b[i] || '(none)').slice(0, 100)}`);
		process.exit(1);
	}
	console.log(`same: ${n} messages` + (semantic ? ' (semantically)' : ' (byte for byte)'));
}

async function main() {
	const args = process.argv.slice(2);
	if (args[0] === '--compare') return compare(args[1], args[2], args[3] === '--semantic');
	const o = parseArgs(args);
	const r = prng(o.seed);
	const tot = o.p1 + o.p2 + o.p3;
	const q1 = o.p1 / tot, q2 = (o.p1 + o.p2) / tot;
	const ids1 = new Set(), ids2 = new Set();
	let in1 = '', in2 = '';
	const place = (created, id, mode) => {
		if (mode < q1 || mode >= q2) { in1 += `item,${created},${id}\n`; ids1.add(id); }
		if (mode >= q1) { in2 += `item,${created},${id}\n`; ids2.add(id); }
	};
	if (o.clustered) {
		let curr = 0;
		const segs = r.u32() % 2000;
		for (let s = 0; s < segs; s++) {
			const n = (r.u32() % 50) + 1, mode = r.float();
			for (let k = 0; k < n; k++) place(1677970534 + curr++, r.id(), mode);
		}
	} else {
		for (let k = 0; k < o.recs; k++) place(1677970534 + (r.u32() % Math.max(o.recs, 1)), r.id(), r.float());
	}

	const h1 = startHarness(o.h1, o.fsl1), h2 = startHarness(o.h2, o.fsl2);
	h1.send(in1 + 'seal\ninitiate\n');
	h2.send(in2 + 'seal\n');
	const trace = [];
	let rounds = 0, up = 0, down = 0;
	const fail = (m) => { h1.stop(); h2.stop(); throw new Error(m); };
	for (;;) {
		const l = await h1.next();
		if (l === null) fail('harness 1 ended early');
		let m;
		if ((m = /^(have|need),([0-9a-f]{64})$/.exec(l))) {
			if (m[1] === 'need') ids1.add(m[2]); else ids2.add(m[2]);
			continue;
		}
		if (l === 'done') break;
		if (!(m = /^msg,([0-9a-f]*)$/.exec(l))) fail('unexpected line from 1: ' + l.slice(0, 80));
		trace.push('DELTATRACE1 ' + m[1]);
		up += m[1].length / 2;
		if (o.fsl1 && m[1].length / 2 > o.fsl1) fail('harness 1 exceeded its frame size limit');
		h2.send(`msg,${m[1]}\n`);
		const l2 = await h2.next();
		if (l2 === null) fail('harness 2 ended early');
		if (!(m = /^msg,([0-9a-f]*)$/.exec(l2))) fail('unexpected line from 2: ' + l2.slice(0, 80));
		trace.push('DELTATRACE2 ' + m[1]);
		down += m[1].length / 2;
		if (o.fsl2 && m[1].length / 2 > o.fsl2) fail('harness 2 exceeded its frame size limit');
		h1.send(`msg,${m[1]}\n`);
		if (++rounds > 1000) fail('no convergence after 1000 rounds');
	}
	h1.stop(); h2.stop();
	if (o.trace) writeFileSync(o.trace, trace.join('\n') + '\n');
	for (const id of ids1) if (!ids2.has(id)) throw new Error(`${id} not in set 2`);
	for (const id of ids2) if (!ids1.has(id)) throw new Error(`${id} not in set 1`);
	console.log(`ok: ${ids1.size} items, ${rounds} rounds, up ${up} B, down ${down} B`);
}

main().catch((e) => { console.error('ne-fuzz: ' + e.message); process.exit(1); });
