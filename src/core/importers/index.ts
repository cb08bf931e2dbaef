/** The importers' public surface: detection, catalog building, and reading attachments kept inside export zips. */
export { detectSource } from './detect.js';
export { buildCatalog, type BuildCatalogOptions } from './import.js';
export { readZipMedia } from './import-export-text.js';
export * from './types.js';
