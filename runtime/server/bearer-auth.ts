/**
 * Bearer-token check of the server: with `server.token` set, every request but the
 * health probes must carry `Authorization: Bearer <token>`. Both sides are hashed
 * first, so the comparison takes the same time whatever the token's length or the
 * position of the first wrong character (timingSafeEqual needs equal lengths).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Paths answered without a token: probes, which reveal nothing about the job's data. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** A checker of `Authorization` header values for `token`. */
export function bearerTokenChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer (.+)$/.exec(authorization ?? '');
    const given = digest(match?.[1] ?? '');
    // Always compare, even without a header: the time taken says nothing.
    return timingSafeEqual(given, expected) && match !== null;
  };
}
