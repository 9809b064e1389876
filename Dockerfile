# syntax=docker/dockerfile:1
# enos-cert-monitor: a multi-stage build. The runtime image holds package.json, the compiled
# dist/, the production dependencies and the example configs; it runs as the image's `node`
# user (UID 1000) and writes nothing, so a read-only root filesystem works.
#
#   docker build --build-arg VERSION="$(node -p 'require("./package.json").version')" -t enos-cert-monitor .
#
# test/integration/deploy-image.test.ts replays the runtime stage (its COPY and RUN steps) on
# the host, read-only and as a non-root user, so a missing runtime dependency fails CI.

# Node.js 24 is the active LTS line; the major is pinned, patch releases come with rebuilds.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# Kept equal to package.json's version by a test; pass --build-arg VERSION for other builds.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="enos-cert-monitor" \
      org.opencontainers.image.description="Watches the X.509 certificates of EnOS IoT devices: diffs them, exports Prometheus metrics and alerts Alertmanager before they expire or when they are revoked." \
      org.opencontainers.image.source="https://github.com/enos-cert-monitor/enos-cert-monitor" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    ENOS_CERT_MONITOR_CONFIG=/etc/enos-cert-monitor/config.yaml
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache stays in a build cache mount, out of the image.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY config/config.example.yaml config/demo.yaml ./config/
# Files stay owned by root: the program can read them but not change them.
USER 1000:1000
EXPOSE 9464
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run"]
