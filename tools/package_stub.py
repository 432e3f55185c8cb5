"""Importing one module of a package without running the package's __init__, which for vocos
and dac pulls in whole training stacks (huggingface_hub, audiotools) the golden scripts do not
need."""

import importlib
import importlib.util
import sys
import types


def package_module(package, module):
    """`package.module` loaded without the package's __init__."""
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        stub = types.ModuleType(package)
        stub.__path__ = list(spec.submodule_search_locations)
        sys.modules[package] = stub
    return importlib.import_module(f"{package}.{module}")
