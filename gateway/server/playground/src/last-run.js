// What the last operation run in the IDE reported about its fetches
// (`extensions.fetchTimings`), shared between the fetcher, which sees the response, and the
// plan plugin, which shows it. A tiny subscribable value, so neither imports the other.
let value = null;
const listeners = new Set();

export function setLastRun(next) {
  value = next;
  for (const listener of listeners) listener(value);
}

export function getLastRun() {
  return value;
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
