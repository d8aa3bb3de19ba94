"""Pure domain: names, references, manifests, digests and errors. No Qt, no HTTP, no SQL."""
