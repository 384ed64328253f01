"""The native jet helper: compiled against the FastJet wheel, loaded through ctypes.

FastJet's Python API does not expose per-jet SoftDrop or energy correlators, so a small C++
library (``jscjet.cpp``) does clustering, mMDT grooming and machop's own correlator loops, and a
reference program (``ecf_reference.cpp``, tests only) computes the same features with fjcontrib's
EnergyCorrelator classes. Both are built into ``native/build/`` (or the user cache when the
package directory is read-only) and rebuilt only when a source or the compiler command changes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from chop.errors import DataError

SOURCE_DIR = Path(__file__).resolve().parent
LIBRARY = "libjscjet.so"
REFERENCE = "ecf_reference"
PHYSICS_HINT = "pip install 'machop[physics]'"


class PhysicsMissingError(DataError):
    """Pythia 8 or FastJet (the ``physics`` extra) is not installed, or the helper cannot be built."""


def require_physics() -> None:
    """Raise a one-line install hint unless Pythia 8 and FastJet import."""
    for module in ("pythia8mc", "fastjet"):
        try:
            __import__(module)
        except ImportError:
            raise PhysicsMissingError(f"the JSC generator needs Pythia 8 and FastJet ({module} is missing); run {PHYSICS_HINT}") from None


def fastjet_flags() -> tuple[list[str], list[str]]:
    """Compile and link flags for the FastJet wheel, with its build-time prefix made real.

    The wheel's ``fastjet-config`` reports the temporary directory it was built in; the real
    location is the installed package, so the prefix is substituted.
    """
    try:
        import fastjet
    except ImportError:
        raise PhysicsMissingError(f"FastJet is not installed; run {PHYSICS_HINT}") from None
    root = Path(fastjet.__file__).resolve().parent
    config = root / "bin" / "fastjet-config"
    if not config.exists():
        raise PhysicsMissingError(f"{config} not found: the fastjet wheel is incomplete; run {PHYSICS_HINT}")
    prefix = _run([str(config), "--prefix"]).strip()
    libdir = root / "lib64" if (root / "lib64").is_dir() else root / "lib"
    cxxflags = [flag.replace(prefix, str(root)) for flag in _run([str(config), "--cxxflags"]).split()]
    libs = [
        f"-L{libdir}",
        f"-Wl,-rpath,{libdir}",
        "-lfastjetcontribfragile",
        "-lfastjettools",
        "-lfastjet",
    ]
    return cxxflags, libs


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", "") or str(error)
        first = stderr.strip().splitlines()[0] if stderr.strip() else str(error)
        raise PhysicsMissingError(f"'{' '.join(command[:2])} ...' failed: {first}") from None


def _commands(build_dir: Path) -> dict[Path, list[str]]:
    cxxflags, libs = fastjet_flags()
    compiler = os.environ.get("CXX", "g++")
    base = [compiler, "-O2", "-std=c++17", *cxxflags]
    return {
        build_dir / LIBRARY: [*base, "-shared", "-fPIC", str(SOURCE_DIR / "jscjet.cpp"), "-o", str(build_dir / LIBRARY), *libs],
        build_dir / REFERENCE: [*base, str(SOURCE_DIR / "ecf_reference.cpp"), "-o", str(build_dir / REFERENCE), *libs],
    }


def _stamp(commands: dict[Path, list[str]]) -> str:
    digest = hashlib.sha256()
    for name in ("jscjet.cpp", "ecf_reference.cpp"):
        digest.update((SOURCE_DIR / name).read_bytes())
    for command in commands.values():
        digest.update(" ".join(command[:-1]).encode())
    return digest.hexdigest()


def build_dir() -> Path:
    """``native/build`` next to the sources, or the user cache when the package is read-only."""
    local = SOURCE_DIR / "build"
    if os.access(SOURCE_DIR, os.W_OK):
        return local
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "machop" / "native"


def build(force: bool = False) -> Path:
    """Compile the helper library and the reference program unless they are up to date."""
    directory = build_dir()
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        raise PhysicsMissingError("a C++ compiler (g++, or $CXX) is needed to build the jet helper")
    commands = _commands(directory)
    stamp = _stamp(commands)
    stamp_file = directory / "STAMP"
    if not force and stamp_file.exists() and stamp_file.read_text() == stamp and all(p.exists() for p in commands):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for target, command in commands.items():
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # concurrent builds never share a file
        command = [*command]
        command[command.index(str(target))] = str(tmp)
        _run(command)
        os.replace(tmp, target)
    stamp_tmp = stamp_file.with_name(f"STAMP.{os.getpid()}.tmp")
    stamp_tmp.write_text(stamp)
    os.replace(stamp_tmp, stamp_file)
    return directory


def load() -> ctypes.CDLL:
    """The helper library with typed entry points (built first if missing or stale)."""
    library = ctypes.CDLL(str(build() / LIBRARY))
    double_p = ctypes.POINTER(ctypes.c_double)
    library.jsc_features.argtypes = [double_p, ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_double, double_p]
    library.jsc_features.restype = ctypes.c_int
    library.jsc_n_out.restype = ctypes.c_int
    return library


def reference_program() -> Path:
    """Path of the fjcontrib reference program (built first if missing or stale)."""
    return build() / REFERENCE
