/**
 * Child-process entry that describes one consumer group and prints its members as JSON
 * on stdout (group-description.ts starts it). It runs apart from the job because
 * @confluentinc/kafka-javascript 1.10.1's `describeGroups` crashes its process (SIGSEGV)
 * when a group comes back with an error: the binding makes a V8 string of the group's
 * NULL partition assignor (src/common.cc, FromConsumerGroupDescription). A crash here
 * ends only this child. Input on stdin (never argv: the client config may hold secrets):
 * `{config, group, timeoutMs}`.
 */
import { text } from 'node:stream/consumers';
import Kafka from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { DescribedMember } from './group-description.js';

/** The part of the binding's GroupDescriptions read here (spelt out: builds without the client use stand-in types). */
interface GroupDescriptions {
  readonly groups: ReadonlyArray<{
    readonly groupId: string;
    readonly error?: { readonly message: string };
    readonly members: ReadonlyArray<{
      readonly memberId: string;
      readonly clientId: string;
      readonly clientHost: string;
      readonly assignment?: { readonly topicPartitions?: ReadonlyArray<{ readonly topic: string; readonly partition: number }> };
    }>;
  }>;
}

const input = JSON.parse(await text(process.stdin)) as { config: Record<string, string | number | boolean>; group: string; timeoutMs: number };
const admin = Kafka.AdminClient.create(input.config);
const result = await new Promise<GroupDescriptions>((resolve, reject) =>
  admin.describeGroups([input.group], { timeout: input.timeoutMs }, (error: LibrdKafkaError | null | undefined, value: GroupDescriptions) =>
    error ? reject(new Error(error.message)) : resolve(value),
  ),
);
const group = result.groups.find((g) => g.groupId === input.group);
if (group?.error) throw new Error(group.error.message);
const members: DescribedMember[] = (group?.members ?? []).map((m) => ({
  memberId: m.memberId,
  clientId: m.clientId,
  host: m.clientHost,
  partitions: (m.assignment?.topicPartitions ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition })),
}));
process.stdout.write(JSON.stringify(members));
admin.disconnect();
