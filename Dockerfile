# The app node: gunicorn serving opplevelseskort. State lives in PostgreSQL (data and pictures) and Redis
# (rate limits), so any number of these can run behind one load balancer.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    OPPLEVELSESKORT_ENV=production LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /app
COPY pyproject.toml README.md ./
COPY opplevelseskort ./opplevelseskort
COPY utstyr ./utstyr
COPY templates ./templates
COPY migrations ./migrations
COPY deploy/gunicorn.conf.py ./gunicorn.conf.py
RUN pip install --no-cache-dir . && useradd --system --home /app app && mkdir -p /tmp/prometheus \
    && chown app /tmp/prometheus
USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
# Migrations run once per start (Alembic takes a lock in the database, so two nodes starting at once is safe).
CMD ["sh", "-c", "opplevelseskort db upgrade && exec gunicorn -c gunicorn.conf.py 'opplevelseskort:create_app()'"]
