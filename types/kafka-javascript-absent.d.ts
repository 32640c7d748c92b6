/**
 * Stand-in types for @confluentinc/kafka-javascript, used by the build only when the
 * package is absent (it is an optional dependency: `npm install --omit=optional`, or an
 * npm older than 11 that removed it after its native build failed). tsconfig.json's
 * `paths` tries the real package first, so with the client installed this file is never
 * read. It keeps the build, and so jobs on the embedded log, working without the client;
 * at run time the Kafka backend then reports KAFKA_CLIENT_UNAVAILABLE.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const Kafka: any;
export default Kafka;
export type IAdminClient = any;
export type KafkaConsumer = any;
export type LibrdKafkaError = any;
export type Message = any;
export type MessageHeader = any;
export type Metadata = any;
export type Producer = any;
export type WatermarkOffsets = any;
