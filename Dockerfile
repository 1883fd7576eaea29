# syntax=docker/dockerfile:1
# Build: compile TypeScript and the native SQLite binding, then keep only runtime files.
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY integrations ./integrations
RUN npm run build && npm prune --omit=dev

# Runtime: non-root, data in a volume, health check against /healthz on the port the daemon
# listens on (`stixgate health` reads it from <data_dir>/daemon.json, so a changed server.port,
# STIXGATE__SERVER__PORT or --port is followed). No compiler, no tsx: dist/ and production modules.
FROM node:24-bookworm-slim
ENV NODE_ENV=production STIXGATE_CONFIG=/app/config/docker.yaml
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root mappings ./mappings
COPY --chown=root:root config ./config
RUN mkdir -p /var/lib/stixgate && chown node:node /var/lib/stixgate
USER node
VOLUME ["/var/lib/stixgate"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/src/cli.js", "health", "--timeout-secs", "4"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["run"]
