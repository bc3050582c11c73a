"""A lossc loss as a PyTorch module, in one call.

    import lossc_torch
    criterion = lossc_torch.load("examples/focal.loss", gamma=1.5)   # an nn.Module
    loss = criterion(logits, labels)                                # reduction='mean'

`load` runs `lossc emit FILE --target torch` (the binary named by $LOSSC, else `lossc` on
PATH), imports the emitted module and returns its loss class built with the given params.
Emitted modules are cached on disk by the SHA-256 of the loss text, the emission options and
the lossc binary (path, size, modification time), so a notebook or an evaluator that loads the
same loss again pays neither the lossc call nor the import.

Depends on nothing beyond the standard library and torch (which the emitted module imports).
"""
import hashlib
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

__all__ = ["load", "load_module", "emit", "lossc_binary", "cache_dir"]

_modules = {}


def lossc_binary():
    """The lossc executable: $LOSSC if set, else `lossc` on PATH."""
    env = os.environ.get("LOSSC")
    if env:
        return env
    found = shutil.which("lossc")
    if found is None:
        raise FileNotFoundError("lossc_torch: no lossc binary: set LOSSC=/path/to/lossc or put lossc on PATH "
                                "(build it with `swift build -c release`)")
    return found


def cache_dir():
    """Where emitted modules are kept: $LOSSC_TORCH_CACHE, else ~/.cache/lossc/torch."""
    env = os.environ.get("LOSSC_TORCH_CACHE")
    base = pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "lossc" / "torch"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _source(path_or_text):
    """(text, path or None): a path to an existing file, else loss source text."""
    if isinstance(path_or_text, os.PathLike) or (isinstance(path_or_text, str) and "\n" not in path_or_text
                                                  and os.path.isfile(path_or_text)):
        path = os.fspath(path_or_text)
        return pathlib.Path(path).read_text(encoding="utf-8"), path
    if isinstance(path_or_text, str) and ":" in path_or_text and "loss" in path_or_text:
        return path_or_text, None
    raise FileNotFoundError("lossc_torch: %r is neither a .loss file nor loss source text" % (path_or_text,))


def _binary_identity(binary):
    resolved = shutil.which(binary) or binary
    st = os.stat(resolved)
    return "%s|%d|%d" % (os.path.realpath(resolved), st.st_size, st.st_mtime_ns)


def emit(path_or_text, emit_params=None, name=None):
    """The path of the emitted module for a loss (a cached file; emitted on a miss).

    emit_params: {name: value} passed as `--param` (the module's defaults); name: `--name`.
    Raises RuntimeError with lossc's diagnostic when the loss does not compile."""
    text, path = _source(path_or_text)
    binary = lossc_binary()
    options = sorted((str(k), repr(float(v))) for k, v in (emit_params or {}).items())
    key = hashlib.sha256("\0".join([text, repr(options), name or "", _binary_identity(binary)]).encode()).hexdigest()
    out = cache_dir() / ("lossc_%s.py" % key[:32])
    if out.is_file():
        return out
    source_file = path
    if source_file is None:
        source_file = str(cache_dir() / ("lossc_%s.loss" % key[:32]))
        pathlib.Path(source_file).write_text(text, encoding="utf-8")
    command = [binary, "emit", source_file, "--target", "torch"]
    for k, v in options:
        command += ["--param", "%s=%s" % (k, v)]
    if name:
        command += ["--name", name]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("lossc_torch: `%s` failed (exit %d):\n%s" % (" ".join(command), result.returncode, result.stderr))
    # written under a unique name and renamed, so a concurrent reader never sees half a file
    partial = out.with_suffix(".%d.partial" % os.getpid())
    partial.write_text(result.stdout, encoding="utf-8")
    os.replace(partial, out)
    return out


def load_module(path_or_text, emit_params=None, name=None):
    """The emitted Python module of a loss (imported once per file per process)."""
    path = emit(path_or_text, emit_params=emit_params, name=name)
    module = _modules.get(path)
    if module is None:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules.setdefault(path.stem, module)
        _modules[path] = module
    return module


def load(path_or_text, reduction="mean", **params):
    """The loss as an `nn.Module`: params by their names in the .loss file (the file's defaults
    for the others), and reduction 'none' | 'mean' | 'sum'."""
    module = load_module(path_or_text)
    if module.KIND == "ranking":
        # a ranking module's params are fixed at emission (they set its breakpoints): emit with them
        if reduction != "mean":
            raise ValueError("lossc_torch: a ranking loss returns the batch's loss; reduction does not apply")
        unknown = sorted(set(params) - set(module.PARAMS))
        if unknown:
            raise TypeError("lossc_torch: %s has no param %s" % (module.NAME, ", ".join(unknown)))
        return load_module(path_or_text, emit_params=params or None).Loss()
    unknown = sorted(set(params) - set(module.PARAMS))
    if unknown:
        raise TypeError("lossc_torch: %s has no param %s (its params: %s)"
                        % (module.NAME, ", ".join(unknown), ", ".join(module.PARAMS) or "none"))
    values = [float(params.get(k, default)) for k, default in module.PARAMS.items()]
    return module.Loss(*values, reduction=reduction)
