/**
 * Keeps a file:// lake's reads and writes inside its root: a path whose real location (symbolic
 * links resolved, in any segment) is outside the root is refused with an error naming the object
 * and where the link leads. Links that stay inside the root are followed as before.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';

export class Confinement {
  private realRoot?: Promise<string>;

  constructor(private readonly root: string) {}

  /**
   * Throws InvalidInputError when `path` resolves outside the root; resolves quietly for a path
   * that does not exist (nothing can be read through it; a write checks its folder instead).
   */
  async check(path: string, objectUri: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    const root = await (this.realRoot ??= realpath(this.root).catch(() => this.root));
    if (real !== root && !real.startsWith(root === sep ? root : root + sep)) {
      throw new InvalidInputError(`${objectUri}: reached through a symbolic link to ${real}, outside the lake root ${root}; refused.`);
    }
  }
}
