# The voiceswarm image for distributed runs (deploy/kubernetes/): the binary, the default
# scenarios and targets. Build: docker build -t voiceswarm:latest .
FROM rust:1.95-bookworm AS build
WORKDIR /src
# libopus-dev: WebRTC calls' Opus codec (linked from Debian's libopus, found by pkg-config).
RUN apt-get update && apt-get install -y --no-install-recommends libopus-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked --bin voiceswarm

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libopus0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/voiceswarm /usr/local/bin/voiceswarm
COPY scenarios /opt/voiceswarm/scenarios
WORKDIR /opt/voiceswarm
ENTRYPOINT ["voiceswarm"]
CMD ["--help"]
