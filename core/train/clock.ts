/** The training loop's clock and its way of letting the event loop run between steps. */

/** Milliseconds from a monotonic clock where there is one (performance.now), else Date.now. */
export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Resolves on the next turn of the event loop, so that pause/stop messages and UI events
 * get through between batches of training steps.
 */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else {
      // addEventListener (with start()) rather than onmessage: the one form that both the
      // DOM's and Node's MessagePort declare, so core/ typechecks without the DOM lib.
      const ch = new MessageChannel();
      ch.port1.addEventListener('message', () => resolve(), { once: true });
      ch.port1.start();
      ch.port2.postMessage(null);
    }
  });
