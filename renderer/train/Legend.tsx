/** The colour scale of gradient magnitudes on edges, with the vanishing and exploding thresholds. */
import { useRun } from './context.tsx';
import { EXPLODING, gradientColor, SCALE_TICKS, VANISHING } from './scale.ts';

export function GradientLegend() {
  const active = useRun((s) => !!s.instrumentation);
  if (!active) return null;
  const stops = SCALE_TICKS.map((t, i) => `${gradientColor(t.value)} ${((i / (SCALE_TICKS.length - 1)) * 100).toFixed(0)}%`).join(', ');
  return (
    <div className="legend" role="img" aria-label={`Gradient scale: RMS of dL/da per edge, log scale; below ${VANISHING} vanishing, above ${EXPLODING} exploding`}>
      <div className="legend-title">gradient RMS through each edge</div>
      <div className="legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <div className="legend-ticks">
        {SCALE_TICKS.map((t) => (
          <span key={t.label}>{t.label}</span>
        ))}
      </div>
      <div className="legend-flags">
        <span className="flag vanishing">vanishing &lt; 1e-6</span> <span className="flag exploding">exploding &gt; 1e3</span>
      </div>
    </div>
  );
}
