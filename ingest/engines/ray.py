"""The ray engine: ingest's compute step as a Ray Data pipeline (``python -m ingest DIR --engine ray``).

This process reads and hashes the files and keeps the unchanged ones out (``ingest.pipeline.changed``); the
others become one row each of ``ray.data.from_items`` and go through two ``map_batches`` stages of
callable-class actors, so that each actor loads the encoder (and the ESCO matcher) once:

* ``Extract``: language, sentences, duties and skills, parts of long sentences (``ingest.compute.process``);
  the vectors and token states extraction computed travel with the row, so they are not computed again;
* ``Embed``: the remaining vectors, the token states and the ESCO links (``ingest.compute.embed_and_link``),
  through the same memo as the local engine, so the vectors are the local engine's.

Each stage takes ``BATCH_ROWS`` rows at a time and, as the local engine does, runs the short articles among them
together (``ingest.compute.batches``: one run of the model for their sentences, one for their units, one ESCO
product per concept type); a long article goes alone. If a batch fails, each of its rows is run alone, so a
bad file fails alone.

The extraction method is resolved here and passed to the actors, so the ingest key stored with an article
names the method that really ran. Rows come back in input order and this process stores them in its one write
transaction. A file's own error comes back as its row (refused or failed, as locally); a dead actor is
restarted and its task retried (``RETRIES``); a failure that outlives the retries raises a KBError, so the
transaction rolls back and nothing is written.
"""
from __future__ import annotations

import logging
import os
import pickle
import socket
import warnings
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ingest.compute import (Failure, Prepared, Processed, batches, embed_and_link, embedded_together,
                            extracted_together, guarded, process, sentences_of)
from kb.errors import KBError
from kb.knowledge import KnowledgeBase
from kb.records import Article
from kb.threads import one_blas_thread

RETRIES = 3  # restarts of a dead actor, and retries of the task it was running
BATCH_ROWS = 16  # rows (files) an actor takes at once, fewer where that leaves a worker idle; the short ones among
# them are prepared together
STAGE_CPUS = 0.5  # a worker is one CPU, shared by one actor of each model stage
CONNECT_SECONDS = 10.0
log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the kb and ingest packages

Remembered = tuple[dict, dict, dict]  # a memo's vectors, token states and final states (MemoEmbedder.remembered)


