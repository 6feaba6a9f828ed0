import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, APP_SCHEME_PRIVILEGES, mimeType, resolveAppUrl, serveAppRequest } from '../../electron/protocol.ts';

const ROOT = '/opt/gradflow/dist/renderer';

describe('app:// resolves only files inside the renderer folder', () => {
  it.each([
    ['app://gradflow/index.html', `${ROOT}/index.html`],
    ['app://gradflow/', `${ROOT}/index.html`],
    ['app://gradflow', `${ROOT}/index.html`],
    ['app://gradflow/assets/index-abc.js', `${ROOT}/assets/index-abc.js`],
    ['app://gradflow/assets/a%20b.js?x=1#y', `${ROOT}/assets/a b.js`],
    ['app://gradflow//assets///x.css', `${ROOT}/assets/x.css`],
  ])('%s → the file', (url, file) => {
    expect(resolveAppUrl(url, ROOT)).toEqual({ ok: true, file });
  });

  it.each([
    ['app://gradflow/../../etc/passwd', 'the URL parser removes ".." itself, so this stays inside'],
    ['app://gradflow/%2e%2e/%2e%2e/etc/passwd', 'percent-encoded dots'],
    ['app://gradflow/assets/..%2f..%2fetc/passwd', 'encoded slash'],
    ['app://gradflow/assets/..%5c..%5cetc', 'encoded backslash'],
    ['app://gradflow/a%00.js', 'NUL'],
    ['app://gradflow/%E0%A4%A', 'malformed escape'],
    ['app://evil/index.html', 'another host'],
    ['https://gradflow/index.html', 'another scheme'],
    ['not a url', 'not a URL'],
  ])('%s is refused or kept inside (%s)', (url) => {
    const r = resolveAppUrl(url, ROOT);
    if (r.ok) expect(r.file.startsWith(`${ROOT}/`)).toBe(true);
    else expect([400, 403]).toContain(r.status);
  });

  it('refuses methods other than GET and HEAD', () => {
    expect(resolveAppUrl(APP_ENTRY_URL, ROOT, 'POST')).toMatchObject({ ok: false, status: 405 });
  });

  it('names MIME types that WebAssembly and module scripts require', () => {
    expect(mimeType('a.wasm')).toBe('application/wasm');
    expect(mimeType('a.js')).toMatch(/^text\/javascript/);
    expect(mimeType('a.mjs')).toMatch(/^text\/javascript/);
    expect(mimeType('index.HTML')).toMatch(/^text\/html/);
    expect(mimeType('mnist-10k.bin')).toBe('application/octet-stream');
    expect(mimeType('noext')).toBe('application/octet-stream');
  });

  it('is registered as a secure standard scheme with fetch, CORS and streaming', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true });
  });
});

describe('serving the built renderer', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gradflow-proto-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html>');
    await writeFile(join(root, 'assets', 'backend.wasm'), new Uint8Array([0, 97, 115, 109]));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  const read = (f: string) => readFile(f).then((b) => new Uint8Array(b));

  it('serves files with cross-origin isolation and the CSP', async () => {
    const r = await serveAppRequest({ url: 'app://gradflow/index.html', method: 'GET' }, root, read);
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body!)).toBe('<!doctype html>');
    expect(r.headers['Cross-Origin-Opener-Policy']).toBe('same-origin');
    expect(r.headers['Cross-Origin-Embedder-Policy']).toBe('require-corp');
    expect(r.headers['Content-Security-Policy']).toContain("default-src 'none'");
    expect(r.headers['Content-Type']).toMatch(/^text\/html/);
  });

  it('serves WebAssembly as application/wasm', async () => {
    const r = await serveAppRequest({ url: 'app://gradflow/assets/backend.wasm', method: 'GET' }, root, read);
    expect(r.headers['Content-Type']).toBe('application/wasm');
    expect(r.headers['Content-Length']).toBe('4');
  });

  it('answers HEAD without a body', async () => {
    const r = await serveAppRequest({ url: 'app://gradflow/index.html', method: 'HEAD' }, root, read);
    expect(r.status).toBe(200);
    expect(r.body).toBeNull();
  });

  it('404s a missing file and 403s an escape, still with the security headers', async () => {
    const missing = await serveAppRequest({ url: 'app://gradflow/nope.js', method: 'GET' }, root, read);
    expect(missing.status).toBe(404);
    expect(missing.headers['Cross-Origin-Embedder-Policy']).toBe('require-corp');
    const escape = await serveAppRequest({ url: 'app://gradflow/..%2fsecret', method: 'GET' }, root, read);
    expect(escape.status).toBe(403);
    expect(escape.headers['Content-Security-Policy']).toBeTruthy();
  });
});
