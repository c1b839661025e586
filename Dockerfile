# adloop worker image: Node 20 with the fonts creatives are typeset in and ffmpeg for motion.
# One image for every worker: the loop worker (default) and the render worker (workers/render.ts).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-core fontconfig ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN mkdir -p /data/creatives && chown node:node /data/creatives
USER node
CMD ["npx", "tsx", "workers/loop.ts"]
