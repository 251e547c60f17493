# fleetledger: one image for every ROLE (all, api, projector); settings come from the environment (config.ts).
#
#   docker build -t fleetledger:dev .
#   docker run -e ADMIN_TOKEN=... -e EVENT_STORE=esdb -e ESDB_URL=... -e READ_STORE=mongo -e MONGO_URL=... fleetledger:dev
#
# docker-compose.yml builds and runs it next to EventStoreDB and MongoDB.

# Dependencies, compiled where needed: better-sqlite3 falls back to node-gyp (python3, make, g++) when no prebuilt
# binary can be downloaded. Dev dependencies are kept: the server runs its TypeScript through tsx.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# Runtime: same base (so the native module matches), no compilers, not root.
FROM node:20-bookworm-slim
WORKDIR /app
ENV HOST=0.0.0.0 \
    PORT=8119 \
    DATA_DIR=/app/data
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# DATA_DIR is only used with EVENT_STORE=sqlite; it must be writable by the unprivileged user.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8119
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8119) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# node itself as PID 1 (not npm), so SIGTERM from `docker stop` reaches main.ts, which stops the site cleanly.
CMD ["node", "--import", "tsx", "main.ts"]
