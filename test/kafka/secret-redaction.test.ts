/** Secrets in client properties never reach logs or error messages. */
import t from 'tap';
import { KafkaClientError } from '../../shared/errors/kafka-errors.js';
import { KafkaContext } from '../../shared/log/kafka/kafka-context.js';
import { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import { isSecretProperty, REDACTED, SecretRedactor } from '../../shared/log/kafka/secret-redaction.js';
import { startMockCluster } from './mock-cluster.js';

const SECRETS = {
  'sasl.password': 'hunter2-pass',
  'ssl.key.password': 'key-pass-77',
  'sasl.oauthbearer.client.secret': 'client-secret-99',
  'ssl.key.pem': '-----BEGIN PRIVATE KEY-----abc',
  'sasl.oauthbearer.config': 'principal=alice token=tok-123',
};

/** This librdkafka build has no OIDC (no libcurl), so its client-secret property is refused at creation. */
const { 'sasl.oauthbearer.client.secret': _oidcOnly, ...CLIENT_SECRETS } = SECRETS;

t.test('secret-looking property names', async (t) => {
  for (const name of Object.keys(SECRETS)) t.ok(isSecretProperty(name), name);
  for (const name of ['bootstrap.servers', 'security.protocol', 'sasl.username', 'ssl.ca.location', 'client.id']) {
    t.notOk(isSecretProperty(name), name);
  }
});

t.test('the redactor masks every secret value, longest first, and leaves other text alone', async (t) => {
  const redactor = new SecretRedactor({ ...SECRETS, 'sasl.username': 'alice', 'client.id': 'hunter2' });
  const text = `login hunter2-pass failed; key key-pass-77; config principal=alice token=tok-123; user alice`;
  const redacted = redactor.redact(text);
  for (const secret of Object.values(SECRETS)) t.notOk(redacted.includes(secret), `no ${secret}`);
  t.equal(redacted, `login ${REDACTED} failed; key ${REDACTED}; config ${REDACTED}; user alice`);
  t.same(SecretRedactor.redactProperties({ 'sasl.password': 'x', 'client.id': 'c' }), { 'sasl.password': REDACTED, 'client.id': 'c' });
});

t.test('errors and log lines of the backend carry no secret', async (t) => {
  const lines: string[] = [];
  const context = new KafkaContext(
    { bootstrapServers: 'b:9092', clientId: 'weir', properties: SECRETS },
    (_level, message) => lines.push(message),
    1000,
  );
  const error = context.error('connect with hunter2-pass', new Error('Invalid value "key-pass-77" for configuration property "ssl.key.password"'));
  t.type(error, KafkaClientError);
  t.notOk(/hunter2-pass|key-pass-77/.test(error.message), error.message);
  t.equal(error.cause, undefined, 'the unredacted cause is not kept');
  context.log('warn', 'retrying with client-secret-99');
  t.same(lines, [`retrying with ${REDACTED}`]);
});

t.test('a backend with secrets: its logs (librdkafka debug conf) and a failed connection carry no secret', async (t) => {
  const cluster = await startMockCluster(1);
  t.teardown(() => cluster.stop());
  const lines: string[] = [];
  const logger = (_level: string, message: string) => void lines.push(message);
  // Plaintext: the SASL/SSL secrets are configured but unused, so the backend connects and logs its configuration.
  const backend = await KafkaLogBackend.open({
    brokers: cluster.bootstrapServers,
    clientProperties: { ...CLIENT_SECRETS, 'sasl.username': 'alice', debug: 'conf' },
    logger,
  });
  await backend.listTopics();
  await backend.close();
  t.ok(lines.some((line) => line.includes('sasl.username')), 'librdkafka logged the client configuration');
  // SASL against the mock, which speaks none: the connection fails after the credentials were configured.
  const failure = await KafkaLogBackend.open({
    brokers: cluster.bootstrapServers,
    clientProperties: { 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', ...CLIENT_SECRETS },
    requestTimeoutMs: 2_000,
    logger,
  }).then(
    async (opened) => {
      await opened.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  t.type(failure, KafkaClientError, 'the connection fails');
  const everything = [String((failure as Error).message), ...lines].join('\n');
  for (const secret of Object.values(CLIENT_SECRETS)) t.notOk(everything.includes(secret), `no ${secret.slice(0, 12)}…`);
});
