/**
 * Media types of the files the dashboard serves, by extension. A file whose extension is not here is
 * never served, whatever its name: the allow-list is part of the path checks.
 */
export const DASHBOARD_CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** The media type for a file name, or `undefined` when the dashboard does not serve that kind of file. */
export function dashboardContentType(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0) return undefined;
  return DASHBOARD_CONTENT_TYPES[fileName.substring(dot).toLowerCase()];
}
