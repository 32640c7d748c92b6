/**
 * Loads the Kafka client, @confluentinc/kafka-javascript, on demand. It is an optional
 * dependency (its native addon may not build on a user's machine), so only the Kafka
 * backend's modules import it, and they are loaded only after this loader succeeded:
 * a job on the embedded log never touches it. A failure to load becomes a
 * {@link KafkaClientUnavailableError} saying which part is missing and how to fix it.
 */
import { KafkaClientUnavailableError } from '../../errors/kafka-errors.js';

/** The npm package of the Kafka client. */
export const KAFKA_CLIENT_PACKAGE = '@confluentinc/kafka-javascript';

/** Imports the Kafka client; resolves when it (and its native addon) loaded. */
export type KafkaClientLoader = () => Promise<unknown>;

/** The real loader: a dynamic import of the package. */
export const importKafkaClient: KafkaClientLoader = () => {
  // A variable specifier: this module must compile where the optional package is absent.
  const specifier: string = KAFKA_CLIENT_PACKAGE;
  return import(specifier);
};

/** The first line of the error, without the "Tried:" that introduces the list of paths `bindings` tried. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).trim().replace(/\s*Tried:$/, '').replace(/[.:]$/, '');
}

/**
 * True when `error` says the package itself cannot be found (rather than found but failing
 * to load). Checked on the message as well as the code: an error crossing from Node's
 * module-hooks thread keeps its message but not its `code`.
 */
function isPackageMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const namesPackage = message.includes(`'${KAFKA_CLIENT_PACKAGE}'`) || message.includes(`"${KAFKA_CLIENT_PACKAGE}"`);
  if (!namesPackage) return false;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message);
}

/**
 * Loads the Kafka client with `load` (the real import unless a test passes another).
 * @throws KafkaClientUnavailableError naming the missing part and the fix.
 */
export async function ensureKafkaClient(load: KafkaClientLoader = importKafkaClient): Promise<void> {
  try {
    await load();
  } catch (error) {
    throw new KafkaClientUnavailableError(isPackageMissing(error) ? 'package' : 'native addon', firstLine(error), { cause: error });
  }
}
