/**
 * `npm start`: generate 1 M keyed events (100 k distinct keys) into the local log if they
 * are not there yet, then run the count job until idle and print the summary.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.js';
import { openLogBackend } from '../../runtime/open-log-backend.js';
import type { LogBackend } from '../../shared/log/log-backend.js';
import { runJob, formatSummary } from '../../runtime/job-runner.js';
import { appendCountEvents, recordsInTopic } from './count-events.js';

const EVENTS = 1_000_000;
const KEYS = 100_000;

/** Source-relative path of the config, whether this runs from dist/ or from source. */
function configPath(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/') ? here.replace('/dist/', '/') + 'weir.yaml' : here + 'weir.yaml';
}

async function generate(backend: LogBackend, topic: string, partitions: number): Promise<void> {
  await backend.createTopic(topic, partitions);
  const producer = await backend.producer();
  const started = performance.now();
  await appendCountEvents(producer, topic, partitions, EVENTS, KEYS, {
    onBatch: (appended) => {
      if (process.stderr.isTTY) process.stderr.write(`\rweir: generating events ${appended}/${EVENTS}`);
    },
  });
  await producer.close();
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}weir: generated ${EVENTS} events in ${seconds.toFixed(1)} s\n`);
}

const config = await loadConfig(configPath());
const topic = config.input.topics[0]!;
const backend = await openLogBackend(config);
const present = await recordsInTopic(backend, topic);
if (present < EVENTS) {
  if (present > 0) throw new Error(`topic ${topic} holds ${present} events, expected ${EVENTS}; delete .weir/ and retry`);
  await generate(backend, topic, config.partitions);
} else {
  process.stderr.write(`weir: ${present} events already in ${topic}\n`);
}
await backend.close();

const summary = await runJob(config, { untilIdle: true });
process.stdout.write(formatSummary(summary) + '\n');
