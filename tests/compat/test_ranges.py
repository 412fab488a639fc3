"""Each compatibility patch is on only in the upstream version range that
has its breakage, and off (not applied) outside it."""
import pytest

import hman_mmaction.compat as compat
from hman_mmaction.compat import package_metadata, ranges

IN_RANGE = {
    'torch': '2.6.0',
    'mmengine': '0.10.7',
    'mmaction2': '1.2.0',
    'setuptools': '82.0.0',
    'transformers': '5.0.0',
    'mmcv-lite': '2.1.0',
}


@pytest.fixture
def versions(monkeypatch):
    """Fake installed versions (start: every patch in range)."""
    installed = dict(IN_RANGE)
    monkeypatch.setattr(ranges, 'installed_version', installed.get)
    monkeypatch.setattr(package_metadata, 'installed_version', installed.get)
    for name, patch in compat.PATCHES.items():
        monkeypatch.setitem(compat.PATCHES, name, patch._replace(needed=None))
    monkeypatch.delenv('HMAN_COMPAT_DISABLE', raising=False)
    return installed


def test_every_patch_states_its_range_and_upstream_reference():
    for name, patch in compat.PATCHES.items():
        assert patch.requires and patch.upstream, name


def test_every_patch_is_on_inside_its_range(versions):
    assert all(compat.off_reason(name) is None for name in compat.PATCHES)


@pytest.mark.parametrize('distribution, version, off', [
    ('torch', '2.3.1', {'checkpoint_globals', 'weights_only_loader'}),
    ('mmengine', '0.11.0', {
        'pkg_resources', 'checkpoint_globals', 'weights_only_loader',
        'cpu_launcher'
    }),
    ('mmaction2', '1.2.1', {'drn'}),
    ('mmaction2', '1.3.0', {'drn', 'importlib_metadata', 'multimodal'}),
    ('transformers', '4.27.0', {'multimodal'}),
    ('mmcv-lite', '2.3.0', {'mmcv_lite_warning'}),
])
def test_patches_are_off_outside_their_range(versions, distribution, version,
                                             off):
    versions[distribution] = version
    reasons = {name: compat.off_reason(name) for name in compat.PATCHES}
    assert {name for name, reason in reasons.items() if reason} == off
    for name in off:
        assert f'{distribution} {version} is outside' in reasons[name]


def test_apply_all_skips_the_patches_out_of_range(versions, monkeypatch):
    applied = []
    for name, patch in compat.PATCHES.items():
        monkeypatch.setitem(
            compat.PATCHES, name,
            patch._replace(apply=lambda name=name: applied.append(name)))
    versions['mmengine'] = '0.11.0'
    versions['mmaction2'] = '1.3.0'
    versions['mmcv-lite'] = '2.3.0'
    assert compat.apply_all() == {}
    assert applied == []
    versions.update(IN_RANGE)
    assert set(compat.apply_all()) == set(compat.PATCHES)
    assert sorted(applied) == sorted(compat.PATCHES)


def test_disabled_patch_is_off_whatever_the_versions(versions, monkeypatch):
    monkeypatch.setenv('HMAN_COMPAT_DISABLE', 'cpu_launcher')
    assert compat.off_reason('cpu_launcher') == \
        'disabled by HMAN_COMPAT_DISABLE'
    assert compat.patch_status()['drn'] == 'on'


def test_pkg_resources_patch_needs_a_setuptools_that_deprecates_it(versions):
    versions['setuptools'] = '60.0.0'  # still ships pkg_resources quietly
    assert not package_metadata.pkg_resources_unusable()
    versions['setuptools'] = '80.9.0'  # warns on import
    assert package_metadata.pkg_resources_unusable()
    del versions['setuptools']  # no setuptools: no pkg_resources
    assert package_metadata.pkg_resources_unusable()


def test_out_of_range_names_the_missing_or_unreadable_version(monkeypatch):
    monkeypatch.setattr(ranges, 'installed_version', {
        'a': 'x.y',
        'b': '1.0'
    }.get)
    assert ranges.out_of_range({'b': '>=1'}) is None
    assert ranges.out_of_range({'c': '>=1'}) == 'c is not installed'
    assert 'unreadable version' in ranges.out_of_range({'a': '>=1'})
