// Worker-thread entry of pipeline/engines/onnxruntime-worker-client.ts. In dist/ (the compiled build) it loads
// the compiled worker beside it; in the source tree it registers tsx (a worker does not inherit the
// parent's tsx registration made through its API) and loads the TypeScript worker.
import { existsSync } from 'node:fs';

const compiled = new URL('./onnxruntime-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./onnxruntime-worker.ts');
}
