// ne-node.mjs: the Negentropy cross-implementation harness line protocol
// (item,TS,IDHEX | seal | initiate | msg,HEX -> msg,HEX | have,ID | need,ID |
// done; env FRAMESIZELIMIT) on top of the npm package @nostr-dev-kit/sync,
// a separate implementation of Negentropy v1, so that tests can reconcile it
// against our C harness (tests/ne_harness.c). Lines are handled strictly in
// order (the package's API is async).
import readline from 'node:readline';
import { Negentropy, NegentropyStorage } from '@nostr-dev-kit/sync';

const limit = process.env.FRAMESIZELIMIT ? parseInt(process.env.FRAMESIZELIMIT, 10) : 0;
const hex = (u8) => Buffer.from(u8).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const out = (s) => new Promise((res) => { if (process.stdout.write(s + '\n')) res(); else process.stdout.once('drain', res); });

const storage = new NegentropyStorage();
let ne = null;

const rl = readline.createInterface({ input: process.stdin, terminal: false });
try {
	for await (const raw of rl) {
		const line = raw.trim();
		if (!line) continue;
		const f = line.split(',');
		if (f[0] === 'item') {
			if (f.length !== 3) throw new Error('wrong num of fields');
			storage.insert(parseInt(f[1], 10), f[2]);
		} else if (f[0] === 'seal') {
			storage.seal();
			ne = new Negentropy(storage, limit);
		} else if (f[0] === 'initiate') {
			const q = await ne.initiate();
			if (limit && q.length > limit) throw new Error('initiate frameSizeLimit exceeded');
			await out('msg,' + hex(q));
		} else if (f[0] === 'msg') {
			const r = await ne.reconcile(unhex(f[1] || ''));
			for (const id of r.have) await out('have,' + hex(id));
			for (const id of r.need) await out('need,' + hex(id));
			if (r.nextMessage === undefined || r.nextMessage === null) {
				await out('done');
			} else {
				if (limit && r.nextMessage.length > limit) throw new Error('frameSizeLimit exceeded');
				await out('msg,' + hex(r.nextMessage));
			}
		} else {
			throw new Error('unknown cmd: ' + f[0]);
		}
	}
} catch (e) {
	process.stderr.write('ne-node: ' + (e && e.message ? e.message : String(e)) + '\n');
	process.exit(1);
}
