/** Reported as the instrumentation scope version; checked against package.json by test/package-versions.test.ts. */
export const PACKAGE_VERSION = '0.1.0';
