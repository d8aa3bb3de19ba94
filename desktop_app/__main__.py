"""``python -m desktop_app`` runs the ``artifact-desk`` command line."""

from desktop_app.cli.main import entry_point

if __name__ == "__main__":
    entry_point()
