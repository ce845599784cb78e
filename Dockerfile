# syntax=docker/dockerfile:1
# staplewarm: one image for every command (worker, serve, relay, warm, status, get, ...).
#
#   docker build -t staplewarm .
#   docker run --rm -e REDIS_URL=redis://redis:6379 staplewarm worker
#
# Stages: manifests (package.json files only, so dependency layers survive source edits) ->
# build (all dependencies, TypeScript -> dist/) and deps (production dependencies only) ->
# runtime (node + production node_modules + dist/ and bin/ of each workspace, non-root).
# Size: an estimate, not a measurement (no Docker engine where this was written): node:24-slim
# (~220-240 MB unpacked, ~75 MB compressed) + ~26 MB of production node_modules + ~2 MB of dist/
# = ~250 MB unpacked, ~85 MB compressed. `docker image ls staplewarm` shows the real figure.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- manifests: the root and every workspace's package.json + the lockfile, nothing else ---
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find packages apps test -mindepth 1 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# --- build: every dependency (TypeScript, turbo), then `turbo run build` emits each dist/ ---
FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1
WORKDIR /src
COPY --from=manifests /manifests/ ./
# --ignore-scripts: `prepare` (the build) runs below, once the sources are there.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir /out \
 && for ws in packages/* apps/*; do \
      [ -f "$ws/package.json" ] || continue; \
      for part in dist bin; do \
        if [ -d "$ws/$part" ]; then mkdir -p "/out/$ws" && cp -R "$ws/$part" "/out/$ws/"; fi; \
      done; \
    done \
 && test -f /out/apps/staplewarm/bin/staplewarm.js

# --- deps: production dependencies only. --ignore-scripts keeps the root `prepare` (the build,
#     which needs dev dependencies) from running; no production dependency needs an install script.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ---
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="staplewarm" \
      org.opencontainers.image.description="Bulk OCSP staple warming: fetch, verify and store OCSP responses in Redis for OpenResty" \
      org.opencontainers.image.licenses="Apache-2.0"
# Inside a container /metrics must listen on every interface (the CLI binds 127.0.0.1 by default).
ENV NODE_ENV=production \
    STAPLEWARM_METRICS_HOST=0.0.0.0 \
    STAPLEWARM_METRICS_PORT=9464
WORKDIR /app
# Owned by root and read-only for the `node` user (uid 1000) that runs it: the app cannot rewrite itself.
COPY --from=manifests /manifests/ ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /out/ ./
USER node
EXPOSE 9464
# /healthz answers while the process runs its metrics server (every long-running command does).
# One-shot commands (warm, status, get, ...) exit before the first check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.STAPLEWARM_METRICS_PORT || 9464) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (Docker's default stop signal) lets a worker finish its jobs in flight and exit.
ENTRYPOINT ["node", "/app/apps/staplewarm/bin/staplewarm.js"]
CMD ["--help"]
