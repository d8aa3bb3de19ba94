"""What every front end shares: settings, paths, hashing, caches, materializing files."""
