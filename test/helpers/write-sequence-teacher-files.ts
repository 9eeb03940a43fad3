/** The files of a tiny sequence teacher: its ONNX model and the card that declares it. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Bytes } from '../../pipeline/io/sha256.ts';

/**
 * Writes `model.onnx` and `card.json` under `dir`: token ids and attention mask in ([batch, seq] int64),
 * [batch, seq, classes] logits out, for `task`; `extra` fields (tokenizer, context, overrides) follow
 * the common ones.
 */
export async function writeSequenceTeacherFiles(dir: string, name: string, task: string, modelBytes: Uint8Array, classes: number, extra: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), modelBytes);
  await writeFile(
    join(dir, 'card.json'),
    JSON.stringify({
      formatVersion: 1,
      name,
      task,
      model: 'model.onnx',
      sha256: sha256Bytes(modelBytes),
      inputs: [
        { name: 'input_ids', column: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
        { name: 'attention_mask', column: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
      ],
      output: { name: 'logits', kind: 'logits', shape: ['batch', 'seq', classes] },
      classes: { count: classes },
      ...extra,
    }),
  );
}
