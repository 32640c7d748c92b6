import t from 'tap';
import { releaseArrayBuffer, releaseWholeView } from '../../shared/protocol/array-buffer-release.js';

const MIB = 1024 * 1024;

t.test('a released buffer is detached and its memory freed at once', async (t) => {
  const before = process.memoryUsage().arrayBuffers;
  const buffers = Array.from({ length: 16 }, () => new ArrayBuffer(MIB));
  const view = new Uint8Array(buffers[0]!);
  t.ok(process.memoryUsage().arrayBuffers >= before + 16 * MIB);
  for (const buffer of buffers) releaseArrayBuffer(buffer);
  // Still referenced here, yet freed without a collection (the module's closed channel
  // frees synchronously once its close has taken effect, a turn after it loaded).
  const deadline = Date.now() + 10_000;
  while (process.memoryUsage().arrayBuffers >= before + MIB && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  t.ok(process.memoryUsage().arrayBuffers < before + MIB, 'backing stores freed');
  t.equal(buffers[0]!.byteLength, 0);
  t.equal(view.byteLength, 0, 'views become empty');
});

t.test('detached, empty and shared buffers are left alone', async (t) => {
  const buffer = new ArrayBuffer(8);
  releaseArrayBuffer(buffer);
  t.doesNotThrow(() => releaseArrayBuffer(buffer), 'a second release is a no-op');
  t.doesNotThrow(() => releaseArrayBuffer(new ArrayBuffer(0)));
  const shared = new SharedArrayBuffer(8);
  releaseArrayBuffer(shared);
  t.equal(shared.byteLength, 8);
});

t.test('only a view spanning its whole buffer is released', async (t) => {
  const own = new Uint8Array(new ArrayBuffer(64));
  t.equal(releaseWholeView(own), true);
  t.equal(own.byteLength, 0);

  // Small Buffers share Node's pool: releasing one would empty its neighbours.
  const pooled = Buffer.from('abc');
  const neighbour = Buffer.from('def');
  t.equal(releaseWholeView(pooled), false);
  t.equal(pooled.toString(), 'abc');
  t.equal(neighbour.toString(), 'def');

  const whole = new ArrayBuffer(64);
  const part = new Uint8Array(whole, 8, 16);
  t.equal(releaseWholeView(part), false);
  t.equal(whole.byteLength, 64);
  t.equal(releaseWholeView(new Uint8Array(new SharedArrayBuffer(16))), false);
  t.equal(releaseWholeView(new Uint8Array(0)), false);
});
