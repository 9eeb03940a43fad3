/** Headless Chromium (Debian's `chromium` package) for the report's browser test. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the browser is; `CHROMIUM` in the environment overrides. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function chromium(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${CHROMIUM} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Flags that work as root in a container, with no network, sync or first-run activity. */
async function baseFlags(): Promise<{ flags: string[]; cleanup: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'distill-chromium-'));
  return {
    flags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`],
    cleanup: () => rm(profile, { recursive: true, force: true }),
  };
}

/** Renders a local HTML file and returns the PNG screenshot bytes. */
export async function screenshot(htmlFile: string, width = 1200, height = 2400): Promise<Uint8Array> {
  const { flags, cleanup } = await baseFlags();
  const out = join(tmpdir(), `distill-shot-${process.pid}-${Date.now()}.png`);
  try {
    await chromium([...flags, `--window-size=${width},${height}`, `--screenshot=${out}`, pathToFileURL(htmlFile).href]);
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
    await cleanup();
  }
}

/** The DOM of a local HTML file after rendering (`--dump-dom`). */
export async function dumpDom(htmlFile: string): Promise<string> {
  const { flags, cleanup } = await baseFlags();
  try {
    return await chromium([...flags, '--dump-dom', pathToFileURL(htmlFile).href]);
  } finally {
    await cleanup();
  }
}
