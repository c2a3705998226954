/**
 * A progress line on stderr for anything that waits, drawn only when stderr is a terminal:
 * piped or captured output (scripts, CI, `--json | jq`) never sees it.
 */

export interface Progress {
  /** Replaces the text after the spinner (a tool's progress message, a step). */
  update(text: string): void;
  /** Clears the line; safe to call twice. */
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const NONE: Progress = { update: () => {}, stop: () => {} };
/** One spinner at a time: work inside work (a request inside a registration) keeps the outer line. */
let drawing = false;

/** Starts a spinner with `text` on `stream` when it is a TTY and no spinner is drawn yet; otherwise does nothing. */
export function startProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, text: string): Progress {
  if (stream.isTTY !== true || drawing) return NONE;
  drawing = true;
  let label = text;
  let frame = 0;
  let stopped = false;
  const draw = () => {
    frame = (frame + 1) % FRAMES.length;
    stream.write(`\r\u001b[2K${FRAMES[frame]} ${label}`);
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    update: (next) => {
      label = next;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      drawing = false;
      clearInterval(timer);
      stream.write('\r\u001b[2K');
    },
  };
}

/** Runs `work` with a spinner showing `text`, cleared however it ends. */
export async function withProgress<T>(stream: NodeJS.WritableStream & { isTTY?: boolean }, text: string, work: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = startProgress(stream, text);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}
