# Weft and the reference subgraphs in one image: `weft serve` is the gateway and
# `weft subgraph NAME` runs each reference subgraph (see docker-compose.yml).

# 1. Build the workspace with the locked dependency set.
FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p weft \
    && cp target/release/weft /usr/local/bin/weft

# 2. A slim runtime: the binary, the composed supergraph, curl for health checks.
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
