/**
 * The vault master key inside an HSM, used through PKCS#11 (SoftHSM2 in
 * development and tests). The key is an AES-256 token object created
 * sensitive and non-extractable: it never leaves the HSM; the vault only asks
 * the HSM to encrypt and decrypt records with AES-GCM.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { ChatsafeError } from '../core/errors.js';
import { NONCE_BYTES, SEAL_VERSION, TAG_BYTES, sealError, type MasterKey } from './master-key.js';

export interface Pkcs11Options {
  modulePath: string;
  tokenLabel: string;
  pinFile: string;
  keyLabel: string;
  /** Create the key in the token when it is not there yet. */
  createIfMissing: boolean;
}

function hsmError(what: string, cause: unknown, hint = 'Check --pkcs11-module, --pkcs11-token and --pkcs11-pin-file.'): ChatsafeError {
  // PKCS#11 error messages name return codes (CKR_...), never data.
  return new ChatsafeError('io', `HSM: ${what} (${(cause as Error)?.message ?? String(cause)}).`, hint, { cause });
}

class Pkcs11MasterKey implements MasterKey {
  readonly kind = 'pkcs11' as const;
  constructor(
    private readonly lib: pkcs11js.PKCS11,
    private readonly session: Buffer,
    private readonly key: Buffer,
  ) {}

  private mechanism(iv: Buffer, context: string): pkcs11js.Mechanism {
    const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(context), ivBits: NONCE_BYTES * 8, tagBits: TAG_BYTES * 8 };
    return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
  }

  seal(plain: Buffer, context: string): Buffer {
    const iv = randomBytes(NONCE_BYTES);
    try {
      this.lib.C_EncryptInit(this.session, this.mechanism(iv, context), this.key);
      const out = this.lib.C_Encrypt(this.session, plain, Buffer.alloc(plain.length + TAG_BYTES + 16));
      return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, out]);
    } catch (e) {
      throw hsmError('encryption failed', e);
    }
  }

  open(sealed: Buffer, context: string): Buffer {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== SEAL_VERSION) throw sealError();
    const iv = sealed.subarray(1, 1 + NONCE_BYTES);
    const body = sealed.subarray(1 + NONCE_BYTES);
    try {
      this.lib.C_DecryptInit(this.session, this.mechanism(Buffer.from(iv), context), this.key);
      return Buffer.from(this.lib.C_Decrypt(this.session, body, Buffer.alloc(body.length)));
    } catch (e) {
      throw sealError(e);
    }
  }

  close(): void {
    try {
      this.lib.C_Logout(this.session);
      this.lib.C_CloseSession(this.session);
    } catch {
      // already closed
    }
    this.lib.C_Finalize();
  }
}

function findSlot(lib: pkcs11js.PKCS11, label: string): Buffer {
  for (const slot of lib.C_GetSlotList(true)) {
    const info = lib.C_GetTokenInfo(slot);
    if (info.label.trim() === label) return slot;
  }
  throw new ChatsafeError('not-found', `HSM: no token labelled "${label}".`, 'Initialize the token (for SoftHSM2: softhsm2-util --init-token --free --label LABEL), or fix --pkcs11-token.');
}

function findKeys(lib: pkcs11js.PKCS11, session: Buffer, label: string): Buffer[] {
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return lib.C_FindObjects(session, 4);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

export function openPkcs11MasterKey(opts: Pkcs11Options): MasterKey {
  let pin: string;
  try {
    pin = readFileSync(opts.pinFile, 'utf8').trim();
  } catch (e) {
    throw new ChatsafeError('io', `Cannot read the HSM PIN file ${opts.pinFile}.`, 'Check --pkcs11-pin-file and its permissions.', { cause: e });
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(opts.modulePath);
  } catch (e) {
    throw hsmError(`cannot load the PKCS#11 module ${opts.modulePath}`, e, 'Install the HSM library (for SoftHSM2: the softhsm2 package) and point --pkcs11-module at it.');
  }
  lib.C_Initialize();
  try {
    const slot = findSlot(lib, opts.tokenLabel);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (e) {
      throw hsmError('login to the token failed', e, 'Check the PIN in --pkcs11-pin-file.');
    }
    let keys = findKeys(lib, session, opts.keyLabel);
    if (keys.length === 0 && opts.createIfMissing) {
      lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_LABEL, value: opts.keyLabel },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
      ]);
      keys = findKeys(lib, session, opts.keyLabel);
    }
    if (keys.length === 0) throw new ChatsafeError('not-found', `HSM: no key labelled "${opts.keyLabel}" in token "${opts.tokenLabel}".`, 'Start one vault node once with the token to create it.');
    if (keys.length > 1) throw new ChatsafeError('conflict', `HSM: several keys are labelled "${opts.keyLabel}"; the vault cannot tell which wraps its records.`, 'Remove the duplicate that no record uses (they were created by nodes started at the same moment).');
    return new Pkcs11MasterKey(lib, session, keys[0]!);
  } catch (e) {
    try {
      lib.C_Finalize();
    } catch {
      // nothing more to release
    }
    throw e instanceof ChatsafeError ? e : hsmError('setup failed', e);
  }
}
