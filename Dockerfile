# Releases build on Airbyte's Python connector base image. CI, which cannot pull it, passes a local Debian base
# with python3 (see README, "Container image"); the steps below work on both.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.1.0
FROM ${BASE_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md requirements.lock ./
COPY source_periskope ./source_periskope

# A virtualenv keeps the connector's pinned CDK apart from the base image's Python packages. Every package comes
# from the lock with its hash checked (the build backend too, hence --no-build-isolation): the image holds what
# was tested, whatever the index holds on the day it is built.
RUN python3 -m venv /opt/source-periskope \
    && /opt/source-periskope/bin/pip install --no-cache-dir --require-hashes -r requirements.lock \
    && /opt/source-periskope/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && rm -rf build ./*.egg-info

# The platform runs connectors as uid/gid 1000 (rootless, all capabilities dropped) and expects /airbyte to belong
# to the `airbyte` user. Airbyte's base image has that user; a plain Debian base does not, so it is created with
# uid/gid 1000. A base whose `airbyte` is not uid 1000 fails the build rather than make an image whose /airbyte
# the platform's user cannot write. WORKDIR and COPY made /airbyte as root: hand all of it to airbyte.
RUN if ! getent group airbyte >/dev/null; then groupadd --gid 1000 airbyte; fi \
    && if ! id airbyte >/dev/null 2>&1; then useradd --uid 1000 --gid airbyte --create-home airbyte; fi \
    && if [ "$(id -u airbyte)" != 1000 ]; then echo "user airbyte is uid $(id -u airbyte), not 1000" >&2; exit 1; fi \
    && chown -R airbyte:airbyte /airbyte \
    && chmod -R u+rwX /airbyte

ENV PATH="/opt/source-periskope/bin:${PATH}"
# Absolute paths, as Airbyte's protocol-docker asks: the platform runs `eval "$AIRBYTE_ENTRYPOINT read ..."` from
# another working directory.
ENV AIRBYTE_ENTRYPOINT="/opt/source-periskope/bin/source-periskope"
# Numeric, so that Kubernetes' runAsNonRoot can tell the user is not root (the same user as airbyte, checked above).
USER 1000:1000
ENTRYPOINT ["/opt/source-periskope/bin/source-periskope"]

LABEL io.airbyte.name=airbyte/source-periskope
LABEL io.airbyte.version=0.1.0
