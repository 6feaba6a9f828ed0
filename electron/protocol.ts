/**
 * The app:// protocol that serves the built renderer (dist/renderer) to the window. A custom
 * protocol rather than file:// because it can send headers: cross-origin isolation
 * (COOP/COEP, which the WASM backend's threads need for SharedArrayBuffer), the
 * Content-Security-Policy, and correct MIME types (WebAssembly streaming compilation insists
 * on application/wasm). It serves files under the renderer folder and nothing else.
 */
import * as nodePath from 'node:path';
import { responseHeaders } from './security.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'gradflow';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The URL the window loads. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * How the scheme is registered (before the app is ready): standard (relative URLs and an
 * origin), secure (a secure context, which crossOriginIsolated and WebGPU require),
 * fetch and CORS support (module scripts and workers are fetched in CORS mode), streaming
 * (large .wasm and dataset files) and a code cache.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  stream: true,
  codeCache: true,
} as const;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.nngraph': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
};

export function mimeType(file: string): string {
  return MIME[nodePath.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type ResolvedRequest = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404 | 405; reason: string };

/**
 * Map an app:// URL to a file under `root`, refusing anything that could reach outside it:
 * another host, encoded slashes or backslashes, NUL, ".." segments, and (after resolving)
 * any path not inside root. "/" is index.html.
 */
export function resolveAppUrl(url: string, root: string, method = 'GET'): ResolvedRequest {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405, reason: `method ${method} not allowed` };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { ok: false, status: 403, reason: `not ${APP_ORIGIN}` };
  const raw = u.pathname;
  if (/%2f|%5c|%00/i.test(raw)) return { ok: false, status: 403, reason: 'encoded separator in path' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, reason: 'malformed path' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 403, reason: 'invalid character in path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 403, reason: 'path leaves the app folder' };
  const rel = segments.length === 0 ? 'index.html' : segments.join('/');
  const base = nodePath.resolve(root);
  const file = nodePath.resolve(base, rel);
  if (file !== base && !file.startsWith(base + nodePath.sep)) return { ok: false, status: 403, reason: 'path leaves the app folder' };
  return { ok: true, file };
}

export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

/**
 * Answer one request: the file with its MIME type and the security headers, or an error
 * status with the same headers (an error page must not be less isolated than the app).
 */
export async function serveAppRequest(
  request: { url: string; method: string },
  root: string,
  readFile: (file: string) => Promise<Uint8Array>,
): Promise<AppResponse> {
  const r = resolveAppUrl(request.url, root, request.method);
  const plain = { ...responseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' };
  if (!r.ok) return { status: r.status, headers: plain, body: new TextEncoder().encode(r.reason) };
  let body: Uint8Array;
  try {
    body = await readFile(r.file);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const status = code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' ? 404 : 500;
    return { status, headers: plain, body: new TextEncoder().encode(status === 404 ? 'not found' : 'could not read the file') };
  }
  return {
    status: 200,
    headers: { ...responseHeaders(), 'Content-Type': mimeType(r.file), 'Content-Length': String(body.byteLength) },
    body: request.method === 'HEAD' ? null : body,
  };
}
