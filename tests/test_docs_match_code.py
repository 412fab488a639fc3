"""The docs agree with the code (issue 21, item 6): every command of a tool
that README.md and docs/*.md show names a tool that exists and only flags
it accepts; no training command there writes into the demo's work dir
(``make demo``'s ``work_dirs/hman_demo``) by default; every compatibility
patch that ``patch_status()`` lists has its row in docs/compatibility.md."""
import contextlib
import glob
import io
import os.path as osp
import re

import pytest

from hman_mmaction.compat import PATCHES
from tests.helpers import REPO, load_tool

PAGES = [osp.join(REPO, 'README.md')] + sorted(
    glob.glob(osp.join(REPO, 'docs', '*.md')))
COMMAND = re.compile(r'python (?:-u )?(tools/[\w/]+\.py)((?: [^`\n#]*)?)')
DEMO_WORK_DIR = 'hman_demo'  # tools/demo.py's default: work_dirs/hman_demo


def commands():
    """``(page, tool, arguments)`` of every ``python tools/...`` in code
    blocks (continuation lines joined) and inline code."""
    found = []
    for page in PAGES:
        with open(page) as f:
            text = f.read().replace('\\\n', ' ')
        for tool, arguments in COMMAND.findall(text):
            found.append((osp.relpath(page, REPO), tool, arguments.split()))
    return found


def accepted_flags(tool):
    """The option strings of ``tool``'s parser, from its ``--help``."""
    name = osp.splitext(tool)[0][len('tools/'):]
    if '/' in name:  # tools/data/...: load it from its folder
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            name.replace('/', '_'), osp.join(REPO, tool))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = load_tool(name)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        if hasattr(module, 'build_parser'):
            module.build_parser().parse_args(['--help'])
        else:
            module.parse_args(['--help'])
    return set(re.findall(r'(--[\w-]+)', output.getvalue()))


def test_the_docs_show_commands():
    assert len(commands()) > 20  # the extraction works


@pytest.mark.parametrize('tool', sorted({tool for _, tool, _ in commands()}))
def test_every_tool_the_docs_name_exists_and_takes_their_flags(tool):
    assert osp.isfile(osp.join(REPO, tool)), tool
    flags = accepted_flags(tool)
    for page, named, arguments in commands():
        if named != tool:
            continue
        for argument in arguments:
            flag = argument.split('=')[0].strip('[]')
            if flag.startswith('--'):
                assert flag in flags, f'{page}: {tool} has no {flag}'


def test_no_training_command_in_the_docs_writes_into_the_demos_work_dir():
    for page, tool, arguments in commands():
        if tool != 'tools/train.py' or '--work-dir' in arguments:
            continue
        config = next((a for a in arguments if a.endswith('.py')), None)
        if config is None:  # CONFIG: a placeholder
            continue
        default = osp.splitext(osp.basename(config))[0]
        assert default != DEMO_WORK_DIR, (
            f'{page}: `python tools/train.py {config}` without --work-dir '
            f'writes into work_dirs/{default}, the folder of make demo')


def test_every_compat_patch_has_its_row_in_the_docs():
    with open(osp.join(REPO, 'docs', 'compatibility.md')) as f:
        text = f.read()
    for name in PATCHES:
        assert f'| `{name}` |' in text, name
