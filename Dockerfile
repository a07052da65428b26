# The carepipe image for the CPU worker pool and the codec server (infra/k8s): the built repository
# at /app, production npm packages only, run as a non-root user. `docker build -t carepipe .`
# Versions are pinned; Node matches package.json's engines (>= 20.19).

# Build: every package (TypeScript is a dev dependency), then compile to dist/.
FROM node:20.19.5-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here; no dependency needs an
# install script (parquet-wasm and Temporal's core bridge ship their binaries).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY core core
COPY schemas schemas
COPY workflows workflows
COPY activities activities
COPY workers workers
COPY infra infra
COPY data-lake data-lake
COPY cli cli
COPY tests tests
COPY bench bench
RUN npx --no-install tsc -p tsconfig.json

# Production packages only, in a stage of their own so no dev package reaches the final image.
FROM node:20.19.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.19.5-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json package-lock.json ./
COPY bin bin
# The uid and gid infra/k8s runs as (runAsUser 10001); the root file system can stay read-only.
USER 10001:10001
ENTRYPOINT ["node", "/app/bin/carepipe.js"]
CMD ["worker"]
