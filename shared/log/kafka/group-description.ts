/**
 * A consumer group's members and their partitions, from the group coordinator
 * (DescribeGroups), asked in a short-lived child process (group-description-probe.ts)
 * so that a crash of the client binding on a failed description cannot take the job
 * down: a child that fails, crashes or overruns its time gives `undefined`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TopicPartition } from '../log-backend.js';

/** A group member and the partitions assigned to it. */
export interface DescribedMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly partitions: readonly TopicPartition[];
}

const PROBE = fileURLToPath(new URL('./group-description-probe.js', import.meta.url));

/** The members of `group`, or `undefined` when the description failed (see the module comment). */
export function describeGroupMembers(
  config: Record<string, string | number | boolean>,
  group: string,
  timeoutMs: number,
): Promise<DescribedMember[] | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PROBE], { stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as DescribedMember[]);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify({ config, group, timeoutMs }));
  });
}
