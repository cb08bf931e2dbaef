/**
 * The `profiles.*` channels: saved storage destinations. A secret comes in
 * with `profiles.save` and is never answered back; an edit without a new
 * secret keeps the saved one only while it would go to the same server for the
 * same account (`keepsSecret`); an edit that moves it must bring the secret again.
 */
import { ChatsafeError } from '../core/errors.js';
import { openStorage } from './access.js';
import type { AppContext, Handler } from './calls.js';
import { MAX_PROFILES } from './contract.js';
import { destinationOf, keepsSecret, needsSecret, profileView, type StoredProfile } from './storage-profiles.js';
import { randomBytes } from 'node:crypto';

const save: Handler<'profiles.save'> = async (req, ctx: AppContext) => {
  let saved: StoredProfile | null = null;
  await ctx.opts.settings.updateProfiles((list) => {
    const existing = req.id === undefined ? null : (list.find((p) => p.id === req.id) ?? null);
    if (req.id !== undefined && !existing) throw new ChatsafeError('not-found', 'That saved destination no longer exists.', 'Add it again.');
    if (list.some((p) => p.id !== req.id && p.name.toLowerCase() === req.name.toLowerCase())) {
      throw new ChatsafeError('conflict', `A destination named "${req.name}" is already saved.`, 'Choose another name, or edit that one.');
    }
    if (!existing && list.length >= MAX_PROFILES) throw new ChatsafeError('conflict', `At most ${MAX_PROFILES} destinations can be saved.`, 'Remove one you no longer use.');
    const kept = existing && keepsSecret(existing.target, req.target) ? existing.secret : null;
    const secret = needsSecret(req.target) ? (req.secret ?? kept) : null;
    if (needsSecret(req.target) && secret === null) {
      const what = req.target.kind === 's3' ? 'secret access key' : 'password';
      if (existing?.secret && existing.target.kind === req.target.kind) {
        const where = req.target.kind === 's3' ? 'endpoint, region, bucket, path style or access key id' : 'WebDAV address or user';
        throw new ChatsafeError('usage', `The ${where} changed: enter the ${what} again for the new address.`, `A saved ${what} is only used with the address it was saved for. Nothing was changed.`);
      }
      throw new ChatsafeError('usage', `Enter the ${what} for this destination.`, 'It is stored sealed on this computer and never shown again.');
    }
    const profile: StoredProfile = { id: existing?.id ?? randomBytes(12).toString('base64url'), name: req.name, target: req.target, secret };
    // The core checks the address it will be given (bucket, prefix, plain http only to this machine…) now, not at the first backup.
    openStorage(destinationOf(profile));
    saved = profile;
    return existing ? list.map((p) => (p.id === profile.id ? profile : p)) : [...list, profile];
  });
  return profileView(saved!);
};

export const PROFILE_HANDLERS: { 'profiles.list': Handler<'profiles.list'>; 'profiles.save': Handler<'profiles.save'>; 'profiles.remove': Handler<'profiles.remove'> } = {
  'profiles.list': async (_req, ctx) => ({ profiles: (await ctx.opts.settings.loadProfiles()).map(profileView) }),
  'profiles.save': save,
  'profiles.remove': async (req, ctx) => {
    let found = false;
    await ctx.opts.settings.updateProfiles((list) => {
      found = list.some((p) => p.id === req.id);
      return list.filter((p) => p.id !== req.id);
    });
    if (!found) throw new ChatsafeError('not-found', 'That saved destination no longer exists.', 'Nothing was removed.');
    return { ok: true as const };
  },
};
