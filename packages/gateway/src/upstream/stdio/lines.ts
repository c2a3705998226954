/**
 * Splits a byte stream into newline-delimited lines, each at most `maxBytes` long. A
 * longer line is never held in memory: its bytes are dropped as they arrive and the line
 * is reported as skipped once its newline comes, so a process printing one endless line
 * costs the gateway nothing but the chunk in hand.
 */
export interface LineEvents {
  line(text: string): void;
  /** A line over the limit was dropped; `bytes` is how long it was, `head` its first bytes (to tell whose answer it was). */
  skipped(bytes: number, head: string): void;
}

const NEWLINE = 0x0a;
/** How much of a dropped line is kept: enough for `{"jsonrpc":"2.0","id":...`. */
const HEAD_BYTES = 256;

export class LineSplitter {
  /** The pieces of the line being read, while it stays under the limit. */
  #pieces: Buffer[] = [];
  #length = 0;
  /** Set while the current line is over the limit: its bytes are counted, not kept. */
  #dropping = false;
  #head = '';

  constructor(
    readonly maxBytes: number,
    readonly events: LineEvents,
  ) {}

  /** Feeds one chunk; calls `line` or `skipped` for every line the chunk ends. */
  write(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.#take(chunk.subarray(start, end));
      this.#endLine();
      start = end + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    if (this.#length > 0 || this.#dropping) this.#endLine();
  }

  #take(piece: Buffer): void {
    this.#length += piece.length;
    if (this.#dropping) return;
    if (this.#length > this.maxBytes) {
      this.#dropping = true;
      this.#head = headOf([...this.#pieces, piece]);
      this.#pieces = [];
      return;
    }
    // A view, not a copy: a stream never reuses a chunk it has handed out.
    if (piece.length > 0) this.#pieces.push(piece);
  }

  #endLine(): void {
    const length = this.#length;
    const dropped = this.#dropping;
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#length = 0;
    this.#dropping = false;
    if (dropped) {
      this.events.skipped(length, this.#head);
      return;
    }
    const text = (pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces)).toString('utf8');
    // Windows-style line ends are tolerated; blank lines say nothing.
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim() !== '') this.events.line(line);
  }
}

/** The first HEAD_BYTES of a line's pieces, copying no more than that. */
function headOf(pieces: Buffer[]): string {
  const taken: Buffer[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length >= HEAD_BYTES) break;
    const part = piece.subarray(0, HEAD_BYTES - length);
    taken.push(part);
    length += part.length;
  }
  return Buffer.concat(taken).toString('utf8');
}
