"""Build the Flink table source that reads the benchmark's Arrow files (``flink/src``), once, into a cache.

Why a source of our own: the Flink SQL peer should read the same events from files, as DuckDB reads the
Parquet. PyPI's ``apache-flink`` ships the filesystem connector with CSV and JSON formats but not the
Parquet format (``flink-sql-parquet`` is a separate Maven artifact, and Maven Central is not reachable
from the benchmark machines). Parsing CSV or JSON would make Flink pay for text decoding that neither
Headwater nor DuckDB pays, so instead Flink reads an Arrow IPC stream file of the same events through
``headwater-arrow-file``, a ~200-line source built on Flink's own Arrow reader (shaded Arrow Java and
``ArrowUtils.createArrowReader`` from the ``flink-python`` jar that PyFlink ships): each batch is loaded
into Arrow vectors and rows go downstream as ``ColumnarRowData`` views, the way Flink's vectorized Parquet
reader hands on rows.

The jar is compiled with the JDK's ``javac`` against the jars of PyFlink in Flink's own environment
(:mod:`benchmarks.nexmark.flink_env`) and cached under
``$XDG_CACHE_HOME/headwater-nexmark`` (``~/.cache`` by default), keyed by the sources and the PyFlink version.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from benchmarks.nexmark.flink_env import FlinkSetupError, cache_directory

__all__ = ["FlinkSetupError", "build_source_jar"]

SOURCES = Path(__file__).resolve().parent / "flink" / "src"


def _classpath(home: Path) -> list[Path]:
    jars = sorted((home / "lib").glob("*.jar")) + sorted((home / "opt").glob("flink-python*.jar"))
    if not jars:
        raise FlinkSetupError(f"no Flink jars under {home}/lib and {home}/opt")
    return jars


def build_source_jar(home: Path, cache_dir: Path | None = None) -> Path:
    """The path of the compiled ``headwater-arrow-file`` source jar, compiling it when not cached.

    Args:
        home: the ``pyflink`` package directory of Flink's environment
            (:attr:`benchmarks.nexmark.flink_env.FlinkEnvironment.pyflink_home`), whose jars it compiles against.
        cache_dir: where the jar is kept (default :func:`benchmarks.nexmark.flink_env.cache_directory`).

    Raises:
        FlinkSetupError: ``javac`` is missing, or compilation failed (with javac's output).
    """
    files = sorted(p for p in SOURCES.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(SOURCES)).encode())
        digest.update(path.read_bytes())
    digest.update(str(home).encode())
    for jar in _classpath(home):
        digest.update(jar.name.encode())
    cache = cache_dir or cache_directory()
    target = cache / f"nexmark-arrow-source-{digest.hexdigest()[:16]}.jar"
    if target.exists():
        return target
    javac = shutil.which("javac")
    if javac is None:
        raise FlinkSetupError("javac (a JDK, 17 or later) is needed to build Flink's Arrow file source")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nexmark-flink-") as work:
        classes = Path(work) / "classes"
        java_files = [str(p) for p in files if p.suffix == ".java"]
        result = subprocess.run(
            [javac, "-nowarn", "-d", str(classes), "-cp", os.pathsep.join(map(str, _classpath(home))),
             *java_files],
            capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise FlinkSetupError(f"javac failed on {SOURCES}:\n{result.stdout}{result.stderr}")
        staging = Path(work) / target.name
        with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(classes.rglob("*.class")):
                archive.write(path, str(path.relative_to(classes)))
            for path in files:
                if path.suffix != ".java":
                    archive.write(path, str(path.relative_to(SOURCES)))
        shutil.move(str(staging), target)
    return target
