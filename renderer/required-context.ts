/** React contexts that must have a provider above every reader (the editor store, the platform, the run, the commands). */
import { createContext, useContext, type Provider } from 'react';

/**
 * A context whose readers must sit inside its provider: the Provider, and `use`, which reads
 * the value or throws naming the hook and the provider (a wiring bug, said where it happens
 * rather than as an undefined value later).
 */
export function requiredContext<T>(hook: string, provider: string): { Provider: Provider<T | null>; use: () => T } {
  const context = createContext<T | null>(null);
  return {
    Provider: context.Provider,
    use: () => {
      const value = useContext(context);
      if (!value) throw new Error(`${hook} outside ${provider}`);
      return value;
    },
  };
}
