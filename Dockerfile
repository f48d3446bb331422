# Releases build on Airbyte's Python connector base image. CI, which cannot pull it, passes a local Debian base
# with python3 (see README, "Container image"); the steps below work on both.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.1.0
FROM ${BASE_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md ./
COPY source_periskope ./source_periskope

# A virtualenv keeps the connector's pinned CDK apart from the base image's Python packages.
RUN python3 -m venv /opt/source-periskope \
    && /opt/source-periskope/bin/pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info \
    && (id airbyte >/dev/null 2>&1 || useradd --uid 1000 --create-home airbyte)

ENV PATH="/opt/source-periskope/bin:${PATH}"
ENV AIRBYTE_ENTRYPOINT="source-periskope"
USER airbyte
ENTRYPOINT ["source-periskope"]

LABEL io.airbyte.name=airbyte/source-periskope
LABEL io.airbyte.version=0.1.0
