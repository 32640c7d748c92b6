/**
 * The formats `weir produce` writes and `weir topic dump` reads a topic with: the topic's
 * configured formats (its `input` or `output` section, per-topic overrides included),
 * replaced field by field by `--key-format` / `--value-format`.
 */
import { Option } from 'commander';
import type { WeirConfig } from '../../config/index.js';
import { FORMAT_NAMES, JSON_TOPIC_FORMATS, REGISTRY_FORMATS, type FormatName, type FormatSpec, type TopicFormatSpecs } from '../../shared/serialization/format.js';
import { TopicFormats } from '../../shared/serialization/topic-formats.js';
import { FormatOptionError } from './cli-errors.js';

export interface FormatFlags {
  readonly keyFormat?: FormatName;
  readonly valueFormat?: FormatName;
}

export function formatOptions(verb: string): Option[] {
  return [
    new Option('--key-format <format>', `${verb} keys in this format (default: the topic's configured format, else json)`).choices(FORMAT_NAMES),
    new Option('--value-format <format>', `${verb} values in this format (default: the topic's configured format, else json)`).choices(FORMAT_NAMES),
  ];
}

/** The configured formats of `topic` (JSON when it has none). */
export function configuredFormats(config: WeirConfig, topic: string): TopicFormatSpecs {
  return config.formats?.input[topic] ?? config.formats?.output[topic] ?? JSON_TOPIC_FORMATS;
}

/** The formats to use for `topic`, ready (writer schemas registered when `direction` is write). */
export async function topicFormatsFor(config: WeirConfig, topic: string, flags: FormatFlags, direction: 'read' | 'write'): Promise<TopicFormats> {
  const configured = configuredFormats(config, topic);
  const pick = (flag: FormatName | undefined, spec: FormatSpec, option: string, section: string): FormatSpec => {
    const chosen = flag === undefined ? spec : flag === spec.type ? spec : { type: flag };
    if (REGISTRY_FORMATS.has(chosen.type)) {
      if (config.schemaRegistry === undefined) throw new FormatOptionError(option, `${chosen.type} needs schemaRegistry in the config`);
      if (direction === 'write' && chosen.schema === undefined) {
        throw new FormatOptionError(option, `writing ${chosen.type} needs a schema: configure ${section} of topic ${topic} with a "schema"`);
      }
    }
    return chosen;
  };
  const specs: TopicFormatSpecs = {
    key: pick(flags.keyFormat, configured.key, '--key-format', 'the key format'),
    value: pick(flags.valueFormat, configured.value, '--value-format', 'the value format'),
  };
  return TopicFormats.create({
    read: direction === 'read' ? { [topic]: specs } : {},
    write: direction === 'write' ? { [topic]: specs } : {},
    schemaRegistry: config.schemaRegistry,
  });
}
