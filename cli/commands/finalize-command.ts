import type { Argv, CommandModule } from 'yargs';
import { commandContext } from '../command-context.ts';
import type { GlobalArgs } from '../global-args.ts';

interface FinalizeArgs extends GlobalArgs {
  store: string;
}

/** `distill finalize <store>`: merge the part manifests of sharded teacher workers into the store manifest. */
export const finalizeCommand: CommandModule<GlobalArgs, FinalizeArgs> = {
  command: 'finalize <store>',
  describe: 'merge the part manifests of sharded teacher workers into the store manifest, after checking coverage, capture and sha256',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('store', { type: 'string', demandOption: true, describe: 'store directory (holding parts/worker-<i>-of-<N>.json)' })
      .example('$0 finalize artifacts/experiments/mnist-kd/store', 'after every `distill teacher-logits --num-shards N --shard-index i` worker has finished')
      .epilog('Refuses (exit 1, nothing written) with every problem: a missing worker, uncovered or twice-covered row ranges, a part of another teacher, dataset or encoding, a shard whose size or sha256 differs. Idempotent. See docs/scale-out.md.') as unknown as Argv<FinalizeArgs>,
  handler: async (args) => {
    const { finalizeStore } = await import('../../stages/teacher-logits/finalize-store.ts');
    const ctx = commandContext(args);
    const result = await finalizeStore(args.store, ctx.reporter);
    const m = result.manifest;
    const shards = Object.values(m.splits).reduce((s, x) => s + x.shards.length, 0);
    ctx.reporter.info(`store ${result.written ? 'finalized' : 'already complete'}: ${args.store}/manifest.json`, {
      written: result.written,
      parts: result.parts,
      splits: Object.fromEntries(Object.entries(m.splits).map(([k, v]) => [k, { rows: v.rows, shards: v.shards.length }])),
      rows: Object.values(m.splits).reduce((s, x) => s + x.rows, 0),
      shards,
      bytes: Object.values(m.splits).reduce((s, x) => s + x.shards.reduce((t, r) => t + r.bytes, 0), 0),
      teacherSha256: m.teacher.sha256,
    });
  },
};
