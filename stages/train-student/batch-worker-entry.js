// Worker-thread entry of stages/train-student/batch-worker-client.ts: registers tsx (a worker does
// not inherit the parent's tsx registration made through its API) and loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./batch-worker.ts');
