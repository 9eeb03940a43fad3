import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { projectRoot } from '../provenance.ts';
import { didYouMean } from './did-you-mean.ts';

// ajv is CommonJS; under NodeNext its default export is the module object.
const Ajv = AjvModule.default;

/** A JSON Schema subset as used by the files in schemas/. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  [key: string]: unknown;
}

/** One problem found in a JSON document: where, and what is wrong. */
export interface SchemaProblem {
  /** Dotted path of the field, e.g. "train.epochs" or "shards[3].sha256". */
  field: string;
  message: string;
}

const compiled = new Map<string, { schema: JsonSchema; validate: ValidateFunction }>();

/** Loads (once) and compiles a schema from schemas/<name>.schema.json; ajv fills in defaults. */
export function loadSchema(name: string): { schema: JsonSchema; validate: ValidateFunction } {
  let entry = compiled.get(name);
  if (!entry) {
    const schema = JSON.parse(readFileSync(join(projectRoot, 'schemas', `${name}.schema.json`), 'utf8')) as JsonSchema;
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
    entry = { schema, validate: ajv.compile(schema) };
    compiled.set(name, entry);
  }
  return entry;
}

function joinField(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * Keys the schema does not allow, each with a did-you-mean suggestion when one is close. Walks
 * objects whose schema says `additionalProperties: false`, and array items.
 */
export function unknownKeys(schema: JsonSchema, value: unknown, field = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...unknownKeys(schema.items!, item, joinField(field, i))));
  } else if (value !== null && typeof value === 'object' && schema.properties) {
    const allowed = Object.keys(schema.properties);
    for (const [key, child] of Object.entries(value)) {
      const childSchema = schema.properties[key];
      if (childSchema) {
        problems.push(...unknownKeys(childSchema, child, joinField(field, key)));
      } else if (schema.additionalProperties === false) {
        const suggestion = didYouMean(key, allowed);
        problems.push({
          field: joinField(field, key),
          message: `unknown key "${joinField(field, key)}"${suggestion ? ` (did you mean "${joinField(field, suggestion)}"?)` : ''}; allowed here: ${allowed.join(', ')}`,
        });
      }
    }
  }
  return problems;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function describe(err: ErrorObject, root: unknown): SchemaProblem {
  const parts = err.instancePath.split('/').slice(1);
  let field = '';
  for (const p of parts) field = /^\d+$/.test(p) ? joinField(field, Number(p)) : joinField(field, p);
  if (err.keyword === 'required') {
    const missing = (err.params as { missingProperty: string }).missingProperty;
    return { field: joinField(field, missing), message: `${joinField(field, missing)} is required but missing` };
  }
  const got = JSON.stringify(valueAt(root, err.instancePath));
  let message = `${field || '(document)'} ${err.message ?? 'is invalid'}`;
  if (err.keyword === 'enum') {
    message = `${field} must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { field, message: `${message}, but got ${got}` };
}

/**
 * Validates `value` against schemas/<name>.schema.json, filling defaults in place. Returns every
 * problem (unknown keys first, with suggestions); an empty list means valid.
 */
export function checkAgainstSchema(name: string, value: unknown): SchemaProblem[] {
  const { schema, validate } = loadSchema(name);
  const problems = unknownKeys(schema, value);
  if (!validate(value)) {
    for (const err of validate.errors ?? []) {
      if (err.keyword === 'additionalProperties') continue; // reported above, with a suggestion
      problems.push(describe(err, value));
    }
  }
  return problems;
}
