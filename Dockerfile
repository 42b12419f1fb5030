# syntax=docker/dockerfile:1
# WattSwarm image: the `wattswarm` CLI (worker, serve, runtime, run …) on Node 20.
# Build:  docker build -t wattswarm .
# Use:    docker run --rm wattswarm run worker --pg-url postgres://…

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is compiled here from its sources (no prebuilt binary is downloaded).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN ln -s /app/dist/cli/main.js /usr/local/bin/wattswarm && chmod +x /app/dist/cli/main.js \
 && mkdir -p /data && chown node:node /data
# The embedded SQLite default lives under the working directory; in the image that is /data.
WORKDIR /data
USER node
ENTRYPOINT ["wattswarm"]
CMD ["--help"]
