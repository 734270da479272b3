"""``python -m corpus_tools`` runs the command line."""

from .cli import main

raise SystemExit(main())
