import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { wasmThreadsSurviveBundling } from './scripts/vite-wasm-threads.ts';

// Cross-origin isolation (COOP/COEP) lets the WASM backend use threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const MNIST_FILE = 'mnist-10k.bin';

/**
 * Serves the MNIST digits as the compact binary (built from the `mnist` package on first
 * use, cached in .cache/) in development, and emits it next to the app in builds.
 */
function mnistAsset(): Plugin {
  const bytes = async () => {
    const { loadMnistNode } = await import('./core/data/mnist-node.ts');
    const { encodeMnistBinary } = await import('./core/data/mnist.ts');
    return encodeMnistBinary(await loadMnistNode());
  };
  return {
    name: 'gradflow-mnist',
    configureServer(server) {
      server.middlewares.use(`/${MNIST_FILE}`, (_req, res) => {
        bytes().then(
          (b) => {
            res.setHeader('Content-Type', 'application/octet-stream');
            res.end(Buffer.from(b));
          },
          (e) => {
            res.statusCode = 500;
            res.end(String(e));
          },
        );
      });
    },
    async generateBundle() {
      this.emitFile({ type: 'asset', fileName: MNIST_FILE, source: await bytes() });
    },
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), mnistAsset(), wasmThreadsSurviveBundling()],
  // The training worker bundles tfjs-backend-wasm: its threaded build must survive minification.
  worker: { format: 'es', plugins: () => [wasmThreadsSurviveBundling()] },
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: isolation, fs: { allow: ['..'] } },
  preview: { host: '127.0.0.1', port: 4173, headers: isolation },
});
