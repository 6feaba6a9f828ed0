/**
 * "Build the MNIST MLP step by step": the steps of the course's first network, each checked
 * against the document itself (not against clicks), so the guide follows however the user
 * builds it: palette, quick add, paste, undo.
 */
import { kindDef } from '../core/graph/catalogue.ts';
import type { GraphDocument } from '../core/graph/document.ts';

export interface GuideStep {
  title: string;
  /** Where to find what the step needs. */
  hint: string;
  done: boolean;
}

/** The steps, each with whether the document (and the run) already shows it done. */
export function mnistGuide(doc: Pick<GraphDocument, 'nodes' | 'edges'>, trained: boolean): GuideStep[] {
  const into = (target: string, port: string) => doc.edges.find((e) => e.target === target && e.targetPort === port);
  const datasets = doc.nodes.filter((n) => n.kind === 'dataset' && n.params.source === 'mnist').map((n) => n.id);
  const flattens = doc.nodes.filter((n) => n.kind === 'flatten' && datasets.includes(into(n.id, 'in')?.source ?? '')).map((n) => n.id);
  const hidden = doc.nodes.filter((n) => n.kind === 'dense' && n.params.units === 256 && flattens.includes(into(n.id, 'in')?.source ?? '')).map((n) => n.id);
  const activated = doc.nodes.filter((n) => n.kind === 'relu' && hidden.includes(into(n.id, 'in')?.source ?? '')).map((n) => n.id);
  const outputs = doc.nodes.filter((n) => n.kind === 'dense' && n.params.units === 10 && !!into(n.id, 'in')).map((n) => n.id);
  const losses = doc.nodes
    .filter((n) => n.kind === 'softmaxCrossEntropy' && outputs.includes(into(n.id, 'pred')?.source ?? '') && datasets.includes(into(n.id, 'target')?.source ?? ''))
    .map((n) => n.id);
  const optimized = doc.nodes.some((n) => kindDef(n.kind)?.category === 'Optimizers' && losses.includes(into(n.id, 'loss')?.source ?? ''));
  return [
    { title: 'Add a Dataset and set its Source to MNIST', hint: 'Palette → Data → Dataset; then Source in the inspector on the right.', done: datasets.length > 0 },
    { title: 'Add Flatten and wire the dataset’s x into it', hint: 'Palette → Layers → Flatten; drag from the x port to Flatten’s input. 28×28 images become 784 numbers.', done: flattens.length > 0 },
    { title: 'Add Dense with 256 units after Flatten, then ReLU', hint: 'Palette → Layers → Dense (Units 256 in the inspector), Palette → Activations → ReLU.', done: activated.length > 0 },
    { title: 'Add Dense with 10 units: one score per digit', hint: 'Wire the ReLU (or more hidden layers) into it.', done: outputs.length > 0 },
    { title: 'Add Softmax cross-entropy: scores into pred, the dataset’s y into target', hint: 'Palette → Losses. It applies the softmax itself.', done: losses.length > 0 },
    { title: 'Add Adam and wire the loss into it', hint: 'Palette → Optimizers → Adam (or SGD, to compare later).', done: optimized },
    { title: 'Press Train', hint: 'The Problems panel says what is still missing; the dashboard shows the curves.', done: trained },
  ];
}
