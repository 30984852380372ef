#!/usr/bin/env python3
"""Serve a GGUF model with llama.cpp (xllamacpp) on 127.0.0.1, in the foreground.

It answers the OpenAI-compatible API (/v1/chat/completions, /v1/models, and /v1/embeddings with
--embed) and the Anthropic Messages API (/v1/messages, streaming SSE). It does NOT answer Ollama's
/api/* routes. Chat models get templates/gemma3-tools.jinja (Gemma turns plus Hermes-style
<tool_call> JSON) so that tool calling works.

usage: PYTHON serve.py --model FILE --port N [--embed] [--alias NAME] [--ctx 4096] [--threads N]
Run it with the python that setup.sh printed. SIGTERM stops it cleanly."""
import argparse
import os
import signal
import sys
import time

import xllamacpp as xlc

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="the GGUF file")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--alias", default="gemma3:270m", help="the model name the server answers to")
    ap.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--embed", action="store_true", help="serve embeddings (an embedding model, mean pooling)")
    a = ap.parse_args()
    if not os.path.isfile(a.model):
        sys.exit(f"serve.py: no model file at {a.model}")

    p = xlc.CommonParams()
    p.model.path = a.model
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    p.n_ctx = a.ctx
    p.n_parallel = 1
    p.cpuparams.n_threads = a.threads
    p.model_alias = {a.alias} if isinstance(p.model_alias, set) else a.alias
    p.cache_ram_mib = 0
    if a.embed:
        p.embedding = True
        p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
        p.n_batch = p.n_ubatch = min(a.ctx, 512)
    else:
        with open(os.path.join(HERE, "templates", "gemma3-tools.jinja"), encoding="utf-8") as f:
            p.chat_template = f.read()
        p.use_jinja = True

    started = time.time()
    server = xlc.Server(p)  # noqa: F841 (kept alive until exit)
    print(f"listening on 127.0.0.1:{a.port} after {time.time() - started:.1f}s", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
