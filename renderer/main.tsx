import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { Platform } from '../core/platform.ts';
import { App } from './App.tsx';
import { createBrowserPlatform } from './platform/browser.ts';
import { createElectronPlatform } from './platform/electron.ts';
import { EditorProvider } from './store/context.tsx';
import { createEditorStore } from './store/editor.ts';
import { assetUrls, createTrainingWorker } from './train/assets.ts';
import { RunProvider } from './train/context.tsx';
import { createRunStore, TrainingClient } from './train/run.ts';

// The desktop app's preload exposes a bridge; the web build has none.
const platform: Platform = window.gradflowBridge ? createElectronPlatform(window.gradflowBridge) : createBrowserPlatform();
const training = new TrainingClient(createRunStore(), assetUrls(), createTrainingWorker);
// The graph is locked exactly while the run store says a run is live.
const store = createEditorStore(undefined, { isLocked: () => training.live });
// Exposed for end-to-end tests and debugging (reading state only).
(window as unknown as { __gradflow: unknown }).__gradflow = { store, run: training.store };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <EditorProvider store={store} platform={platform}>
      <RunProvider client={training}>
        <App />
      </RunProvider>
    </EditorProvider>
  </StrictMode>,
);
