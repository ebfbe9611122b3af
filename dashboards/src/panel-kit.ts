/**
 * Panel factories with the house defaults: every panel gets a title, a description, the ClickHouse data
 * source, a unit, colour steps, and legends named `provider/model version`. Time-series queries return
 * long frames `(time, series, value)`; the plugin turns `series` into a label, and the display name uses it.
 */
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  StackingMode,
  TableCellDisplayMode,
  VisibilityMode,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import {
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type DynamicConfigValue,
  type Panel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarChartPanelBuilder } from '@grafana/grafana-foundation-sdk/barchart';
import { PanelBuilder as HeatmapPanelBuilder } from '@grafana/grafana-foundation-sdk/heatmap';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { ClickHouseQueryBuilder, DATASOURCE, QueryFormat, type QueryFormatValue } from './datasource.js';

export interface Steps {
  warn: number;
  critical: number;
}

/** green below `warn`, orange from it, red from `critical`. */
export function colourSteps(steps?: Steps): ThresholdsConfigBuilder {
  const list = [{ value: null as unknown as number, color: 'green' }];
  if (steps) list.push({ value: steps.warn, color: 'orange' }, { value: steps.critical, color: 'red' });
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

interface PanelCommon {
  title: string;
  description: string;
  sql: string;
  unit: string;
  /** Grid width (24 = full row) and height. */
  width?: number;
  height?: number;
}

/** The setters every panel builder has (each returns the builder itself). */
interface CommonPanelBuilder {
  title(title: string): this;
  description(description: string): this;
  datasource(datasource: typeof DATASOURCE): this;
  withTarget(target: ClickHouseQueryBuilder): this;
  unit(unit: string): this;
  span(w: number): this;
  height(h: number): this;
  thresholds(thresholds: ThresholdsConfigBuilder): this;
}

/** The house defaults every factory applies first; the per-kind size is the default when `o` has none. */
function common<B extends CommonPanelBuilder>(
  builder: B,
  o: PanelCommon,
  kind: { format: QueryFormatValue; width: number; height: number; steps?: Steps },
): B {
  return builder
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(o.sql, kind.format))
    .unit(o.unit)
    .span(o.width ?? kind.width)
    .height(o.height ?? kind.height)
    .thresholds(colourSteps(kind.steps));
}

export interface TimeseriesOptions extends PanelCommon {
  steps?: Steps;
  stacked?: boolean;
  bars?: boolean;
  min?: number;
  /** Minimum interval; rollup panels use 1m because the rollup has minute resolution. */
  minInterval?: string;
}

export function timeseries(o: TimeseriesOptions): Builder<Panel> {
  const panel = common(new TimeseriesPanelBuilder(), o, {
    format: QueryFormat.TimeSeries,
    width: 12,
    height: 8,
    steps: o.steps,
  })
    .displayName('${__field.labels.series}')
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['mean', 'max', 'lastNotNull'])
        .sortBy('Max')
        .sortDesc(true),
    )
    .lineWidth(1)
    .fillOpacity(o.stacked ? 60 : 10)
    .spanNulls(false)
    .interval(o.minInterval ?? '1m');
  if (o.min !== undefined) panel.min(o.min);
  if (o.bars) panel.drawStyle(GraphDrawStyle.Bars);
  if (o.stacked) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  return panel;
}

export interface TableOptions extends PanelCommon {
  steps?: Steps;
  /** Per-column unit / colour steps, keyed by result column name. */
  columns?: Record<
    string,
    {
      unit?: string;
      steps?: Steps;
      colour?: boolean;
      displayName?: string;
      link?: { title: string; url: string };
    }
  >;
  minInterval?: string;
}

export function table(o: TableOptions): Builder<Panel> {
  const panel = common(new TablePanelBuilder(), o, {
    format: QueryFormat.Table,
    width: 24,
    height: 9,
    steps: o.steps,
  })
    .interval(o.minInterval ?? '1m')
    .filterable(true);
  for (const [name, c] of Object.entries(o.columns ?? {})) {
    const properties: DynamicConfigValue[] = [];
    if (c.unit) properties.push({ id: 'unit', value: c.unit });
    if (c.displayName) properties.push({ id: 'displayName', value: c.displayName });
    if (c.steps) {
      properties.push({ id: 'thresholds', value: colourSteps(c.steps).build() });
      properties.push({ id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } });
    }
    if (c.link)
      properties.push({
        id: 'links',
        value: [new DashboardLinkBuilder(c.link.title).url(c.link.url).build()],
      });
    if (properties.length > 0) panel.overrideByName(name, properties);
  }
  return panel;
}

export interface StatOptions extends PanelCommon {
  steps?: Steps;
}

export function stat(o: StatOptions): Builder<Panel> {
  return common(new StatPanelBuilder(), o, { format: QueryFormat.Table, width: 6, height: 4, steps: o.steps })
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export interface BarChartOptions extends PanelCommon {
  xField: string;
}

/** Categories on x (latency buckets, failure classes, finish reasons), one bar per compared version. */
export function barChart(o: BarChartOptions): Builder<Panel> {
  return common(new BarChartPanelBuilder(), o, { format: QueryFormat.Table, width: 12, height: 8 })
    .xField(o.xField)
    .orientation(VizOrientation.Vertical)
    .showValue(VisibilityMode.Never)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    );
}

/** Pre-bucketed heatmap: one column per latency bucket, one row per time bucket. */
export function heatmap(o: PanelCommon): Builder<Panel> {
  return common(new HeatmapPanelBuilder(), o, { format: QueryFormat.TimeSeries, width: 12, height: 8 })
    .calculate(false)
    .interval('1m')
    .showLegend();
}
