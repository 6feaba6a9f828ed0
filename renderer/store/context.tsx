import type { ReactNode } from 'react';
import { useStore } from 'zustand';
import type { Platform } from '../../core/platform.ts';
import { requiredContext } from '../required-context.ts';
import type { EditorState, EditorStore } from './editor.ts';

const storeContext = requiredContext<EditorStore>('useEditorStore', 'EditorProvider');
const platformContext = requiredContext<Platform>('usePlatform', 'EditorProvider');

export function EditorProvider({ store, platform, children }: { store: EditorStore; platform: Platform; children: ReactNode }) {
  return (
    <platformContext.Provider value={platform}>
      <storeContext.Provider value={store}>{children}</storeContext.Provider>
    </platformContext.Provider>
  );
}

export const useEditorStore: () => EditorStore = storeContext.use;

/** Read the editor state through a narrow selector (components re-render only when it changes). */
export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}

export const usePlatform: () => Platform = platformContext.use;
