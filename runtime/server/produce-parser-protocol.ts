/** Messages between the coordinator and the produce parser thread (produce-parser.ts). */
import type { BodyBatch } from './produce-batches.js';

/** A body to encode; `body` is transferred. */
export interface ParseRequest {
  readonly id: number;
  readonly body: ArrayBuffer;
  readonly partitions: number | undefined;
  /** The timestamp of records without one. */
  readonly now: number;
}

/** The encoded body (batch buffers transferred) or why it was refused. */
export type ParseReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly count: number;
      readonly warnings: string[];
      readonly partitions: number | undefined;
      readonly batches: BodyBatch[];
    }
  | {
      readonly id: number;
      readonly ok: false;
      /** A bad line: the parts of the InputLineError to rebuild. */
      readonly inputLine?: { readonly line: number; readonly field: string | undefined; readonly problem: string };
      /** Any other failure. */
      readonly message?: string;
      readonly stack?: string;
    };
