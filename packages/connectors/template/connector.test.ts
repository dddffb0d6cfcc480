import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnector } from '../src/contract/options.js';
import { defineConnectorContract, snapshotDirectory } from '../src/testing/index.js';
import { __NAME__ } from '../src/__name__/index.js';

/**
 * Step 4: run the contract suite against a real peer of your target. `snapshot` shows what a reader at the target
 * sees; `breakTemporarily`/`restore` simulate an outage; add `breakPermanently` if the target can reject content.
 */
defineConnectorContract('__name__', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'efa-__name__-'));
  return {
    connector: createConnector(__NAME__, 'sample', { directory }),
    peer: {
      snapshot: () => snapshotDirectory(directory),
      breakTemporarily: () => rename(directory, `${directory}-away`),
      restore: () => rename(`${directory}-away`, directory).catch(() => {}),
    },
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});
