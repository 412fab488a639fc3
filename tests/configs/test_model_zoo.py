"""configs/metafile.yml and the tables of configs/README.md say the same:
every metafile model names an existing config, and every synthetic-data
result in the metafile is the figure of its row in the README table."""
import os.path as osp
import re

import yaml

from tests.helpers import REPO


def load_metafile():
    with open(osp.join(REPO, 'configs', 'metafile.yml')) as f:
        return yaml.safe_load(f)


def readme_rows():
    """``{config path: {'top1': str, 'order': str}}`` from the synthetic
    table of configs/README.md (the means of "mean ± std")."""
    with open(osp.join(REPO, 'configs', 'README.md')) as f:
        text = f.read()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if len(cells) != 11 or '±' not in cells[5]:
            continue
        config = re.search(r'\(\.\./(.+?)\)', cells[8]).group(1)
        rows[config] = dict(
            top1=cells[5].split('±')[0].strip(),
            order=cells[6].split('±')[0].strip())
    return rows


def test_every_metafile_model_names_an_existing_config():
    models = load_metafile()['Models']
    assert len(models) >= 10
    for model in models:
        assert osp.isfile(osp.join(REPO, model['Config'])), model['Name']


def test_synthetic_results_match_the_readme_table():
    rows = readme_rows()
    synthetic = [m for m in load_metafile()['Models'] if 'Results' in m]
    assert len(synthetic) == 4 and len(rows) == 4
    for model in synthetic:
        metrics = model['Results'][0]['Metrics']
        row = rows[model['Config']]
        assert f'{metrics["Top 1 Accuracy"]:.1f}' == row['top1'], model
        assert f'{metrics["Order Accuracy"]:.1f}' == row['order'], model
