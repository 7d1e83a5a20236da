# syntax=docker/dockerfile:1

############################
# Build stage
############################
FROM rust:1.95-bookworm AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Build dependencies first against a stub crate so this layer stays cached
# until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
# Build settings (the bundled SQLite's compile flags) for this layer too.
COPY .cargo .cargo
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > benches/federation.rs \
    && echo 'fn main() {}' > benches/mf2.rs \
    && cargo build --release --locked \
    && rm -rf src benches target/release/estuary target/release/deps/estuary-* \
       target/release/deps/libestuary-* target/release/.fingerprint/estuary-*

# Now build the real thing (src/, migrations/ and templates/ are all read
# at compile time).
COPY . .
RUN touch src/main.rs \
    && cargo build --release --locked \
    && strip target/release/estuary

############################
# Runtime stage
############################
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 estuary \
    && useradd --system --uid 10001 --gid estuary --home-dir /var/lib/estuary \
       --shell /usr/sbin/nologin estuary \
    && mkdir -p /var/lib/estuary \
    && chown estuary:estuary /var/lib/estuary

COPY --from=build /build/target/release/estuary /usr/local/bin/estuary

WORKDIR /var/lib/estuary

ENV ESTUARY_BIND=0.0.0.0:8080 \
    DATABASE_URL=/var/lib/estuary/estuary.sqlite3

EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1

USER estuary

ENTRYPOINT ["estuary"]
CMD ["serve"]
