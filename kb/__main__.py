"""python -m kb COMMAND ...: search, docs, items, skills, export, compare."""
import sys

from kb.cli import main

sys.exit(main())
