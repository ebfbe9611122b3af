/** Grafana dashboard provider: loads the generated JSON files from the mounted folder. */

/** Where docker-compose mounts dashboards/generated/dashboards inside the Grafana container. */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/modelwatch' as const;
/** Where docker-compose mounts dashboards/generated/provisioning. */
export const GRAFANA_PROVISIONING_PATH = '/etc/grafana/provisioning' as const;

export function dashboardProviderProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'modelwatch',
        orgId: 1,
        type: 'file',
        folder: 'modelwatch',
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}
