"""Version ranges: a compatibility patch is on only where the installed
upstream packages are in the range known to have the breakage."""
from importlib import metadata
from typing import Dict, Optional

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version


def installed_version(distribution: str) -> Optional[str]:
    """The installed version of ``distribution`` or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def out_of_range(requires: Dict[str, str]) -> Optional[str]:
    """None if every distribution of ``requires`` (``{name: specifier}``,
    e.g. ``{'torch': '>=2.6'}``) is installed in its range, else why not."""
    for distribution, specifier in requires.items():
        version = installed_version(distribution)
        if version is None:
            return f'{distribution} is not installed'
        try:
            inside = SpecifierSet(specifier).contains(
                Version(version), prereleases=True)
        except InvalidVersion:
            return f'{distribution} has an unreadable version {version!r}'
        if not inside:
            return f'{distribution} {version} is outside {specifier}'
    return None
