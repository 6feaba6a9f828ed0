import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { Platform } from '../../core/platform.ts';
import type { EditorState, EditorStore } from './editor.ts';

const StoreContext = createContext<EditorStore | null>(null);
const PlatformContext = createContext<Platform | null>(null);

export function EditorProvider({ store, platform, children }: { store: EditorStore; platform: Platform; children: ReactNode }) {
  return (
    <PlatformContext.Provider value={platform}>
      <StoreContext.Provider value={store}>{children}</StoreContext.Provider>
    </PlatformContext.Provider>
  );
}

export function useEditorStore(): EditorStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useEditorStore outside EditorProvider');
  return s;
}

/** Read the editor state through a narrow selector (components re-render only when it changes). */
export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}

export function usePlatform(): Platform {
  const p = useContext(PlatformContext);
  if (!p) throw new Error('usePlatform outside EditorProvider');
  return p;
}
