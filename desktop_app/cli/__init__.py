"""The ``artifact-desk`` command line: put, get, ls, versions, verify and cache cleanup."""
