# Portcullis container image: built from source, run as an unprivileged user on debian-slim.
# Used by deploy/compose.yaml (`docker compose -f deploy/compose.yaml build`).

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The templates and static files are compiled into the binary; nothing else is copied out.
RUN cargo build --release --locked --bin portcullis \
    && cp target/release/portcullis /usr/local/bin/portcullis

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/portcullis --create-home portcullis
COPY --from=builder /usr/local/bin/portcullis /usr/local/bin/portcullis
USER portcullis
WORKDIR /var/lib/portcullis
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/portcullis"]
CMD ["serve", "--bind=0.0.0.0:8080"]
