# The explorer's CPU image: one Streamlit process serving the app, as the README's "Run it" command does.
#   docker build -t generative-models-explorer . && docker run -p 8501:8501 generative-models-explorer
# The CPU wheel index keeps the torch==2.13.0 pin from pulling the CUDA build (~5 GB). For a CUDA image, start
# from a CUDA runtime image with Python 3.11 and build with --build-arg TORCH_INDEX="": the same pin then
# installs the CUDA build, and the pages' device selector offers the GPU.
FROM python:3.11-slim-bookworm
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_EXTRA_INDEX_URL=${TORCH_INDEX} PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 explorer
WORKDIR /home/explorer/app
COPY requirements.txt .
RUN python -m pip install -r requirements.txt
COPY --chown=explorer:explorer . .
USER explorer
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
