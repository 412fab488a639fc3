"""Every model of configs/metafile.yml (read by ``mim``) names an existing
config."""
import os.path as osp

import yaml

from tests.helpers import REPO


def load_metafile():
    with open(osp.join(REPO, 'configs', 'metafile.yml')) as f:
        return yaml.safe_load(f)


def test_every_metafile_model_names_an_existing_config():
    models = load_metafile()['Models']
    assert len(models) >= 10
    for model in models:
        assert osp.isfile(osp.join(REPO, model['Config'])), model['Name']
