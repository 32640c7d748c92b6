/**
 * The one rule for every path weir creates or deletes for a job's state: it must lie
 * strictly inside `state.dir`. appId and store names are validated when the config and
 * the pipeline are loaded; this check runs again right before a directory is created or
 * removed, so a config built by hand (or a future caller) can never make `weir state
 * clear` delete the job's own folder or anything else outside the state directory.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StatePathOutsideStateDirError } from '../shared/errors/state-errors.js';

/** True when `path` resolves to a proper descendant of `stateDir` (not `stateDir` itself). */
export function isStrictlyInside(stateDir: string, path: string): boolean {
  const rel = relative(resolve(stateDir), resolve(path));
  // `..x` is a child named "..x"; only `..` itself or `../…` leaves the directory.
  return rel !== '' && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`);
}

/**
 * `path` resolved, after checking it is strictly inside `stateDir`.
 * @throws StatePathOutsideStateDirError naming both.
 */
export function resolveInsideStateDir(stateDir: string, path: string): string {
  if (!isStrictlyInside(stateDir, path)) throw new StatePathOutsideStateDirError(resolve(path), resolve(stateDir));
  return resolve(path);
}
