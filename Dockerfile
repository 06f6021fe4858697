# Guardhouse API image. Build from the repository root: `docker build -t guardhouse .`
# deploy/compose.yaml runs three of these behind HAProxy on a MongoDB replica set.
ARG NODE_VERSION=26

# ---- build: every dependency, TypeScript compiled to dist/ ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY scripts/account-page.mjs ./scripts/
# `nest build` and not `npm run build`: src/metadata.ts (the Swagger plugin's output) is committed,
# so the prebuild step that regenerates it is not needed here; the account page's script bundle is
# not committed, so it is built first (`nest build` copies it into dist/account/page/).
RUN node scripts/account-page.mjs && npx nest build

# ---- runtime: production dependencies and the compiled app, run as the unprivileged `node` user ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# The slim image has no curl: Node's fetch asks /api/health (200 while MongoDB answers a ping).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command `npm start` runs and test/scale/multi-instance.e2e-spec.ts starts three times.
# --max-semi-space-size=64: a young generation of up to 3 × 64 MB (default 3 × 16 MB). Measured on
# Node 20 with the bench: without it, most API processes it started ran in a state where each
# scavenge copied ~2 MB and GC took 12-14 % of their time (docs/benchmark.md, tenth pass; the
# cause is not known). See docs/operations.md for lowering it on a small machine.
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]
