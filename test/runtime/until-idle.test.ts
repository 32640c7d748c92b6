/**
 * `--until-idle` ends once every assigned partition has been routed to its high watermark;
 * while it waits without records it says, once per period, what it waits for.
 */
import t from 'tap';
import { App } from '../../runtime/app.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { appendEvents, createJobFixture, generateEvents, modelCounts, replaceMethods, stateCounts } from './job-fixture.js';

t.test('a run waiting for its end without records names the partition it waits for', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2 });
  const events = generateEvents(200, 20, 5);
  await appendEvents(fixture, events, 2);
  const config = { ...(await fixture.config()), workers: 1 };
  const backend = await LocalLogBackend.open(fixture.logPath);
  const lines: string[] = [];
  try {
    // events[1] claims one record more than it holds until the wait has been reported.
    const held = replaceMethods(backend, {
      watermarks: async (tp) => {
        const marks = await backend.watermarks(tp);
        const reported = lines.some((line) => line.includes('events[1]'));
        return tp.topic === 'events' && tp.partition === 1 && !reported ? { ...marks, high: marks.high + 1 } : marks;
      },
    });
    const app = await App.create(config, held);
    const summary = await app.run({ untilIdle: true, idleWaitReportMs: 200, log: (line) => lines.push(line) });
    t.equal(summary.records, events.length, 'every record processed');
    const expectedHigh = (await backend.watermarks({ topic: 'events', partition: 1 })).high + 1;
    t.match(
      lines.join('\n'),
      new RegExp(`--until-idle: no records for \\d+\\.\\d s, and not at the end of input: events\\[1\\] routed up to offset ${expectedHigh - 1}, its high watermark is ${expectedHigh}`),
      'the wait names the topic-partition, its position and its high watermark',
    );
  } finally {
    await backend.close();
  }
  t.same(await stateCounts(config), modelCounts(events));
});
