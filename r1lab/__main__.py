"""``python -m r1lab`` runs the ``r1lab`` command (see r1lab.cli)."""

from r1lab.cli import main

# Guarded so that importing this module (pytest --doctest-modules does) runs nothing.
if __name__ == "__main__":
    raise SystemExit(main())
