// Example wave hook in JavaScript: a change-freeze window gate.
//
// Built into a WebAssembly component against host/wit/hooks.wit (world `wave-hooks`) by
// build.mjs with ComponentizeJS. The WIT maps to JavaScript like this (jco's conventions):
// records are objects with camelCase fields (`executionId`, `sourceServerId`), enums are
// strings ('drill', 'info'), tuples are arrays, and variants are `{ tag, val }` objects.
//
// before-wave: `pause` when the wave's time falls in a freeze window, else `proceed`.
// after-wave: `abort` when more than half of the wave's servers failed to launch, else `proceed`.
//
// The time: the context's `now`, the module's clock (Unix seconds); the hook reads no other
// clock (the sandbox's WASI clocks read that same instant).
//
// The windows. `FREEZE_WINDOWS` below (the tenant's own, built into its hook) and any
// `change-freeze` tag on a server of the wave: one or more ISO 8601 intervals
// `START/END` separated by spaces, e.g. `2025-12-19T00:00:00Z/2026-01-05T00:00:00Z`
// (AWS tag values allow `:`, `/` and spaces). Start inclusive, end exclusive. A malformed
// tag also pauses: someone meant a freeze there.
//
// A recovery (a real failover) is never held by a change freeze: it logs a warning and proceeds.

import { log } from 'drs-orch:hooks/host-log@0.2.0';

/** The tenant's freeze windows, UTC. */
export const FREEZE_WINDOWS = [
  { start: '2025-12-19T00:00:00Z', end: '2026-01-05T00:00:00Z', reason: 'year-end change freeze' },
  { start: '2026-12-18T00:00:00Z', end: '2027-01-04T00:00:00Z', reason: 'year-end change freeze' },
];

const FREEZE_TAG = 'change-freeze';

const proceed = () => ({ tag: 'proceed' });
const pause = (reason) => ({ tag: 'pause', val: reason });
const abort = (reason) => ({ tag: 'abort', val: reason });

/** Milliseconds since the epoch of an ISO 8601 UTC timestamp, basic or extended; NaN if not one. */
function parseUtc(text) {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2})(?::?(\d{2}))?Z$/.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2025-02-30 over to March: refuse what does not round-trip.
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return NaN;
  return ms;
}

/** Windows from the servers' `change-freeze` tags; throws naming the server on a bad value. */
function tagWindows(servers) {
  const windows = [];
  for (const server of servers) {
    for (const [key, value] of server.tags) {
      if (key !== FREEZE_TAG) continue;
      for (const interval of value.trim().split(/\s+/).filter(Boolean)) {
        const [start, end, extra] = interval.split('/');
        const window = { start, end, reason: `${FREEZE_TAG} tag on ${server.sourceServerId}` };
        const [from, to] = [parseUtc(start ?? ''), parseUtc(end ?? '')];
        if (extra !== undefined || Number.isNaN(from) || Number.isNaN(to) || from >= to) {
          throw new Error(`${server.sourceServerId} has a malformed ${FREEZE_TAG} tag "${value}" (want START/END, UTC ISO 8601)`);
        }
        windows.push(window);
      }
    }
  }
  return windows;
}

/** The only tag this hook reads: the host passes servers no other. */
export function tagKeys() {
  return [FREEZE_TAG];
}

export function beforeWave(context) {
  const wave = `wave ${context.waveIndex} (${context.waveName})`;
  let windows;
  try {
    windows = FREEZE_WINDOWS.concat(tagWindows(context.servers));
  } catch (e) {
    return pause(`change-freeze gate: ${e.message}`);
  }
  // The module's clock (u64 Unix seconds arrives as a BigInt).
  const now = Number(context.now) * 1000;
  const active = windows.find((w) => parseUtc(w.start) <= now && now < parseUtc(w.end));
  const at = new Date(now).toISOString();
  if (!active) {
    log('debug', `${wave} at ${at}: no change freeze`);
    return proceed();
  }
  const why = `${at} is inside ${active.reason} ${active.start}/${active.end}`;
  if (context.mode === 'recovery') {
    log('warn', `${wave}: ${why}; a recovery is not held by a change freeze`);
    return proceed();
  }
  log('info', `${wave}: pausing, ${why}`);
  return pause(`change freeze: ${why}; approve to run ${wave} anyway`);
}

export function afterWave(result) {
  const failed = result.outcomes.filter((o) => o.outcome.tag === 'failed');
  const total = result.outcomes.length;
  const wave = `wave ${result.context.waveIndex} (${result.context.waveName})`;
  if (failed.length === 0) return proceed();
  const names = failed.map((o) => `${o.server.sourceServerId}: ${o.outcome.val}`);
  if (failed.length * 2 > total) {
    return abort(`${failed.length} of ${total} servers failed to launch in ${wave}: ${names.slice(0, 5).join('; ')}`);
  }
  log('warn', `${failed.length} of ${total} servers failed to launch in ${wave}; proceeding`);
  return proceed();
}
