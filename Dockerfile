# dialgate: a multi-stage build. The build stage compiles TypeScript with the dev toolchain;
# the runtime stage holds only the compiled code, the production dependencies and the example
# configuration, and runs as the unprivileged `node` user. No container engine runs on the
# project's build machines: `npm run docker:replay` (scripts/replay-dockerfile.mjs) performs
# these same steps with npm in a scratch directory, and test/deploy checks this file's shape.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# node-gyp compiles the batched UDP sender (native/udp_batch.c, README "Batched UDP sends").
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-native.sh ./scripts/build-native.sh
COPY native/binding.gyp native/udp_batch.c ./native/
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/native/build/Release/udp_batch.node ./native/build/Release/udp_batch.node
COPY config ./config
# The system CA bundle: SIP over TLS trusts it when sip.tls.caFile is not set (README, "SIP over
# TLS"); the slim base image has none.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# The CDR journal (cdr.file) lives here; mount a volume so records survive the container.
RUN mkdir -p /var/lib/dialgate && chown node:node /var/lib/dialgate
USER node
EXPOSE 5060/udp 5060/tcp 8080/tcp
# /healthz answers while the process serves HTTP (readiness, /readyz, also checks SIP and the
# CDR log). DIALGATE_HEALTH_URL follows a non-default http.port.
ENV DIALGATE_HEALTH_URL=http://127.0.0.1:8080/healthz
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.DIALGATE_HEALTH_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/src/cli/main.js"]
CMD ["serve", "--config", "/etc/dialgate/dialgate.yaml"]
