import { ChatsafeError } from '../../core/errors.js';
import type { CliIO } from '../io.js';
import type { RepoArgs } from '../repo-access.js';

export async function restoreBundleCommand(_bundle: string, _values: RepoArgs, _target: string, _io: CliIO): Promise<number> {
  throw new ChatsafeError('unsupported', 'Restoring bundles is not available in this build yet.');
}
