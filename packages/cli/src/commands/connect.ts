import { startBridge } from '../connect.js';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { USAGE } from './specs.js';

/** `meshgate connect`: relays stdio to the gateway until the client closes stdin (or sends SIGTERM). */
export async function connect(context: Context, positionals: string[]): Promise<void> {
  if (positionals.length > 0) throw usageError(`unexpected ${positionals.join(' ')}\n\n${USAGE.connect}`);
  const bridge = await startBridge(context);
  // A client that stops the server with a signal instead of closing stdin: end the gateway session all the same.
  const stop = () => {
    void bridge.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await bridge.closed;
}
