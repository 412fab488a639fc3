"""Imported first by the tools the README names: with a python that cannot
import the plugin or its stack (the system python instead of the ``.venv``
that ``make`` creates), stop with the command that works instead of a
traceback. Standard library only, until the import it checks."""
import os.path as osp
import sys

try:
    import hman_mmaction  # noqa: F401  (compat fixes, registers HM-AN)
except ModuleNotFoundError as error:
    tool = osp.relpath(sys.argv[0]) if sys.argv and sys.argv[0] else 'tool'
    sys.exit(f'{tool}: {error} in the python {sys.executable}. Run the '
             'tools with the python of the environment hman-mmaction is '
             f'installed in: `.venv/bin/python {tool} ...` (the .venv that '
             '`make` creates), or `source .venv/bin/activate` first.')
