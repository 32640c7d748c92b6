/**
 * The value template of generated bench records: any JSON value in which the strings
 * `{{index}}`, `{{key}}`, `{{random}}` and `{{timestamp}}` are filled in per record.
 * A string that is exactly one placeholder becomes the typed value (`"{{index}}"` → 17);
 * a placeholder inside a longer string is interpolated as text (`"order-{{index}}"`).
 */

/** What a placeholder can refer to, for one generated record. */
export interface TemplateContext {
  /** 0-based position of the record in the input. */
  readonly index: number;
  /** The record's key (e.g. `key-42`). */
  readonly key: string;
  /** A fresh uniform random number in [0, 1) per placeholder use. */
  readonly random: () => number;
  /** The record's event time, ms. */
  readonly timestamp: number;
}

export type ValueTemplate = (context: TemplateContext) => unknown;

const PLACEHOLDER = /\{\{\s*(index|key|random|timestamp)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*(index|key|random|timestamp)\s*\}\}$/;

type Field = 'index' | 'key' | 'random' | 'timestamp';

function fieldValue(field: Field, context: TemplateContext): string | number {
  return field === 'random' ? context.random() : context[field];
}

function compileString(text: string): ValueTemplate {
  const whole = WHOLE_PLACEHOLDER.exec(text);
  if (whole !== null) {
    const field = whole[1] as Field;
    return (context) => fieldValue(field, context);
  }
  if (!PLACEHOLDER.test(text)) return () => text;
  return (context) => text.replace(PLACEHOLDER, (_match, field: Field) => String(fieldValue(field, context)));
}

/** Compiles `template` once into a function producing one record's value. */
export function compileValueTemplate(template: unknown): ValueTemplate {
  if (typeof template === 'string') return compileString(template);
  if (Array.isArray(template)) {
    const items = template.map(compileValueTemplate);
    return (context) => items.map((item) => item(context));
  }
  if (typeof template === 'object' && template !== null) {
    const fields = Object.entries(template).map(([name, value]) => [name, compileValueTemplate(value)] as const);
    return (context) => {
      const out: Record<string, unknown> = {};
      for (const [name, field] of fields) out[name] = field(context);
      return out;
    };
  }
  return () => template;
}
