# The Miroir image (docker-compose.yml's worker and intake).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY miroir ./miroir
COPY streams ./streams
COPY schemas ./schemas
COPY processors ./processors
COPY sinks ./sinks
COPY services ./services
COPY infra ./infra
RUN pip install --no-cache-dir .
RUN useradd --system --home /app miroir && mkdir -p /app/.run && chown miroir /app/.run
USER miroir
EXPOSE 6066 8088
CMD ["miroir", "worker"]
