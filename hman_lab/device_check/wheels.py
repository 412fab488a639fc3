"""The wheels a GPU machine needs for the device check: its image holds
Python and the CUDA build of torch, not the OpenMMLab stack, and it
reaches no package index. Here, with the project installed: ``python
tools/device_check.py --download-wheels .whl``; there: ``--install-wheels
.whl`` (:func:`hman_lab.device_check.check.install_wheels`).

The versions are this environment's (what CI tests); the files are binary
wheels for the device's Python (``--device-python``, default
:data:`DEVICE_PYTHON`). :data:`DEVICE_IMAGE` is what the GPU image of the
project's device checks already holds (its package list as read on
2026-11-17); ``tests/tools/test_device_wheels.py`` checks that the two
cover every distribution the plugin, mmaction2 and the device check
import.

Standard library only.
"""
import glob
import importlib.metadata as metadata
import os
import os.path as osp
import re
from typing import Dict, List

from ..runs import python, run_process

DEVICE_PYTHON = '3.12'  # the device image's python3 (3.12.3)
#: the distributions the device image lacks, carried as wheels
CARRIED = ('mmengine', 'mmcv-lite', 'mmaction2', 'decord', 'addict', 'yapf',
           'platformdirs', 'termcolor')
#: manylinux tags a wheel may carry (pip matches each exactly)
PLATFORMS = ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64',
             'manylinux_2_17_x86_64', 'manylinux2014_x86_64',
             'manylinux2010_x86_64', 'manylinux1_x86_64')
#: the distributions of the device image (torch 2.11.0+cu130, numpy 2.5)
DEVICE_IMAGE = frozenset(
    'absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal '
    'annotated-doc anyio attrs botorch build certifi charset-normalizer '
    'chex click cloudpickle cmake colorama contourpy coverage cuda-bindings '
    'cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython '
    'diffrax e3nn einops equinox etils execnet filelock flatbuffers flax '
    'fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet '
    'httpcore httpx huggingface-hub humanize hypothesis idna imageio '
    'iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib '
    'jaxtyping jinja2 joblib kiwisolver lazy-loader lightning '
    'lightning-utilities linear-operator lineax llvmlite lxml markdown '
    'markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py '
    'mpmath msgpack multidict multipledispatch mypy-extensions nanobind '
    'narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-cublas '
    'nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime '
    'nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand '
    'nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py '
    'nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx '
    'onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum '
    'opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec '
    'patsy peft pillow pip pluggy portalocker prometheus-client propcache '
    'protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing '
    'pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov '
    'pytest-mock pytest-timeout pytest-xdist python-dateutil '
    'pytorch-lightning pyyaml regex requests rich sacrebleu safetensors '
    'scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece '
    'sentence-transformers setuptools shellingham simplejson six '
    'sortedcontainers statsmodels sympy tabulate tensorboard '
    'tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm '
    'tokenizers toolz torch torchaudio torchdiffeq torch-geometric '
    'torchmetrics torchvision tqdm transformers treescope triton typer '
    'typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug '
    'wheel wrapt xarray xxhash yarl zipp'.split())


def canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares it (``PyYAML`` ->
    ``pyyaml``); every OpenCV build is the image's headless one."""
    name = re.sub(r'[-_.]+', '-', name).lower()
    return 'opencv-python-headless' if name.startswith('opencv-') else name


def pinned(names=CARRIED) -> List[str]:
    """``name==version`` of each of ``names`` as installed here."""
    missing, pins = [], []
    for name in names:
        try:
            pins.append(f'{name}=={metadata.version(name)}')
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        raise SystemExit(
            f'device_check --download-wheels: {missing} not installed in '
            'this Python; the wheels take the versions CI tests from here: '
            'run it with the project installed (make venv; .venv/bin/python '
            'tools/device_check.py --download-wheels .whl).')
    return pins


def download_command(folder: str, device_python: str,
                     pins: List[str]) -> List[str]:
    """``pip download`` of ``pins``' binary wheels for ``device_python``
    on x86-64 Linux, without their dependencies."""
    platforms = [arg for tag in PLATFORMS for arg in ('--platform', tag)]
    return python('-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
                  '--python-version', device_python, '--implementation', 'cp',
                  *platforms, '--dest', folder, *pins)


def wheel_name(filename: str) -> str:
    """The canonical distribution name of a wheel file."""
    return canonical(osp.basename(filename).split('-')[0])


def stale(folder: str, pins: List[str]) -> List[str]:
    """Wheels in ``folder`` of a pinned distribution at another version
    (``pip install --no-deps`` of two versions of one fails)."""
    wanted = {canonical(p.split('==')[0]): p.split('==')[1] for p in pins}
    return sorted(
        w for w in glob.glob(osp.join(folder, '*.whl'))
        if wheel_name(w) in wanted
        and osp.basename(w).split('-')[1] != wanted[wheel_name(w)])


def download_wheels(folder: str, device_python: str = DEVICE_PYTHON) -> Dict:
    """The wheels of :data:`CARRIED` at this environment's versions into
    ``folder`` (other versions of them removed); what was asked for, what
    is there and pip's output."""
    os.makedirs(folder, exist_ok=True)
    pins = pinned()
    removed = stale(folder, pins)
    for path in removed:
        os.remove(path)
    result = run_process(
        download_command(folder, device_python, pins), capture=True)
    wheels = sorted(
        osp.basename(w) for w in glob.glob(osp.join(folder, '*.whl')))
    return dict(
        status='passed' if result.ok else 'failed',
        requirements=pins,
        wheels=wheels,
        removed=[osp.basename(w) for w in removed],
        megabytes=round(
            sum(osp.getsize(osp.join(folder, w)) for w in wheels) / 2**20, 1),
        output=result.output[-4000:])
