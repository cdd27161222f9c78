# verify in a container: `verify monitor --env=prod --once` as an ECS Fargate task
# (deploy/terraform/verify-monitor/), or any other `verify` command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VERIFY_CHROMIUM=/usr/bin/chromium \
    VERIFY_ENVIRONMENTS=/opt/verify/environments.toml

# Debian's Chromium for the frontend checks (Playwright drives it; no browser download).
# Not pinned: Debian's security updates replace the versions; the base image tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/verify
COPY pyproject.toml README.md environments.toml ./
COPY verify ./verify
# The production install: no sandbox extra (moto, bullmq) in the image.
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 verify

USER 10001
# Reports, monitor history and alert state go under the working directory (reports/).
WORKDIR /home/verify
ENTRYPOINT ["verify"]
CMD ["--help"]
