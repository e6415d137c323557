# Weft and the reference subgraphs in one image: `weft serve` is the gateway and
# `weft subgraph NAME` runs each reference subgraph (see docker-compose.yml).

# 1. The playground (GraphiQL, docs/playground.md): its npm packages from the lockfile,
#    bundled with esbuild. Only the front-end package is copied, so this layer is cached until
#    it changes.
FROM node:20-bookworm-slim AS playground
WORKDIR /playground
COPY gateway/server/playground/package.json gateway/server/playground/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY gateway/server/playground/build.mjs ./
COPY gateway/server/playground/src ./src
RUN node build.mjs /playground-dist

# 2. Build the workspace with the locked dependency set, embedding that bundle
#    (WEFT_PLAYGROUND_BUNDLE_DIR: build.rs takes it as it is, no Node needed here).
FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=playground /playground-dist /playground-dist
ENV WEFT_PLAYGROUND_BUNDLE_DIR=/playground-dist
RUN cargo build --release --locked -p weft \
    && cp target/release/weft /usr/local/bin/weft

# 3. A slim runtime: the binary, the composed supergraph, curl for health checks.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/weft /usr/local/bin/weft
COPY schema/supergraph.graphql /etc/weft/supergraph.graphql
COPY docker/weft.yaml /etc/weft/weft.yaml
RUN useradd --system --home /var/lib/weft weft && mkdir -p /var/lib/weft && chown weft /var/lib/weft
USER weft
WORKDIR /var/lib/weft
EXPOSE 4000 4001 4002 4003 4004 4005
ENTRYPOINT ["weft"]
CMD ["serve", "--config", "/etc/weft/weft.yaml"]
