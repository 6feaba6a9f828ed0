/** Example graphs as a list of buttons, each showing the graph's name and description; a click opens it. */
import type { Example } from '../examples.ts';

export function ExampleList({ examples, className, action, tooltips = false, onOpen }: {
  examples: readonly Example[];
  className: string;
  /** The start of each button's accessible name, before the example's name ('Open example', 'Load'). */
  action: string;
  /** Also give the description as a tooltip, where the list cuts it short. */
  tooltips?: boolean;
  onOpen(file: string, text: string): void;
}) {
  return (
    <ul className={className}>
      {examples.map((ex) => (
        <li key={ex.file}>
          <button aria-label={`${action} ${ex.name}`} title={tooltips ? ex.description : undefined} onClick={() => onOpen(ex.file, ex.text)}>
            <strong>{ex.name}</strong>
            <span>{ex.description}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
