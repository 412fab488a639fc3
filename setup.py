"""Install hman-mmaction, the HM-AN plugin for mmaction2.

mmcv flavour: mmaction2's recognizers need no compiled mmcv ops, so a fresh
environment gets ``mmcv-lite``. If full ``mmcv`` is already installed it is
kept (both provide the ``mmcv`` module and must not be mixed). The choice is
made when this file runs; force it with ``HMAN_MMCV=full`` or
``HMAN_MMCV=lite``. pip's build isolation hides the target environment from
this file, so to keep an installed full mmcv either set ``HMAN_MMCV=full`` or
install with ``pip install --no-build-isolation -e .`` (what ``make`` does).
"""
import os
import re
from importlib import metadata
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# Installed next to the package: one line, run at interpreter start-up, that
# adds the narrow import hook of _hman_mmaction_imports.py (the modules the
# mmaction2 1.2.0 wheel lacks; its VindLU import skipped where a recent
# transformers breaks it), so mmaction2's own tools that import
# mmaction.models before reading a config work too.
IMPORT_HOOK_PTH = 'hman_mmaction_imports.pth'

MMCV_RANGE = '>=2.0.0,<2.2.0'  # what mmaction2 1.2.0 asserts on import


def mmcv_requirement() -> str:
    flavour = os.environ.get('HMAN_MMCV', '').strip().lower()
    if flavour not in ('', 'full', 'lite'):
        raise SystemExit(
            f"HMAN_MMCV must be 'full' or 'lite', got {flavour!r}")
    if not flavour:
        try:
            metadata.distribution('mmcv')
            flavour = 'full'
        except metadata.PackageNotFoundError:
            flavour = 'lite'
    name = 'mmcv' if flavour == 'full' else 'mmcv-lite'
    print(f'hman-mmaction: using {name} (set HMAN_MMCV=full|lite to choose)')
    return name + MMCV_RANGE


def read_version() -> str:
    with open(os.path.join('hman_mmaction', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


class BuildPyWithImportHook(build_py):
    """``build_py`` that also puts :data:`IMPORT_HOOK_PTH` at the root of
    the wheel (site-packages), where ``site`` runs ``.pth`` files, for a
    regular and for an editable install."""

    def run(self):
        super().run()
        self.copy_file(IMPORT_HOOK_PTH,
                       os.path.join(self.build_lib, IMPORT_HOOK_PTH))
        if getattr(self, 'editable_mode', False):
            # PEP 660 editable wheel (pip install -e, what `make` runs):
            # setuptools keeps build_lib out of the wheel and maps the
            # packages with a finder; the wheel's own files are those of
            # the `install` command's install_lib (its root, installed into
            # site-packages), so the .pth goes there.
            install_lib = self.get_finalized_command('install').install_lib
            self.copy_file(IMPORT_HOOK_PTH,
                           os.path.join(install_lib, IMPORT_HOOK_PTH))

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, IMPORT_HOOK_PTH)
        ]


setup(
    name='hman-mmaction',
    version=read_version(),
    description='Hierarchical Multi-scale Attention Networks (HM-AN) for '
    'mmaction2',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    # hman_mmaction: the plugin; hman_lab: the benchmarks and programs that
    # tools/ runs (imports the plugin, never imported by it)
    packages=find_packages(
        include=['hman_mmaction', 'hman_mmaction.*', 'hman_lab',
                 'hman_lab.*']),
    py_modules=['_hman_mmaction_imports'],
    cmdclass={'build_py': BuildPyWithImportHook},
    install_requires=[
        # torch>=2.4 for torch.serialization.add_safe_globals; the CPU wheel
        # must be installed first (an unpinned torch pulls a CUDA build).
        'torch>=2.4',
        'mmengine>=0.10.0,<1.0.0',
        mmcv_requirement(),
        'mmaction2>=1.2.0,<1.3.0',
        'decord>=0.6.0',
        'numpy',
        'packaging',  # version ranges of hman_mmaction.compat
        'matplotlib',  # plots of tools/visualize_hman.py
        # cv2 comes with mmengine (opencv-python) and mmaction2
        # (opencv-contrib-python); we add no third flavour.
        # mmengine resolves `mmaction::` config bases with pkg_resources
        # *before* `custom_imports` can load this plugin, so mmaction2's own
        # tools/train.py needs it; setuptools 81 deprecates and 82 drops it.
        # Our own tools do not need it (hman_mmaction.compat).
        'setuptools<81',
    ],
    extras_require={
        # the linters of .pre-commit-config.yaml, at its versions
        # (tests/test_lint.py runs them); pytest-xdist: pytest.ini runs the
        # suite on two workers
        'tests': [
            'pytest>=7', 'pytest-timeout', 'pytest-xdist==3.6.1',
            'flake8==7.1.1', 'isort==5.13.2', 'yapf==0.43.0'
        ],
        'tensorboard': ['tensorboard'],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
