# modelwatch ingest image: gateway, consumer (`ingest`), `migrate` and `demo`, all through the one CLI.
# Stage 1 installs the locked dependencies and compiles the workspaces; stage 2 carries only what runs.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Manifests first so the dependency layer is cached until a lockfile or package.json changes.
COPY package.json package-lock.json ./
COPY instrumentation/package.json instrumentation/
COPY ingest/package.json ingest/
COPY dashboards/package.json dashboards/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY instrumentation instrumentation
COPY dashboards dashboards
COPY ingest ingest
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/instrumentation instrumentation
COPY --from=build /app/dashboards dashboards
COPY --from=build /app/ingest ingest
COPY migrations migrations
# Non-root: the image's `node` user (uid 1000) owns nothing but its data folder.
RUN mkdir -p /app/.modelwatch && chown node:node /app/.modelwatch
USER node
ENTRYPOINT ["node", "ingest/dist/bin/modelwatch.js"]
CMD ["--help"]
