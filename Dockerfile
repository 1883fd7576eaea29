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

# Runtime: non-root, data in a volume, health check against /healthz.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
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
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["run", "--config", "/app/config/docker.yaml", "--data-dir", "/var/lib/stixgate"]
