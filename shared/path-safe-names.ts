/**
 * Names that become directory names (appId, store names) and topic name parts. They use
 * Kafka's legal topic characters, so a name that is safe on disk is also a valid part of a
 * changelog topic name, and "." / ".." are refused so a name can never point at the
 * directory it is joined to or its parent (`<state.dir>/<appId>/<store>/…`).
 */

/** Kafka's legal topic name: 1-249 letters, digits, ".", "_" or "-". */
export const PATH_SAFE_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

/** What a path-safe name looks like, for error messages. */
export const PATH_SAFE_NAME_RULE = '1-249 letters, digits, ".", "_" or "-", and not "." or ".."';

/** True when `name` can be used as one directory name and as part of a topic name. */
export function isPathSafeName(name: string): boolean {
  return PATH_SAFE_NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}
