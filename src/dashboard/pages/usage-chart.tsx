import { utcDay, type agentUsage } from '../../conversations';

/**
 * Usage per UTC day as a bar chart drawn on the server: inline SVG with presentation
 * attributes and classes only (the page CSP has `style-src 'self'`, so no style attribute,
 * and `script-src 'none'`). The page puts a table of the same figures below it for screen
 * readers; the chart itself is one labelled image.
 */
export type UsageDay = Extract<Awaited<ReturnType<typeof agentUsage>>, { ok: true }>['value']['days'][number];

const DAY_MS = 86_400_000;
const BAR_W = 18;
const GAP = 4;
const LEFT = 64;
const TOP = 12;
const PLOT_H = 160;
const BOTTOM = 28;

/** The window's UTC days oldest first, each with its figures (zero where the agent did nothing). */
export function calendarDays(rows: UsageDay[], now: number, days: number): UsageDay[] {
  const byDay = new Map(rows.map((row) => [row.day, row]));
  return Array.from({ length: days }, (_, i) => {
    const day = utcDay(now - (days - 1 - i) * DAY_MS);
    return byDay.get(day) ?? { day, turns: 0, inputTokens: 0, outputTokens: 0, toolCalls: 0, steps: 0, durationMs: 0 };
  });
}

/** A round upper bound for the axis (1, 2 or 5 times a power of ten). */
export function axisMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((m) => m * power).find((bound) => bound >= value) ?? 10 * power) as number;
}

const tokens = (n: number) => n.toLocaleString('en-US');

export const UsageChart = (props: { days: UsageDay[]; id: string }) => {
  const { days } = props;
  const max = axisMax(Math.max(...days.map((d) => d.inputTokens + d.outputTokens)));
  const total = days.reduce((sum, d) => sum + d.inputTokens + d.outputTokens, 0);
  const width = LEFT + days.length * (BAR_W + GAP);
  const height = TOP + PLOT_H + BOTTOM;
  const y = (value: number) => TOP + PLOT_H - (value / max) * PLOT_H;
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id={`${props.id}-title`}>{`Tokens per day, ${first} to ${last}`}</title>
      <desc
        id={`${props.id}-desc`}
      >{`${tokens(total)} tokens in ${days.length} days; input tokens below, output tokens stacked above. The table below has every figure.`}</desc>
      {[0, max / 2, max].map((tick) => (
        <>
          <line class="grid" x1={LEFT} x2={width} y1={y(tick)} y2={y(tick)} />
          <text class="axis" x={LEFT - 6} y={y(tick) + 4} text-anchor="end">
            {tokens(tick)}
          </text>
        </>
      ))}
      {days.map((d, i) => {
        const x = LEFT + i * (BAR_W + GAP) + GAP / 2;
        const inputTop = y(d.inputTokens);
        const outputTop = y(d.inputTokens + d.outputTokens);
        return (
          <g>
            <title>{`${d.day}: ${tokens(d.inputTokens)} input, ${tokens(d.outputTokens)} output tokens, ${d.turns} turns`}</title>
            <rect class="bar-input" x={x} y={inputTop} width={BAR_W} height={TOP + PLOT_H - inputTop} />
            <rect class="bar-output" x={x} y={outputTop} width={BAR_W} height={inputTop - outputTop} />
          </g>
        );
      })}
      <text class="axis" x={LEFT} y={height - 8}>
        {first}
      </text>
      <text class="axis" x={width} y={height - 8} text-anchor="end">
        {last}
      </text>
    </svg>
  );
};
