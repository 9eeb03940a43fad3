import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Table } from 'apache-arrow';
import { DataError } from '../../pipeline/errors.ts';
import { decodeTable, readFileBytes } from '../../pipeline/io/table-files.ts';
import type { TextDocument } from '../../pipeline/dataset/split-documents.ts';

/** Which fields of JSON lines / columns of Parquet hold what. */
export interface TextFields {
  /** Text field/column. Default "text". */
  text?: string;
  /** Document id field/column; default `<file>:<row>` (plain text files: the file name). */
  id?: string;
  /** Slice fields/columns kept per document (strings or integers), e.g. genre. */
  slices?: string[];
  /** classification: integer label field/column. */
  label?: string;
  /** token-classification (char tokenizer): field/column with an integer per character. */
  labels?: string;
}

const EXTENSIONS = new Set(['.txt', '.jsonl', '.parquet']);

/** Decodes UTF-8 strictly; invalid bytes are a DataError naming the file, line and byte offset. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    const at = loose.indexOf('\uFFFD');
    const line = loose.slice(0, Math.max(0, at)).split('\n').length;
    const offset = Buffer.byteLength(loose.slice(0, Math.max(0, at)), 'utf8');
    throw new DataError(`${file}: line ${line} (byte ${offset}) is not valid UTF-8; text inputs must be UTF-8 (convert with e.g. iconv -f latin1 -t utf-8)`);
  }
}

function checkText(text: unknown, where: string, field: string): string {
  if (typeof text !== 'string') throw new DataError(`${where}: field "${field}" is ${JSON.stringify(text)?.slice(0, 40)}, expected a string`);
  if (text.trim().length === 0) throw new DataError(`${where}: empty document (field "${field}" has no text); remove it from the input`);
  return text.normalize('NFC');
}

function fromRecord(rec: Record<string, unknown>, where: string, fallbackId: string, f: TextFields): TextDocument {
  const textField = f.text ?? 'text';
  if (!(textField in rec)) throw new DataError(`${where}: no field "${textField}" (fields: ${Object.keys(rec).join(', ')}); choose one with --text-field`);
  const slices: Record<string, string | number> = {};
  for (const s of f.slices ?? []) {
    const v = rec[s];
    if (typeof v === 'bigint') slices[s] = Number(v);
    else if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) slices[s] = v;
    else throw new DataError(`${where}: slice field "${s}" is ${JSON.stringify(v)}, expected a string or an integer`);
  }
  const doc: TextDocument = { id: f.id ? String(rec[f.id]) : fallbackId, text: checkText(rec[textField], where, textField), where, slices };
  if (f.label) {
    const v = Number(rec[f.label]);
    if (!Number.isInteger(v) || v < 0) throw new DataError(`${where}: label field "${f.label}" is ${JSON.stringify(rec[f.label])}, expected an integer >= 0`);
    doc.label = v;
  }
  if (f.labels) {
    const v = rec[f.labels] as unknown;
    const arr = Array.isArray(v) ? v : v && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<number> }).toArray()) : null;
    if (!arr || arr.some((x) => !Number.isInteger(Number(x)))) throw new DataError(`${where}: labels field "${f.labels}" must be an array of integers (one per character)`);
    doc.labels = arr.map(Number);
  }
  return doc;
}

function jsonlDocuments(text: string, file: string, f: TextFields): TextDocument[] {
  const docs: TextDocument[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file} line ${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new DataError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new DataError(`${where}: expected a JSON object per line`);
    docs.push(fromRecord(rec as Record<string, unknown>, where, `${basename(file)}:${i + 1}`, f));
  });
  return docs;
}

function parquetDocuments(table: Table, file: string, f: TextFields): TextDocument[] {
  const docs: TextDocument[] = [];
  const names = table.schema.fields.map((x) => x.name);
  for (const want of [f.text ?? 'text', ...(f.id ? [f.id] : []), ...(f.slices ?? []), ...(f.label ? [f.label] : []), ...(f.labels ? [f.labels] : [])]) {
    if (!names.includes(want)) throw new DataError(`${file}: no column "${want}" (columns: ${names.join(', ')})`);
  }
  for (let i = 0; i < table.numRows; i++) {
    const rec = table.get(i)!.toJSON() as Record<string, unknown>;
    docs.push(fromRecord(rec, `${file} row ${i}`, `${basename(file)}:${i}`, f));
  }
  return docs;
}

/** The input files: the file itself, or every .txt/.jsonl/.parquet file of a directory (recursively, sorted). */
async function inputFiles(input: string): Promise<string[]> {
  const st = await stat(input).catch(() => null);
  if (!st) throw new DataError(`${input}: no such file or directory`);
  if (st.isFile()) return [input];
  const entries = await readdir(input, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && EXTENSIONS.has(extname(e.name)) && !e.name.startsWith('.')).map((e) => join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new DataError(`${input}: no .txt, .jsonl or .parquet files`);
  return files;
}

/**
 * Reads text documents: a `.txt` file is one document (id = its path relative to the input
 * directory, without extension), a `.jsonl` file one document per line (fields per `fields`), a
 * `.parquet` file one per row. Text is NFC-normalised. Non-UTF-8 bytes, empty documents and missing
 * fields are DataErrors naming the file and line/row.
 */
export async function readTextDocuments(input: string, fields: TextFields = {}): Promise<TextDocument[]> {
  const docs: TextDocument[] = [];
  for (const file of await inputFiles(input)) {
    const bytes = await readFileBytes(file);
    const ext = extname(file);
    if (ext === '.parquet') docs.push(...parquetDocuments(decodeTable(bytes, 'parquet', file), file, fields));
    else if (ext === '.jsonl') docs.push(...jsonlDocuments(decodeUtf8(bytes, file), file, fields));
    else {
      const rel = file === input ? basename(file) : file.slice(input.replace(/\/$/, '').length + 1);
      docs.push({ id: rel.slice(0, -ext.length), text: checkText(decodeUtf8(bytes, file), file, 'text'), where: file, slices: {} });
    }
  }
  const seen = new Map<string, string>();
  for (const d of docs) {
    const prior = seen.get(d.id);
    if (prior) throw new DataError(`${d.where}: document id "${d.id}" is also used by ${prior}; ids must be unique`);
    seen.set(d.id, d.where);
  }
  return docs;
}
