"""Word vectors of a pipeline: Word2Vec on its training split (``rnn-pipeline embed``) and
nearest neighbours in vectors files and trained embeddings (``rnn-pipeline neighbors``)."""

import time
from pathlib import Path

from rnn_pipeline.tasks.causal_lm.config import LanguageModelConfig
from rnn_pipeline.data.corpora import load_corpus
from rnn_pipeline.data.text_pipeline import fit_text
from rnn_pipeline.embeddings import nearest, read_vectors
from rnn_pipeline.embeddings.word2vec import (check_word2vec, save_vectors, stream_sentences,
                                              train_word2vec)
from rnn_pipeline.errors import config_keys, pipeline_error
from rnn_pipeline.runs import RunFolder
from rnn_pipeline.workflows.base import say


def check_embed_task(config):
    """Raises a `PipelineError` unless ``config`` is a language model's: Word2Vec trains on
    its ``[data]`` text, with its ``[text]`` tokenizer and vocabulary."""
    if not isinstance(config, LanguageModelConfig):
        raise pipeline_error("PIPELINE", f"must be a language-model pipeline (task "
                             f"{LanguageModelConfig.task!r}: rnn-pipeline embed trains "
                             f"Word2Vec on its text), but its task is {config.task!r}",
                             config.name)


def embed_pipeline(config, out, log=say):
    """Trains Word2Vec on the pipeline's training split, tokenized and mapped to its
    vocabulary exactly as the language model sees it, and writes word2vec text to ``out``.

    Args:
        config: a `PipelineConfig` (``[data]``, ``[text]``, ``[word2vec]``,
            ``model.embedding_dim``).
        out: the vectors file to write.
        log: callable for progress lines.

    Returns:
        the number of words written.
    """
    check_embed_task(config)
    check_word2vec(config.word2vec, config.model.embedding_dim)
    start = time.perf_counter()
    corpus = load_corpus(config.data)
    _, vocabulary, streams = fit_text({"train": corpus.split("train")}, config.text,
                                      seed=config.train.seed)
    sentences = stream_sentences(streams["train"], vocabulary.itos, vocabulary.eos_id)
    log(f"Word2Vec ({config.word2vec.method}, {config.model.embedding_dim} dimensions) on "
        f"{len(streams['train']):,} training tokens in {len(sentences):,} lines, "
        f"vocabulary {len(vocabulary):,} ({config.text.tokenizer}); "
        f"prepared in {time.perf_counter() - start:.1f}s")
    vectors = train_word2vec(sentences, config.model.embedding_dim, config.word2vec, log)
    save_vectors(vectors, out)
    return len(vectors.index_to_key)


def neighbor_tables(source, word, k=10):
    """Nearest neighbours of ``word`` in a vectors file, or in a language-model run's
    trained embedding and (when the run started from one) its input vectors.

    Args:
        source: a vectors file or a run folder.
        word: the query word.
        k: neighbours per table.

    Returns:
        [(title, [(word, cosine)])].
    """
    source = Path(source)
    if source.is_file():
        with config_keys({"embeddings.file": "RUN"}):  # the file is the command's argument
            vectors = read_vectors(source)
        return [(f"input vectors {source}", nearest(vectors.words, vectors.matrix, word, k))]
    run = RunFolder(source).check_exists()
    config = run.load_config()
    if not isinstance(config, LanguageModelConfig):
        raise pipeline_error("RUN", "must be a language-model run or a vectors file "
                             f"(this run's task is {config.task!r})", str(source))
    model = run.load_model()
    matrix = model.backbone.token_embedding.embeddings.numpy()  # (vocabulary, embedding_dim)
    lowercase = config.text.lowercase
    tables = [(f"trained embedding of {source}",
               nearest(run.load_vocabulary().itos, matrix, word, k, lowercase=lowercase))]
    if config.embeddings.file and Path(config.embeddings.file).is_file():
        vectors = read_vectors(config.embeddings.file, config.embeddings.format)
        tables.append((f"input vectors {config.embeddings.file}",
                       nearest(vectors.words, vectors.matrix, word, k,
                               lowercase=config.embeddings.lowercase or lowercase)))
    return tables
