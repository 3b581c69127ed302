FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Node runs MathJax when a post is saved (blog/mathjax.py).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
COPY mathjax-node/package.json mathjax-node/package-lock.json mathjax-node/
RUN npm ci --prefix mathjax-node --omit=dev --no-audit --no-fund && npm cache clean --force
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs some key; the real one comes from the environment at run time.
RUN DJANGO_SETTINGS_MODULE=config.settings.prod \
    DJANGO_SECRET_KEY=build-only-key-not-used-at-runtime-0123456789abcdefghijklmnop \
    python manage.py collectstatic --no-input -v 0
RUN useradd --system blog && mkdir -p /srv/media && chown blog /srv/media
USER blog
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
