// A child process's output as whole lines, as it arrives: progress parsers (ffmpeg -progress,
// go install -v, apt-get) read it line by line, and keep its end for the error message.

export interface LineSplitter {
  /** Feeds a chunk; `onLine` gets every line it completes. */
  push(chunk: Buffer | string): void;
  /** The last characters seen (at most `keep`), for an error message. */
  readonly tail: string;
}

export function lineSplitter(onLine: (line: string) => void, keep = 4000): LineSplitter {
  let pending = '';
  let tail = '';
  return {
    push(chunk) {
      const text = chunk.toString();
      tail = (tail + text).slice(-keep);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
    get tail() {
      return tail;
    },
  };
}
