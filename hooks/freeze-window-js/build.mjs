// Build hook.js into a WebAssembly component for the `wave-hooks` world.
//
//   npm ci && node build.mjs [--out PATH]     (default: dist/freeze_window_js.wasm)
//
// Uses ComponentizeJS's library API (`componentize()`), not `jco componentize`.
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : resolve(here, 'dist/freeze_window_js.wasm'));

const started = Date.now();
const { component } = await componentize({
  sourcePath: resolve(here, 'hook.js'),
  witPath: resolve(here, '../../host/wit'),
  worldName: 'wave-hooks',
  // http and fetch-event would import wasi:http, which the host refuses; the hook reads no
  // clock (its time comes from the wave context) and needs no randomness.
  disableFeatures: ['http', 'fetch-event', 'clocks', 'random'],
});
await mkdir(dirname(out), { recursive: true });
// Write then rename, so a reader never sees half a component.
const tmp = `${out}.tmp${process.pid}`;
await writeFile(tmp, component);
const { rename } = await import('node:fs/promises');
await rename(tmp, out);
console.log(`built ${out} (${(component.length / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
