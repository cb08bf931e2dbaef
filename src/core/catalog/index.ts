export { Catalog, openCatalog, ftsQuery, type ListMessagesOptions } from './catalog.js';
export { CatalogWriter, type NewMessage, type NewCall } from './writer.js';
export * from './types.js';
export { CATALOG_SCHEMA_VERSION } from './schema.js';
export { exportHtml, escapeHtml, type ExportHtmlOptions } from './export-html.js';
