/** The app's choice controls: every <select> of fixed options, and a yes/no or one-of parameter's input. */
import type { BooleanParam, EnumParam, ParamValue } from '../../core/graph/params.ts';

/** A select's choices: values shown as they are, or each value with the text shown for it. */
export type SelectOptions<T extends string> = readonly T[] | readonly { value: T; label: string }[];

/**
 * A <select> of fixed choices, named by `label` for assistive technology (and the tests),
 * that reports the chosen value with its own type.
 */
export function OptionSelect<T extends string>({ label, value, options, onChange, id, disabled }: { label: string; value: T; options: SelectOptions<NoInfer<T>>; onChange: (value: NoInfer<T>) => void; id?: string; disabled?: boolean }) {
  return (
    <select id={id} aria-label={label} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as T)}>
      {options.map((o) => {
        const { value: v, label: text } = typeof o === 'string' ? { value: o, label: o } : o;
        return (
          <option key={v} value={v}>
            {text}
          </option>
        );
      })}
    </select>
  );
}

/**
 * The input of a yes/no or one-of parameter, a node's (the inspector) or an experiment's
 * setting alike: a checkbox, or a select of the options under their labels.
 */
export function ChoiceParamInput({ id, spec, value, onChange }: { id: string; spec: BooleanParam | EnumParam; value: ParamValue; onChange: (value: ParamValue) => void }) {
  if (spec.type === 'boolean') return <input id={id} type="checkbox" aria-label={spec.label} checked={value as boolean} onChange={(e) => onChange(e.target.checked)} />;
  return <OptionSelect id={id} label={spec.label} value={value as string} options={spec.options.map((o) => ({ value: o, label: spec.optionLabels?.[o] ?? o }))} onChange={onChange} />;
}
