import t from 'tap';
import { WorkerAssignment } from '../../runtime/worker-assignment.js';

t.test('partitions spread evenly over workers', async (t) => {
  const a = new WorkerAssignment(3);
  a.add([0, 1, 2, 3, 4, 5, 6, 7]);
  const loads = [0, 1, 2].map((w) => a.partitionsOf(w).length);
  t.ok(Math.max(...loads) - Math.min(...loads) <= 1, `balanced: ${loads}`);
  t.same(a.partitions(), [0, 1, 2, 3, 4, 5, 6, 7]);
});

t.test('assigned partitions keep their worker (sticky)', async (t) => {
  const a = new WorkerAssignment(2);
  a.add([0, 1, 2, 3]);
  const before = new Map([0, 1, 2, 3].map((p) => [p, a.ownerOf(p)]));
  a.remove([1]);
  a.add([1, 4, 5]);
  for (const p of [0, 2, 3]) t.equal(a.ownerOf(p), before.get(p), `partition ${p} stayed`);
  const loads = [0, 1].map((w) => a.partitionsOf(w).length);
  t.same(loads.sort(), [3, 3], 'new partitions filled the less-loaded worker');
});

t.test('remove reports former owners and ignores unknown partitions', async (t) => {
  const a = new WorkerAssignment(2);
  a.add([0, 1]);
  t.same([...a.remove([0, 9])], [[0, a.ownerOf(0) ?? 0]]);
  t.equal(a.ownerOf(0), undefined);
});

t.test('a worker count below 1 is rejected', async (t) => {
  t.throws(() => new WorkerAssignment(0), RangeError);
});
