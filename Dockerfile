# adloop image: one for every service of docker-compose.yml (loop worker by default, render worker,
# codec server, the schedule setup). Node 20 on Debian bookworm, for the same system packages the
# project is developed and tested on. The only one npm cannot bring:
#   libxgboost0       the ranking model, loaded through koffi (ml/xgboost.ts).
# ffmpeg and ffprobe come with npm ci (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe) and the
# fonts with the repository (templates/fonts/, with their own fontconfig file).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxgboost0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, exactly as locked, so code changes reuse this layer. Dev dependencies are
# left out: the workers run TypeScript through tsx, which is a runtime dependency.
COPY package.json package-lock.json ./
# The ffmpeg packages' postinstall makes their binary executable for its owner (root here); the
# workers run as `node`, so everyone may run them.
RUN npm ci --omit=dev --no-audit --no-fund \
 && chmod -R a+rX node_modules/@ffmpeg-installer node_modules/@ffprobe-installer
COPY . .
RUN mkdir -p /data/creatives && chown node:node /data/creatives
USER node
# In a container the metrics endpoint must listen beyond loopback to be scraped.
ENV METRICS_ADDRESS=0.0.0.0:9464
EXPOSE 9464
# node directly rather than npm/npx: SIGTERM reaches the worker, which drains before it exits.
CMD ["node", "--import", "tsx", "workers/loop.ts"]
