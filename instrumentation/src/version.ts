/** Reported as the instrumentation scope version; kept in step with package.json by the release. */
export const PACKAGE_VERSION = '0.1.0';
