/** The software provenance of manifests: the asynchronous probe (the teacher stage's) says what the synchronous one says. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { projectRoot, softwareProvenance, softwareProvenanceAsync } from '../../../pipeline/provenance.ts';

test('softwareProvenanceAsync records the same commit, dirty flag and software as softwareProvenance', async () => {
  const [sync, async] = [softwareProvenance(), await softwareProvenanceAsync()];
  assert.deepEqual(async, sync);
  let head: string | null = null;
  try {
    head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // a tree without git: both must say null
  }
  if (head === null) assert.equal(async.gitCommit, null);
  else assert.match(async.gitCommit ?? '', new RegExp(`^${head}(-dirty)?$`));
});
