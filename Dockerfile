# The Miroir image (docker-compose.yml's worker, intake and managers' app).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY miroir ./miroir
COPY streams ./streams
COPY schemas ./schemas
COPY processors ./processors
COPY sinks ./sinks
COPY services ./services
COPY infra ./infra
COPY tools ./tools
RUN pip install --no-cache-dir .
RUN useradd --system --home /app miroir && mkdir -p /app/.run && chown miroir /app/.run
USER miroir
EXPOSE 6066 8088 8090
CMD ["miroir", "worker"]
