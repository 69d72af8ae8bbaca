FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 CRMASSIST_PROMPTS_DIR=/app/prompts
# CPU torch from PyTorch's CPU index: the default wheel would bring CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY src ./src
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN pip install .
EXPOSE 8000
CMD ["crmassist", "serve", "--host", "0.0.0.0", "--port", "8000"]
