/**
 * Changelog topic naming (docs/semantics.md §4), kept byte-compatible with Quix Streams so a weir
 * changelog can be read by anything that reads a Quix Streams changelog.
 */

/** The stream id of a set of input topics: sorted unique names joined with `--`. */
export function streamIdOf(topics: readonly string[]): string {
  return [...new Set(topics)].sort().join('--');
}

/** `changelog__<app>--<streamId>--<store>` */
export function changelogTopicName(appId: string, streamId: string, store: string): string {
  return `changelog__${appId}--${streamId}--${store}`;
}
