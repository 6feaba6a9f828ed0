/**
 * The desktop app's security settings in one place, following Electron's security checklist:
 * the renderer is sandboxed and isolated with no Node.js, loads only our own files under a
 * strict Content-Security-Policy, cannot navigate or open windows, can hand only https links
 * to the system browser (checked with a URL parser), and gets no permission it does not need.
 * tests/unit/electron-security.test.ts checks all of it statically.
 */

/**
 * "scheme://host" of a URL, or null. Not URL.origin: Node's URL gives "null" as the origin of
 * every custom scheme (app://gradflow included), which would make all of them compare equal.
 */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host === '' ? null : `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

/** Where links may go: the system browser, for https only. */
export function safeExternalUrl(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 4096) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  // A parser, not a prefix test: "https:evil", "HTTPS://x" or "https://user:pw@host" are all
  // decided by what the URL actually is.
  if (u.protocol !== 'https:' || u.hostname === '' || u.username !== '' || u.password !== '') return null;
  return u.href;
}

/**
 * The Content-Security-Policy of every app:// response (sent as a header, so it also covers
 * workers, which do not read <meta> tags).
 * - script-src: our files; 'wasm-unsafe-eval' lets the WASM backend compile WebAssembly
 *   (it does not allow eval); blob: because the threaded WASM backend starts its pthread
 *   workers from a blob of its own script.
 * - style-src 'unsafe-inline': React Flow and the charts position elements with style
 *   attributes; styles cannot run code.
 * - connect-src: our own files (the .wasm binaries, the MNIST sample) and nothing remote.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' blob: data:",
  "manifest-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "child-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Headers on every app:// response: cross-origin isolation, the CSP, and no sniffing. */
export function responseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    // COOP + COEP make the page cross-origin isolated, which is what enables SharedArrayBuffer
    // and so the WASM backend's threads.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/**
 * The window's webPreferences. Each line is a checklist item: no Node.js in the page or its
 * workers, the preload in an isolated world, the renderer process sandboxed, web security on,
 * no <webview>, no experimental Blink features.
 */
export function secureWebPreferences(preload: string, options: { devTools: boolean }) {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools,
  } as const;
}

/**
 * The exact type of the settings above: every security value as a literal type, so that
 * main.ts's literal webPreferences `satisfies` it only when each value is the secure one.
 */
export type SecureWebPreferences = ReturnType<typeof secureWebPreferences>;

/** Permissions the editor uses, and only for its own origin: the clipboard for copy and paste of nodes. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-read', 'clipboard-sanitized-write']);

export function isPermissionAllowed(permission: string, requestingUrl: string | undefined, appOrigin: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && !!requestingUrl && originOf(requestingUrl) === appOrigin;
}

/** The piece of a webContents that the hardening below touches (so tests can pass a fake). */
export interface HardenableContents {
  on(event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', listener: (event: { preventDefault(): void; url: string }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface HardenOptions {
  /** The app's own origin (app://gradflow): the only place the page may be. */
  appOrigin: string;
  openExternal: (url: string) => void;
  log?: (message: string) => void;
}

function isAppUrl(url: string, appOrigin: string): boolean {
  return originOf(url) === appOrigin;
}

/**
 * Deny navigation away from the app and every new window. An https link the user clicks
 * opens in the system browser instead; anything else is refused and logged.
 */
export function hardenWebContents(contents: HardenableContents, options: HardenOptions): void {
  const external = (url: string) => {
    const safe = safeExternalUrl(url);
    if (safe) options.openExternal(safe);
    else options.log?.(`Refused to open ${url.slice(0, 200)}: only https links open outside the app`);
  };
  contents.on('will-navigate', (e) => {
    e.preventDefault();
    external(e.url);
  });
  // Subframes and redirects: the app has neither; any attempt is refused.
  contents.on('will-frame-navigate', (e) => {
    if (!isAppUrl(e.url, options.appOrigin)) e.preventDefault();
  });
  contents.on('will-redirect', (e) => {
    if (!isAppUrl(e.url, options.appOrigin)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    external(url);
    return { action: 'deny' };
  });
}

/**
 * Chromium switches for the app. `--enable-features` is joined into ONE comma-separated
 * value, together with any the user passed, because Chromium keeps only the last
 * `--enable-features` it is given: a second appendSwitch would silently drop the first list.
 *
 * WebGPU is on by default on Windows and macOS. On Linux it needs Vulkan (and ANGLE on
 * Vulkan, without which current Chromium finds no adapter) plus `enable-unsafe-webgpu`,
 * which lifts Chromium's Linux blocklist. The trainer falls back to WebGL, WASM or the CPU
 * when no adapter comes (and says so), and GRADFLOW_DISABLE_WEBGPU=1 leaves all of this off for
 * drivers whose Vulkan misbehaves.
 */
export function chromiumSwitches(platform: NodeJS.Platform, env: Record<string, string | undefined>, existingFeatures = ''): [string, string?][] {
  const webgpu = env.GRADFLOW_DISABLE_WEBGPU !== '1';
  const features = existingFeatures.split(',').map((f) => f.trim()).filter(Boolean);
  if (webgpu && platform === 'linux') features.push('Vulkan', 'VulkanFromANGLE', 'DefaultANGLEVulkan');
  const unique = [...new Set(features)];
  const switches: [string, string?][] = [];
  if (unique.length > 0) switches.push(['enable-features', unique.join(',')]);
  if (webgpu && platform === 'linux') switches.push(['enable-unsafe-webgpu']);
  return switches;
}
