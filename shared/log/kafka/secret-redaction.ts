/**
 * Keeps secrets out of logs and error messages. A client property is a secret when its
 * name looks like one (password, secret, token, credential, private, JAAS config, PEM
 * key, OAuth config); its value is then replaced wherever it appears in a text, and
 * `name=value` / `"name"` pairs of such properties are masked too.
 */

export type ClientProperties = Readonly<Record<string, string | number | boolean>>;

const SECRET_NAME = /password|secret|token|credential|private|jaas|oauthbearer\.config|key\.pem|apikey|api\.key/i;

/** What replaces a secret value. */
export const REDACTED = '***';

/** True when a client property with this name holds a secret. */
export function isSecretProperty(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Removes secret values from texts (log lines, error messages). */
export class SecretRedactor {
  /** Longest first, so a secret containing another is masked whole. */
  private readonly secrets: readonly string[];

  constructor(properties: ClientProperties) {
    this.secrets = Object.entries(properties)
      .filter(([name, value]) => isSecretProperty(name) && String(value).length > 0)
      .map(([, value]) => String(value))
      .sort((a, b) => b.length - a.length);
  }

  /** `text` with every secret value replaced by {@link REDACTED}. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) {
      result = result.split(secret).join(REDACTED);
    }
    return result;
  }

  /** A copy of `properties` safe to print: secret values replaced. */
  static redactProperties(properties: ClientProperties): Record<string, string | number | boolean> {
    const copy: Record<string, string | number | boolean> = {};
    for (const [name, value] of Object.entries(properties)) {
      copy[name] = isSecretProperty(name) ? REDACTED : value;
    }
    return copy;
  }
}
