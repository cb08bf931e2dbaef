/**
 * Trees: one blob per directory, listing its entries sorted by name. Because
 * a tree is a blob addressed by its content, an unchanged directory costs
 * nothing in the next snapshot. Names come back from storage as hostile input
 * and are validated so a restore can never escape its target folder.
 */
import { z } from 'zod';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** A single path component: no separators, not `.`/`..`, no NUL, not empty. */
export const SafeName = z
  .string()
  .min(1)
  .max(1024)
  .refine((n) => n !== '.' && n !== '..' && !/[/\\\0]/.test(n), 'unsafe file name');
const nsTime = z.string().regex(/^-?\d{1,22}$/);

const common = { name: SafeName, mode: z.number().int().min(0).max(0o7777), mtimeNs: nsTime };

export const TreeNodeSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...common,
      type: z.literal('file'),
      size: z.number().int().nonnegative(),
      content: z.array(hex64),
      // change detection against the next backup's file system; meaningless elsewhere
      inode: z.string().regex(/^\d{1,24}$/).optional(),
      ctimeNs: nsTime.optional(),
    })
    .strict(),
  z.object({ ...common, type: z.literal('dir'), subtree: hex64 }).strict(),
  z.object({ ...common, type: z.literal('symlink'), target: z.string().min(1).max(4096).refine((t) => !t.includes('\0')) }).strict(),
]);
export type TreeNode = z.infer<typeof TreeNodeSchema>;
export type FileNode = Extract<TreeNode, { type: 'file' }>;
export type DirNode = Extract<TreeNode, { type: 'dir' }>;

export const TreeSchema = z
  .object({ nodes: z.array(TreeNodeSchema) })
  .strict()
  .refine((t) => t.nodes.every((n, i) => i === 0 || t.nodes[i - 1]!.name < n.name), 'entries must be sorted and unique');
export type Tree = z.infer<typeof TreeSchema>;

export function encodeTree(tree: Tree): Buffer {
  return Buffer.from(JSON.stringify(tree), 'utf8');
}

export function sortNodes(nodes: TreeNode[]): TreeNode[] {
  return nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
