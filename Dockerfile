# syntax=docker/dockerfile:1
# tmdb-yearly: the service on Node 24, which runs the TypeScript sources directly (type stripping).

# Stage 1: production dependencies only. The optional @embedded-postgres binaries are left out, because the
# container uses the PostgreSQL of DATABASE_URL (docker-compose.yml sets it). No install script is needed.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters/package.json packages/adapters/
COPY packages/host-node/package.json packages/host-node/
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime image, run as the unprivileged `node` user of the base image.
FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY --from=dependencies --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root packages/core/package.json packages/core/
COPY --chown=root:root packages/core/src packages/core/src
COPY --chown=root:root packages/adapters/package.json packages/adapters/
COPY --chown=root:root packages/adapters/src packages/adapters/src
COPY --chown=root:root packages/adapters/data packages/adapters/data
COPY --chown=root:root packages/host-node/package.json packages/host-node/
COPY --chown=root:root packages/host-node/src packages/host-node/src
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--conditions=@tmdb-yearly/source", "packages/host-node/src/Cli.ts"]
CMD ["start"]
