/**
 * Grafana's alert-rule *file provisioning* format (provisioning/alerting/*.yaml). The foundation SDK's
 * alerting builders serialise to the HTTP provisioning API shape (folderUID, ruleGroup, ...), which file
 * provisioning does not read, so the file shape is typed here.
 */
export interface RelativeTimeRange {
  /** Seconds before evaluation time. */
  from: number;
  to: number;
}

export interface AlertQuery {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: RelativeTimeRange;
  model: Record<string, unknown>;
}

export interface AlertRule {
  uid: string;
  title: string;
  condition: string;
  data: AlertQuery[];
  for: string;
  noDataState: 'NoData' | 'Alerting' | 'OK';
  execErrState: 'Error' | 'Alerting' | 'OK';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  isPaused?: boolean;
}

export interface AlertRuleGroup {
  orgId: number;
  name: string;
  folder: string;
  interval: string;
  rules: AlertRule[];
}

export interface AlertRuleFile {
  apiVersion: 1;
  groups: AlertRuleGroup[];
}
