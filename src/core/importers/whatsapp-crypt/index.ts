/**
 * WhatsApp encrypted backups (.crypt12, .crypt14, .crypt15): key parsing,
 * format sniffing and streaming decryption. docs/whatsapp-backups.md
 * describes the formats.
 */
export type { WhatsAppBackupFormat, WhatsAppKey } from './key.js';
export { parseWhatsAppKey, loadWhatsAppKey } from './key.js';
export { sniffWhatsAppBackup } from './sniff.js';
export { decryptWhatsAppBackup } from './decrypt.js';
