/** sha256 of a stream of bytes as a whole and of each fixed-size part of it (statemachines/bundle.ts). */
import { createHash, type Hash } from 'node:crypto';

export class PartHasher {
  private whole = createHash('sha256');
  private part: Hash = createHash('sha256');
  private inPart = 0;
  readonly parts: string[] = [];
  bytes = 0;

  constructor(
    readonly partBytes: number,
    /** Called with the index and sha256 of each part as it completes. */
    private readonly onPart: (index: number, sha256: string) => void = () => {},
  ) {}

  update(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.partBytes - this.inPart);
      const piece = chunk.subarray(at, at + take);
      this.whole.update(piece);
      this.part.update(piece);
      this.inPart += take;
      this.bytes += take;
      at += take;
      if (this.inPart === this.partBytes) this.closePart();
    }
  }

  private closePart(): void {
    const sha = this.part.digest('hex');
    this.parts.push(sha);
    this.onPart(this.parts.length - 1, sha);
    this.part = createHash('sha256');
    this.inPart = 0;
  }

  /** Ends the stream: the last, shorter part (or the one empty part of an empty object) and the whole. */
  digest(): { sha256: string; parts: string[] } {
    if (this.inPart > 0 || this.parts.length === 0) this.closePart();
    return { sha256: this.whole.digest('hex'), parts: this.parts };
  }
}