class RayEngine:
    """A Ray connection (started here or joined) that maps the compute step over articles."""

    def __init__(self, workers: int, started: bool, progress: bool) -> None:
        self.workers = workers
        self.started = started
        self.progress = progress

    @classmethod
    def start(cls, address: str | None = None, workers: int | None = None, progress: bool = False) -> "RayEngine":
        """Join the cluster at ``address`` (shipping the kb and ingest packages to it), else start Ray on this
        machine with ``workers`` CPUs; a Ray already running in this process is used as it is."""
        ray = _import_ray()
        if ray.is_initialized():
            return cls(workers or _cluster_cpus(ray), started=False, progress=progress)
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address is None:
            cpus = workers or os.cpu_count() or 1
            path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            ray.init(num_cpus=cpus, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}}, **quiet)
            return cls(cpus, started=True, progress=progress)
        _check_reachable(address)
        import ingest
        import kb

        try:
            ray.init(address=address, runtime_env={"py_modules": [kb, ingest]}, **quiet)
        except ConnectionError as error:
            raise KBError(f"cannot reach the Ray cluster at {address!r} ({error})", where="--address",
                          hint="start one with 'ray start --head', or leave --address out to run Ray on this "
                               "machine; nothing was written") from error
        return cls(workers or _cluster_cpus(ray), started=True, progress=progress)

    def prepared(self, kb: KnowledgeBase, articles: Iterable[Article],
                 status: Callable[[str], object]) -> Iterator[Prepared | Failure]:
        """Each article's compute step (or its failure), in the order of ``articles``, computed by Ray."""
        from ingest.extract.extractor import resolved_method

        articles = list(articles)  # read and hashed here first: only the changed files reach Ray
        if not articles:
            return
        rows = self._dataset(articles, kb.settings.embedder, str(kb.folder), resolved_method()).iter_rows()
        if self.progress:
            from tqdm import tqdm

            rows = tqdm(rows, total=len(articles), unit="file", desc="ingest on ray", dynamic_ncols=True)
        yield from in_order(articles, rows)

    def _dataset(self, articles: list[Article], embedder_name: str, kb_dir: str, method: str):
        """The two model stages over one article per row, order kept."""
        import ray.data
        from ray.util.annotations import RayDeprecationWarning

        _quiet_logging()
        dataset = ray.data.from_items([{"position": position, "path": article.path, "payload": pickle.dumps(article)}
                                       for position, article in enumerate(articles)])
        dataset.context.execution_options.preserve_order = True
        dataset.context.enable_progress_bars = False
        rows = max(1, min(BATCH_ROWS, -(-len(articles) // self.workers)))  # every worker gets some
        stage = {"batch_size": rows, "batch_format": "pandas", "num_cpus": STAGE_CPUS,
                 "compute": ray.data.ActorPoolStrategy(size=min(self.workers, len(articles))),
                 "max_restarts": RETRIES, "max_task_retries": RETRIES}
        with warnings.catch_warnings():  # Ray 2.60 has no named parameter for the retries yet
            warnings.simplefilter("ignore", RayDeprecationWarning)
            return (dataset.map_batches(Extract, fn_constructor_args=(embedder_name, method), **stage)
                    .map_batches(Embed, fn_constructor_args=(embedder_name, kb_dir), **stage))

    def __enter__(self) -> "RayEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop Ray when this engine started it."""
        if self.started:
            import ray

            ray.shutdown()


def in_order(articles: list[Article], rows: Iterable[dict]) -> Iterator[Prepared | Failure]:
    """The outcomes of Ray's rows, checked against the articles sent; a failure of Ray itself (retries spent)
    becomes a KBError naming the first file without a result."""
    from ray.exceptions import RayError
    from ray.data.exceptions import UserCodeException

    done = 0
    try:
        for row in rows:
            if row["position"] != done:  # preserve_order is set: anything else is a bug
                raise RuntimeError(f"ray returned row {row['position']} where {done} was expected")
            done += 1
            yield pickle.loads(row["payload"])
    except (RayError, UserCodeException) as error:
        cause = f"{error.__class__.__name__}: {(str(error).splitlines() or [''])[0][:300]}"
        raise KBError(f"Ray failed while this file or one after it was processed, after {RETRIES} retries ({cause})",
                      where=articles[done].path if done < len(articles) else None,
                      hint="nothing was written; the Ray logs are under /tmp/ray/session_latest/logs") from error


class Extract:
    """Stage 1, one actor per worker: the text stages, with the encoder the extractor scores with."""

    def __init__(self, embedder_name: str, method: str) -> None:
        self.embedder = _memo(embedder_name)
        self.method = method

    def __call__(self, batch):
        return each_row(batch, self.extract, self.extract_many)

    def extract_many(self, articles: list[Article]) -> list[tuple[Processed, Remembered]]:
        """The text stages of several articles, the short ones together (``ingest.compute.batches``)."""
        done: list[tuple[Processed, Remembered]] = []
        for run in batches(articles):  # a long article is a run of its own: ``extract`` of it, whole
            try:
                processed = extracted_together([sentences_of(article) for article in run], self.embedder,
                                               self.method)
                done += [(one, self.embedder.remembered(texts_of(one))) for one in processed]
            finally:
                self.embedder.clear()
        return done

    def extract(self, article: Article) -> tuple[Processed, Remembered]:
        """One article's text stages and what the encoder computed for them."""
        try:
            return process(article, self.embedder, self.method), self.embedder.remembered()
        finally:
            self.embedder.clear()


class Embed:
    """Stage 2, one actor per worker: the embed step, with the encoder and the ESCO matcher."""

    def __init__(self, embedder_name: str, kb_dir: str) -> None:
        self.embedder = _memo(embedder_name)
        self.embedder_name = embedder_name
        self.kb_dir = Path(kb_dir)

    def __call__(self, batch):
        return each_row(batch, self.embed, self.embed_many)

    def embed_many(self, rows: list[tuple[Processed, Remembered]]) -> list[Prepared]:
        """The embed step of several articles, the short ones together (``ingest.compute.batches``)."""
        from kb.esco.importer import matcher_for

        by_article = {id(processed.article): (processed, remembered) for processed, remembered in rows}
        done: list[Prepared] = []
        for run in batches([processed.article for processed, _ in rows]):
            chosen = [by_article[id(article)] for article in run]
            try:
                for _, remembered in chosen:
                    self.embedder.remember(*remembered)
                done += embedded_together([processed for processed, _ in chosen], self.embedder,
                                          matcher_for(self.embedder_name, self.kb_dir))
            finally:
                self.embedder.clear()
        return done

    def embed(self, extracted: tuple[Processed, Remembered]) -> Prepared:
        """One article's vectors, token states and ESCO links."""
        from kb.esco.importer import matcher_for

        processed, remembered = extracted
        try:
            self.embedder.remember(*remembered)
            return embed_and_link(processed, self.embedder, matcher_for(self.embedder_name, self.kb_dir))
        finally:
            self.embedder.clear()


def each_row(batch, step: Callable, together: Callable | None = None):
    """``step`` over the payload of each row of a batch (a Failure of an earlier stage passes through); with
    ``together``, first all of them at once (one outcome each, in order), and ``step`` row by row only if
    that fails, so a bad file fails alone."""
    paths = list(batch["path"])
    values = [pickle.loads(payload) for payload in batch["payload"]]
    outcomes = list(values)
    todo = [n for n, value in enumerate(values) if not isinstance(value, Failure)]
    with one_blas_thread:  # as in the local process (ingest.pipeline.ingest)
        done = all_at_once(together, [values[n] for n in todo]) if together is not None and len(todo) > 1 else None
        for position, n in enumerate(todo):
            outcomes[n] = done[position] if done is not None else guarded(paths[n], step, values[n])
    return {"position": batch["position"], "path": batch["path"], "payload": [pickle.dumps(o) for o in outcomes]}


def all_at_once(together: Callable, values: list) -> list | None:
    """``together(values)``, or None if it fails (a file the user can fix, without a traceback)."""
    try:
        done = together(values)
        if len(done) != len(values):
            raise RuntimeError(f"{len(done)} outcomes for {len(values)} rows")
        return done
    except Exception as error:  # noqa: BLE001 - each row then meets its own failure, or none
        if not isinstance(error, KBError):
            log.warning("%d rows run together failed; running each alone", len(values), exc_info=True)
        return None


def texts_of(processed: Processed) -> set[str]:
    """The texts of an article whose vectors and states the embed step uses: its sentences and units."""
    return {sentence.text for sentence in processed.sentences} | {unit.text for unit in processed.items + processed.parts}


def _memo(embedder_name: str):
    """The memo over the named embedder, with its token encoder, as the local engine uses it."""
    from kb.embedding.embedders import memo_for, open_embedder
    from kb.embedding.tokens import encoder_for

    return memo_for(open_embedder(embedder_name), encoder_for(embedder_name))


def _import_ray():
    """The ray package, or a KBError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise KBError("--engine ray needs the ray package",
                      hint="install it with 'pip install -r requirements-scale.txt'") from error
    _quiet_logging()
    return ray


def _quiet_logging() -> None:
    """Ray and Ray Data log only errors (Ray Data sets its logger up when it is first imported)."""
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _cluster_cpus(ray) -> int:
    """The CPUs of the cluster joined, at least 1."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _check_reachable(address: str) -> None:
    """Refuse an address whose host:port does not answer within CONNECT_SECONDS (Ray itself would wait for
    minutes); ``auto`` is left to Ray, which says at once when no cluster runs here."""
    if address == "auto":
        return
    target = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise KBError(f"{address!r} is not a Ray address", where="--address",
                      hint="give auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        raise KBError(f"cannot reach the Ray cluster at {address!r} ({error.strerror or error})", where="--address",
                      hint="check the address, start the cluster with 'ray start --head', or leave --address out "
                           "to run Ray on this machine; nothing was written") from error
