"""The sentence feature row of a message, for the linear classifiers.

Rasa's LogisticRegressionClassifier builds it with `Message.get_sparse_features`,
which deep-copies and stacks the *sequence* features too, only to drop them: one
COO matrix per featurizer and per token, 3–4 ms a message on this pipeline (the
profile in README, Performance). Here the same row — the sparse sentence features
of every featurizer in pipeline order, then the dense ones — is assembled straight
from the feature objects. `tests/test_classifiers.py` checks it equals Rasa's.
"""

from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np
import scipy.sparse
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message


def has_sentence_features(message: Message, attribute: str = TEXT) -> bool:
    """An empty text has none (Rasa's HTTP API parses one): a classifier skips it, as
    scikit-learn refuses a row of zero features."""
    return any(f.attribute == attribute and f.type == FEATURE_TYPE_SENTENCE
               for f in message.features)


def sentence_matrix(messages: Sequence[Message], attribute: str = TEXT) -> scipy.sparse.csr_matrix:
    """One CSR row per message: its sentence features, sparse first, then dense."""
    data: List[np.ndarray] = []
    rows: List[np.ndarray] = []
    cols: List[np.ndarray] = []
    width = -1
    for row, message in enumerate(messages):
        sentence = [f for f in message.features
                    if f.attribute == attribute and f.type == FEATURE_TYPE_SENTENCE]
        offset = 0
        for part in [f for f in sentence if f.is_sparse()] + [f for f in sentence if f.is_dense()]:
            matrix = scipy.sparse.coo_matrix(part.features)
            data.append(matrix.data)
            cols.append(matrix.col + offset)
            rows.append(np.full(matrix.nnz, row, dtype=np.int32))
            offset += matrix.shape[1]
        if width not in (-1, offset):
            raise ValueError(f"messages have {width} and {offset} sentence features")
        width = offset
    shape = (len(messages), max(width, 0))
    if not data:
        return scipy.sparse.csr_matrix(shape)
    return scipy.sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


def _dense_sentence(message: Message, attribute: str) -> List[np.ndarray]:
    """A message's dense sentence features (pretrained vectors), in pipeline order."""
    return [np.asarray(f.features).ravel() for f in message.features
            if f.attribute == attribute and f.type == FEATURE_TYPE_SENTENCE and f.is_dense()]


def dense_sentence_matrix(messages: Sequence[Message], width: int,
                          attribute: str = TEXT) -> np.ndarray:
    """One row per message: its dense sentence features side by side; zeros for a
    message that has none."""
    matrix = np.zeros((len(messages), width), dtype=np.float32)
    for row, message in enumerate(messages):
        parts = _dense_sentence(message, attribute)
        if parts:
            values = np.concatenate(parts)
            matrix[row, : min(width, len(values))] = values[:width]
    return matrix


def dense_width(messages: Sequence[Message], attribute: str = TEXT) -> int:
    """How many dense sentence features the messages have (0: none)."""
    for message in messages:
        parts = _dense_sentence(message, attribute)
        if parts:
            return int(sum(part.size for part in parts))
    return 0


def append_dense(sparse: scipy.sparse.csr_matrix, dense: np.ndarray) -> scipy.sparse.csr_matrix:
    """`scipy.sparse.hstack([sparse, dense])` as CSR, built row by row: hstack goes
    through COO and took 0.25 ms of a message's ~3 ms parse (cProfile, 600 parses)."""
    sparse = scipy.sparse.csr_matrix(sparse)
    rows, width = dense.shape
    if rows != sparse.shape[0]:
        raise ValueError(f"{sparse.shape[0]} sparse rows and {rows} dense rows")
    lengths = np.diff(sparse.indptr) + width
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=np.result_type(sparse.dtype, dense.dtype))
    dense_columns = np.arange(sparse.shape[1], sparse.shape[1] + width, dtype=np.int32)
    for row in range(rows):
        start, end = sparse.indptr[row], sparse.indptr[row + 1]
        at, split = indptr[row], indptr[row] + end - start
        indices[at:split] = sparse.indices[start:end]
        data[at:split] = sparse.data[start:end]
        indices[split:indptr[row + 1]] = dense_columns
        data[split:indptr[row + 1]] = dense[row]
    return scipy.sparse.csr_matrix((data, indices, indptr),
                                   shape=(rows, sparse.shape[1] + width))


def transposable_weights(classifier: Any) -> None:
    """Stores a fitted linear model's weights column-major, once.

    sklearn scores with `X @ coef_.T`; scipy copies a non-contiguous right operand
    on every product, here the whole 21 × ~12,000 weight matrix (2 MB) per message.
    With `coef_` in Fortran order its transpose is contiguous: same numbers, no copy.
    """
    coef = getattr(classifier, "coef_", None)
    if isinstance(coef, np.ndarray) and not coef.flags.f_contiguous:
        classifier.coef_ = np.asfortranarray(coef)
