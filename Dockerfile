# Parley's image: the `parley` command (serve, worker, db upgrade, ...) with its NLU model,
# policies and shipped strategy baked in, so nothing is downloaded when a container starts.
# Build: docker build -t parley .   Run the whole topology: docker compose up (see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

RUN groupadd --system parley \
    && useradd --system --gid parley --home-dir /app --shell /usr/sbin/nologin parley

# Install the package (and its console script `parley`) from pyproject.toml; the sources
# are removed afterwards, the installed package is what runs.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nlu ./nlu
COPY backend ./backend
RUN pip install . && rm -rf /src

# Files read by path at run time, at the same relative paths as in the repository (WORKDIR
# /app): the NLU training data (NLU_TRAINING_DATA), the negotiation policies (POLICY_DIR) and
# the shipped strategy, for `parley strategy load backend/strategies/default.yml`. The
# compliance rules, handoff queues, canned replies, response wordings, templates and
# migrations are package data of the installed package, found next to its modules.
WORKDIR /app
COPY nlu/training_data ./nlu/training_data
COPY backend/policies ./backend/policies
COPY backend/strategies ./backend/strategies
ENV HOST=0.0.0.0 \
    PORT=8000 \
    NLU_TRAINING_DATA=/app/nlu/training_data \
    NLU_MODEL_DIR=/app/var/models/nlu \
    POLICY_DIR=/app/backend/policies
RUN mkdir -p /app/var && chown -R parley:parley /app/var

USER parley
# Train the embedded NLU model at build time so the api starts without training.
RUN parley nlu train --data /app/nlu/training_data --model-dir /app/var/models/nlu

EXPOSE 8000
ENTRYPOINT ["parley"]
CMD ["serve", "--host", "0.0.0.0"]
