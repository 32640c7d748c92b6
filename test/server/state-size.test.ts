/** StateSizes, the numbers of weir_state_size_bytes: measured per assigned store partition, again after a change. */
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadConfig } from '../../config/index.js';
import { StateSizes } from '../../runtime/server/state-size.js';
import { appStateDir, storePartitionDir } from '../../workers/state/state-layout.js';
import { streamIdOf } from '../../runtime/changelog-topics.js';
import { createJobFixture } from '../runtime/job-fixture.js';

t.test('a measurement before any partition is assigned does not stick: the next one sees the partitions', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2 });
  const config = await loadConfig(fixture.configPath);
  const appDir = appStateDir(config.state.dir, config.appId);
  for (const partition of [0, 1]) {
    const dir = storePartitionDir(appDir, 'counts', streamIdOf(config.input.topics), partition);
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/000001.log`, Buffer.alloc(100 * (partition + 1)));
  }
  const sizes = new StateSizes(config);
  t.same(await sizes.sizes(['counts'], [], 0), [], 'nothing assigned yet');
  t.same(
    await sizes.sizes(['counts'], [0, 1], 0),
    [
      { store: 'counts', partition: 0, bytes: 100 },
      { store: 'counts', partition: 1, bytes: 200 },
    ],
    'assigned: each store partition with its bytes',
  );
  const [first, second] = await Promise.all([sizes.sizes(['counts'], [0], 1), sizes.sizes(['counts'], [0], 1)]);
  t.equal(first, second, 'concurrent scrapes share one measurement');
  t.same(first, [{ store: 'counts', partition: 0, bytes: 100 }]);
});
