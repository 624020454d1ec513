// readShared: the current value of a shared variable, wherever it lives. After a compiled
// function updated it on a device, this reads it back (and makes it the host's value).

import type { NDArray, SharedVariable } from '@theorbo/graph';
import { homes } from './shared-store.ts';

export async function readShared(shared: SharedVariable): Promise<NDArray> {
  const store = homes.get(shared);
  return store ? store.read(shared) : shared.get();
}
